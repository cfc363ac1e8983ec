package exim

import (
	"bytes"
	"sort"
	"time"
)

// ServiceAuthPrefix starts the set_id cPanel's own daemons (chkservd, cpsrvd) log in with;
// the service name and the send key follow: __cpanel__service__auth__exim__<key>.
const ServiceAuthPrefix = "__cpanel__service__auth__"

// Class of an authenticator failure.
const (
	ClassServiceAuth = "service_auth" // cPanel service-auth keys out of sync
	ClassAccount     = "account"      // a mailbox or user with a wrong password
)

// maxKeys bounds each per-IP and per-account map, so that a log of a distributed attack
// (millions of addresses) cannot grow memory without limit; later new keys are only
// counted in Dropped.
const maxKeys = 200_000

// maxSetPerKey bounds the distinct accounts remembered per IP (and IPs per account).
const maxSetPerKey = 1000

// Source is the tally of one IP or one account.
type Source struct {
	Key          string
	Count        int
	ServiceAuth  int // of Count, service-auth failures
	First, Last  int64
	Others       map[string]struct{} // accounts tried by this IP, or IPs that tried this account
	OthersCapped bool
}

func (s *Source) seen(t int64, other []byte, service bool) {
	s.Count++
	if service {
		s.ServiceAuth++
	}
	if t != 0 {
		if s.First == 0 || t < s.First {
			s.First = t
		}
		if t > s.Last {
			s.Last = t
		}
	}
	if other == nil {
		return
	}
	if s.Others == nil {
		s.Others = map[string]struct{}{}
	}
	if _, ok := s.Others[string(other)]; !ok {
		if len(s.Others) >= maxSetPerKey {
			s.OthersCapped = true
			return
		}
		s.Others[string(other)] = struct{}{}
	}
}

// Tally aggregates what Scan finds. Since (unix seconds, 0 = no limit) drops older lines.
type Tally struct {
	Since    int64
	NoLogins bool // do not look for A= receptions (faster when only failures matter)

	Bytes     int64
	LongLines int

	Failures      int // 535 failures in the window
	ServiceAuth   int
	Account       int
	OtherCodes    map[int]int // non-535 authenticator failures (435 internal error, 501 cancelled…)
	OutOfWindow   int         // failures older than Since
	First, Last   int64
	ByAuth        map[string]*AuthCount
	Services      map[string]int // service-auth failures per cPanel service (exim, …)
	IPs           map[string]*Source
	Accounts      map[string]*Source
	Logins        int
	LoginAccounts map[string]*Source
	Dropped       int // failures whose new IP or account did not fit in maxKeys

	zone *Zone
}

// AuthCount is the failures of one authenticator, by class.
type AuthCount struct {
	ServiceAuth, Account int
}

// NewTally starts an empty tally reading timestamps in loc.
func NewTally(since time.Time, loc *time.Location) *Tally {
	t := &Tally{
		OtherCodes:    map[int]int{},
		ByAuth:        map[string]*AuthCount{},
		Services:      map[string]int{},
		IPs:           map[string]*Source{},
		Accounts:      map[string]*Source{},
		LoginAccounts: map[string]*Source{},
		zone:          NewZone(loc),
	}
	if !since.IsZero() {
		t.Since = since.Unix()
	}
	return t
}

// Classify says which class a failure's set_id belongs to and, for service auth, the
// cPanel service and the set_id with its key masked (the key is a secret).
func Classify(setID []byte) (class, service string, masked []byte) {
	if !bytes.HasPrefix(setID, []byte(ServiceAuthPrefix)) {
		return ClassAccount, "", setID
	}
	rest := setID[len(ServiceAuthPrefix):]
	svc := rest
	if i := bytes.Index(rest, []byte("__")); i >= 0 {
		svc = rest[:i]
	}
	return ClassServiceAuth, string(svc), []byte(ServiceAuthPrefix + string(svc) + "__…")
}

// AddFailure counts one parsed failure.
func (t *Tally) AddFailure(f *Failure) {
	if t.Since != 0 && f.Time != 0 && f.Time < t.Since {
		t.OutOfWindow++
		return
	}
	if f.Code != 535 {
		t.OtherCodes[f.Code]++
		return
	}
	t.Failures++
	if f.Time != 0 {
		if t.First == 0 || f.Time < t.First {
			t.First = f.Time
		}
		if f.Time > t.Last {
			t.Last = f.Time
		}
	}
	class, svc, account := Classify(f.SetID)
	service := class == ClassServiceAuth
	ac := t.ByAuth[string(f.Authenticator)]
	if ac == nil {
		ac = &AuthCount{}
		t.ByAuth[string(f.Authenticator)] = ac
	}
	if service {
		t.ServiceAuth++
		ac.ServiceAuth++
		t.Services[svc]++
	} else {
		t.Account++
		ac.Account++
	}
	ip := f.IP
	if len(ip) == 0 {
		ip = []byte("local")
	}
	if !f.HasSetID {
		account = []byte("(no set_id)")
	}
	dropped := false
	if s := lookup(t.IPs, ip, &dropped); s != nil {
		s.seen(f.Time, account, service)
	}
	if s := lookup(t.Accounts, account, &dropped); s != nil {
		s.seen(f.Time, ip, service)
	}
	if dropped {
		t.Dropped++
	}
}

// AddLogin counts one authenticated reception.
func (t *Tally) AddLogin(l *Login) {
	if t.Since != 0 && l.Time != 0 && l.Time < t.Since {
		return
	}
	t.Logins++
	_, _, id := Classify(l.ID)
	var dropped bool
	if s := lookup(t.LoginAccounts, id, &dropped); s != nil {
		s.seen(l.Time, nil, false)
	}
}

func lookup(m map[string]*Source, key []byte, dropped *bool) *Source {
	if s, ok := m[string(key)]; ok {
		return s
	}
	if len(m) >= maxKeys {
		*dropped = true
		return nil
	}
	s := &Source{Key: string(key)}
	m[s.Key] = s
	return s
}

// Top returns the n biggest sources, most failures first (ties by key).
func Top(m map[string]*Source, n int) []*Source {
	out := make([]*Source, 0, len(m))
	for _, s := range m {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Key < out[j].Key
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}
