package exim

import (
	"bytes"
	"hash/maphash"
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

// MaxDistinct bounds the distinct accounts counted per IP (and IPs per account): enough
// to see brute force, small enough to live in the Source itself (a set of hashes, no map
// per IP, no pointer chasing on the hot path). A Distinct of MaxDistinct reads "at least".
const MaxDistinct = 16

// Source is the tally of one IP or one account.
type Source struct {
	Key         string
	Count       int
	ServiceAuth int // of Count, service-auth failures
	First, Last int64
	// Distinct is the number of different accounts this IP tried, or of IPs that tried
	// this account, up to MaxDistinct.
	Distinct int
	others   [MaxDistinct]uint32 // hashes of those accounts or IPs
}

// other records the hash of an account (for an IP) or an IP (for an account).
func (s *Source) other(h uint32) {
	for _, o := range s.others[:s.Distinct] {
		if o == h {
			return
		}
	}
	if s.Distinct < MaxDistinct {
		s.others[s.Distinct] = h
		s.Distinct++
	}
}

func (s *Source) seen(t int64, service bool) {
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
}

// Tally aggregates what Scan finds. Since (unix seconds, 0 = no limit) drops older lines.
type Tally struct {
	Since    int64
	NoLogins bool // do not look for A= receptions (faster when only failures matter)

	Bytes     int64
	LongLines int

	Failures    int // 535 failures in the window
	ServiceAuth int
	Account     int
	OtherCodes  map[int]int // non-535 authenticator failures (435 internal error, 501 cancelled…)
	OutOfWindow int         // failures older than Since
	First, Last int64
	ByAuth      map[string]*AuthCount
	Services    map[string]int // service-auth failures per cPanel service (exim, …)
	// IPs, Accounts and LoginAccounts are keyed by a 64-bit hash of the key (Source.Key
	// holds it): a uint64 map lookup with no string compare is what the hot path can
	// afford per failure, and the same hash feeds the distinct counts. A collision among
	// even a million keys has odds below 1e-7; it would merge two rows.
	IPs           map[uint64]*Source
	Accounts      map[uint64]*Source
	Logins        int
	LoginAccounts map[uint64]*Source
	Dropped       int // failures whose new IP or account did not fit in maxKeys

	lastService int64 // newest service-auth failure

	seed     maphash.Seed
	lastAuth []byte
	lastAC   *AuthCount

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
		IPs:           map[uint64]*Source{},
		Accounts:      map[uint64]*Source{},
		LoginAccounts: map[uint64]*Source{},
		zone:          NewZone(loc),
		seed:          maphash.MakeSeed(),
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
	ac := t.lastAC
	if ac == nil || !bytes.Equal(t.lastAuth, f.Authenticator) {
		ac = t.ByAuth[string(f.Authenticator)]
		if ac == nil {
			ac = &AuthCount{}
			t.ByAuth[string(f.Authenticator)] = ac
		}
		t.lastAC, t.lastAuth = ac, append(t.lastAuth[:0], f.Authenticator...)
	}
	if service {
		t.ServiceAuth++
		if f.Time > t.lastService {
			t.lastService = f.Time
		}
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
	hi, ha := maphash.Bytes(t.seed, ip), maphash.Bytes(t.seed, account)
	dropped := false
	si := lookup(t.IPs, hi, ip, &dropped)
	sa := lookup(t.Accounts, ha, account, &dropped)
	if dropped {
		t.Dropped++
	}
	if si != nil {
		si.seen(f.Time, service)
	}
	if sa != nil {
		sa.seen(f.Time, service)
	}
	if si != nil && sa != nil {
		si.other(uint32(ha))
		sa.other(uint32(hi))
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
	if s := lookup(t.LoginAccounts, maphash.Bytes(t.seed, id), id, &dropped); s != nil {
		s.seen(l.Time, false)
	}
}

func lookup(m map[uint64]*Source, h uint64, key []byte, dropped *bool) *Source {
	if s, ok := m[h]; ok {
		return s
	}
	if len(m) >= maxKeys {
		*dropped = true
		return nil
	}
	s := &Source{Key: string(key)}
	m[h] = s
	return s
}

// Source returns the tally of one key of m (IPs, Accounts or LoginAccounts), or nil.
func (t *Tally) Source(m map[uint64]*Source, key string) *Source {
	return m[maphash.String(t.seed, key)]
}

// Top returns the n biggest sources, most failures first (ties by key).
func Top(m map[uint64]*Source, n int) []*Source {
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

// fork returns an empty tally with t's settings, for one scanning goroutine.
func (t *Tally) fork() *Tally {
	w := NewTally(time.Time{}, t.zone.loc)
	w.Since, w.NoLogins, w.seed = t.Since, t.NoLogins, t.seed
	return w
}

// merge adds w's counts into t.
func (t *Tally) merge(w *Tally) {
	t.LongLines += w.LongLines
	t.Failures += w.Failures
	t.ServiceAuth += w.ServiceAuth
	t.Account += w.Account
	t.OutOfWindow += w.OutOfWindow
	t.Logins += w.Logins
	t.Dropped += w.Dropped
	t.First, t.Last = span(t.First, t.Last, w.First, w.Last)
	t.lastService = max(t.lastService, w.lastService)
	for k, v := range w.OtherCodes {
		t.OtherCodes[k] += v
	}
	for k, v := range w.Services {
		t.Services[k] += v
	}
	for k, v := range w.ByAuth {
		a := t.ByAuth[k]
		if a == nil {
			a = &AuthCount{}
			t.ByAuth[k] = a
		}
		a.ServiceAuth += v.ServiceAuth
		a.Account += v.Account
	}
	for _, m := range [...]struct{ dst, src map[uint64]*Source }{{t.IPs, w.IPs}, {t.Accounts, w.Accounts}, {t.LoginAccounts, w.LoginAccounts}} {
		for k, v := range m.src {
			d := m.dst[k]
			if d == nil {
				if len(m.dst) >= maxKeys {
					t.Dropped += v.Count
					continue
				}
				m.dst[k] = v
				continue
			}
			d.Count += v.Count
			d.ServiceAuth += v.ServiceAuth
			d.First, d.Last = span(d.First, d.Last, v.First, v.Last)
			for _, h := range v.others[:v.Distinct] {
				d.other(h)
			}
		}
	}
}

// span joins two [first, last] ranges where 0 means unknown.
func span(f1, l1, f2, l2 int64) (int64, int64) {
	if f1 == 0 || (f2 != 0 && f2 < f1) {
		f1 = f2
	}
	if l2 > l1 {
		l1 = l2
	}
	return f1, l1
}
