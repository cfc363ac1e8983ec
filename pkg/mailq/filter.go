package mailq

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hostfix/hostfix/pkg/usage"
)

// Filter selects messages; every set criterion must match (AND).
type Filter struct {
	// All selects every message (purge --all); it cannot be combined with criteria.
	All bool
	// Sender, Recipient and Subject are unanchored Go regular expressions (RE2 syntax);
	// Recipient matches when any recipient, done or not, matches.
	Sender, Recipient, Subject *regexp.Regexp
	// OlderThan selects messages queued longer ago than this.
	OlderThan time.Duration
	// IDs selects these message ids.
	IDs map[string]bool
	// Damaged selects messages with a broken or partial file set.
	Damaged bool
}

// FilterSpec is the raw user input of a Filter.
type FilterSpec struct {
	All       bool
	Sender    string
	Recipient string
	Subject   string
	OlderThan string
	IDs       []string
	Damaged   bool
}

// Compile checks the user's input and builds a Filter; bad input is a usage error naming
// the flag.
func (s FilterSpec) Compile() (Filter, error) {
	var f Filter
	var err error
	re := func(flag, expr string) (*regexp.Regexp, error) {
		if expr == "" {
			return nil, nil
		}
		r, err := regexp.Compile(expr)
		if err != nil {
			return nil, usage.Errorf("--%s %q: not a valid regular expression: %w", flag, usage.Clip(expr), err)
		}
		return r, nil
	}
	if f.Sender, err = re("sender", s.Sender); err != nil {
		return f, err
	}
	if f.Recipient, err = re("recipient", s.Recipient); err != nil {
		return f, err
	}
	if f.Subject, err = re("subject", s.Subject); err != nil {
		return f, err
	}
	if s.OlderThan != "" {
		d, err := ParseAge(s.OlderThan)
		if err != nil {
			return f, usage.Errorf("--older-than %q: %w", usage.Clip(s.OlderThan), err)
		}
		f.OlderThan = d
	}
	for _, arg := range s.IDs {
		for _, id := range strings.Split(arg, ",") {
			id = strings.TrimPrefix(strings.TrimSpace(id), "#")
			if id == "" {
				continue
			}
			if !validID(id) {
				return f, usage.Errorf("--id %q: a qmail message id is a number, or B/ID for files in the wrong split directory (as shown by `hostfix mailq list`)", usage.Clip(id))
			}
			if f.IDs == nil {
				f.IDs = map[string]bool{}
			}
			f.IDs[id] = true
		}
	}
	f.Damaged = s.Damaged
	f.All = s.All
	if f.All && f.HasCriteria() {
		return f, usage.Errorf("--all selects every message: do not combine it with --sender, --recipient, --subject, --older-than, --id or --damaged")
	}
	return f, nil
}

// validID: a qmail id (a number), or "B/ID" (split directory/number), the name list gives
// a file set found in the wrong split directory.
func validID(id string) bool {
	b, n, split := strings.Cut(id, "/")
	if !split {
		n = b
	}
	if _, err := strconv.ParseUint(n, 10, 64); err != nil {
		return false
	}
	if split {
		_, err := strconv.ParseUint(b, 10, 64)
		return err == nil
	}
	return true
}

// HasCriteria reports whether any criterion is set.
func (f Filter) HasCriteria() bool {
	return f.Sender != nil || f.Recipient != nil || f.Subject != nil || f.OlderThan > 0 || len(f.IDs) > 0 || f.Damaged
}

// Needs is what a scan must read to evaluate the filter.
func (f Filter) Needs() ScanOptions {
	return ScanOptions{Envelope: f.Sender != nil || f.Recipient != nil, Headers: f.Subject != nil}
}

// Match reports whether m is selected at time now.
func (f Filter) Match(m *Message, now time.Time) bool {
	if f.All {
		return true
	}
	if f.IDs != nil && !f.IDs[m.ID] {
		return false
	}
	if f.Damaged && !m.IsDamaged() {
		return false
	}
	if f.OlderThan > 0 && (m.Queued.IsZero() || now.Sub(m.Queued) <= f.OlderThan) {
		return false
	}
	if f.Sender != nil && (!m.SenderKnown || !f.Sender.MatchString(m.Sender)) {
		return false
	}
	if f.Recipient != nil {
		hit := false
		for _, r := range m.Recipients {
			if f.Recipient.MatchString(r.Address) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	if f.Subject != nil && !f.Subject.MatchString(m.Subject) {
		return false
	}
	return true
}

// Undecided reports whether the filter cannot tell if m matches: --subject is set, m's
// header part could not be read, and every other criterion matches. Match is false for
// such a message; callers count it rather than skip it in silence (Unreadable).
func (f Filter) Undecided(m *Message, now time.Time) bool {
	if f.All || f.Subject == nil || m.HeaderErr == "" {
		return false
	}
	g := f
	g.Subject = nil
	return g.Match(m, now)
}

// Unreadable collects the messages a filter could not decide about.
type Unreadable struct {
	Count int
	first []string
}

// Add counts m (Filter.Undecided was true for it).
func (u *Unreadable) Add(m *Message) {
	u.Count++
	if len(u.first) < 3 {
		u.first = append(u.first, "#"+m.ID+": "+m.HeaderErr)
	}
}

// String says how many and which: "2 messages could not be read for --subject (#1005:
// mess/1/1005: …; #1007: …)".
func (u *Unreadable) String() string {
	which := strings.Join(u.first, "; ")
	if u.Count > len(u.first) {
		which += fmt.Sprintf("; +%d more", u.Count-len(u.first))
	}
	verb := "messages could"
	if u.Count == 1 {
		verb = "message could"
	}
	return fmt.Sprintf("%d %s not be read for --subject (%s)", u.Count, verb, which)
}

// String describes the filter for notes ("sender =~ spam@, older than 7d").
func (f Filter) String() string {
	if f.All {
		return "all messages"
	}
	var parts []string
	if f.Sender != nil {
		parts = append(parts, "sender =~ "+f.Sender.String())
	}
	if f.Recipient != nil {
		parts = append(parts, "a recipient =~ "+f.Recipient.String())
	}
	if f.Subject != nil {
		parts = append(parts, "subject =~ "+f.Subject.String())
	}
	if f.OlderThan > 0 {
		parts = append(parts, "older than "+FormatAge(f.OlderThan))
	}
	if len(f.IDs) > 0 {
		ids := make([]string, 0, len(f.IDs))
		for id := range f.IDs {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return idLess(ids[i], ids[j]) })
		if len(ids) > 5 {
			ids = append(ids[:5], fmt.Sprintf("… (%d ids)", len(f.IDs)))
		}
		parts = append(parts, "id in "+strings.Join(ids, ","))
	}
	if f.Damaged {
		parts = append(parts, "damaged")
	}
	if len(parts) == 0 {
		return "every message"
	}
	return strings.Join(parts, " and ")
}

// ParseAge parses a duration that also accepts days: 90m, 36h, 7d, 1d12h.
func ParseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseUint(s[:i], 10, 32)
		if err != nil {
			return 0, fmt.Errorf("want a duration such as 90m, 36h or 7d")
		}
		days = time.Duration(n) * 24 * time.Hour
		s = s[i+1:]
	}
	var rest time.Duration
	if s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("want a duration such as 90m, 36h or 7d")
		}
		rest = d
	}
	d := days + rest
	if d <= 0 {
		return 0, fmt.Errorf("want a positive duration such as 90m, 36h or 7d")
	}
	return d, nil
}

// FormatAge prints a duration in days and hours for humans: 3d4h, 5h12m, 42s.
func FormatAge(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d >= 24*time.Hour:
		days := d / (24 * time.Hour)
		h := (d % (24 * time.Hour)) / time.Hour
		if h == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd%dh", days, h)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%dm", d/time.Hour, (d%time.Hour)/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%dm%ds", d/time.Minute, (d%time.Minute)/time.Second)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}
