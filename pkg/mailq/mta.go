package mailq

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// The mail systems mailq knows.
const (
	MTAQmail   = "qmail"
	MTAExim    = "exim"
	MTAPostfix = "postfix"
)

// Source is one MTA's queue as mailq reads it: list, stats and the selection of purge,
// --hold and flush work on any of them.
type Source interface {
	// MTA is "qmail", "exim" or "postfix".
	MTA() string
	// Location is the queue directory (or Postfix's queue_directory) as a system path.
	Location() string
	String() string
	// Scan streams every message to fn from one goroutine.
	Scan(ctx context.Context, o ScanOptions, fn func(*Message) error) error
	// openMessage returns the message as RFC 5322 text (headers, blank line, body).
	openMessage(m *Message) (io.ReadCloser, error)
}

// MTA names the mail system.
func (q *Queue) MTA() string { return MTAQmail }

// Location is the queue directory.
func (q *Queue) Location() string { return q.Dir }

// openMessage opens mess/<n>/<id> (the message as qmail-queue wrote it).
func (q *Queue) openMessage(m *Message) (io.ReadCloser, error) {
	for _, f := range m.Files {
		if f.Slot == SlotMess && f.Regular {
			return openNoFollow(q.root + "/" + f.Rel)
		}
	}
	return nil, fmt.Errorf("message %s has no mess/ file", m.ID)
}

// OpenOptions say which queue OpenSource opens.
type OpenOptions struct {
	Config Config
	// MTA overrides Config.MTA (--mta): auto, qmail, exim or postfix.
	MTA string
	// Path is $PATH, to detect commands (looked at under --root).
	Path string
}

// OpenSource opens the queue of the chosen MTA, or with "auto" of the one MTA that owns a
// queue on this host (see DetectMTA).
func OpenSource(h *system.Host, o OpenOptions) (Source, error) {
	mta := o.MTA
	if mta == "" {
		mta = o.Config.MTA
	}
	if mta == "" || mta == "auto" {
		var err error
		if mta, err = DetectMTA(h, o.Config); err != nil {
			return nil, err
		}
	}
	switch mta {
	case MTAQmail:
		return Open(h, o.Config.Queue)
	case MTAExim:
		return OpenExim(h, o.Config.EximSpool)
	case MTAPostfix:
		return OpenPostfix(h, o.Config, o.Path)
	}
	return nil, usage.Errorf("--mta %q: want auto, qmail, exim or postfix", mta)
}

// DetectMTA says which MTA owns a queue on the host (under --root: in the tree): the only
// one with a queue directory; with several, the one /usr/sbin/sendmail leads to (qmail's
// and Exim's sendmail are symlinks to their binaries, Postfix's is its own program).
// No queue at all is qmail (Open then says what is missing); several that sendmail does
// not decide between are a usage error asking for --mta.
func DetectMTA(h *system.Host, cfg Config) (string, error) {
	var found []string
	where := map[string]string{}
	if q := cfg.Queue; q != "" && isDirAt(h, q+"/mess") && isDirAt(h, q+"/info") {
		found = append(found, MTAQmail)
		where[MTAQmail] = q
	}
	spools := EximSpools
	if cfg.EximSpool != "" {
		spools = []string{cfg.EximSpool}
	}
	for _, d := range spools {
		if isDirAt(h, d) {
			found = append(found, MTAExim)
			where[MTAExim] = d
			break
		}
	}
	pq := postfixQueueDir(cfg)
	if isDirAt(h, pq+"/deferred") || isDirAt(h, pq+"/maildrop") {
		found = append(found, MTAPostfix)
		where[MTAPostfix] = pq
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		// No queue at all: qmail, the MTA mailq began with, so its errors name what is
		// missing in mailq.queue.
		return MTAQmail, nil
	}
	if real, err := h.Resolve("/usr/sbin/sendmail"); err == nil && h.Exists(real) {
		base := strings.ToLower(real)
		for _, m := range found {
			if strings.Contains(base, m) {
				return m, nil
			}
		}
		if fi, err := h.Lstat(real); err == nil && fi.Mode().IsRegular() && where[MTAPostfix] != "" && !strings.Contains(base, "qmail") && !strings.Contains(base, "exim") {
			return MTAPostfix, nil
		}
	}
	var list []string
	for _, m := range found {
		list = append(list, m+" ("+where[m]+")")
	}
	return "", usage.Errorf("mailq: queues of several MTAs found: %s, and /usr/sbin/sendmail does not say which one is in use: pass --mta (or set mailq.mta)", strings.Join(list, ", "))
}

func isDirAt(h *system.Host, p string) bool {
	fi, err := h.Stat(p)
	return err == nil && fi.IsDir()
}

// findCommand returns the configured argv, or the first of names found as an executable
// on path or in the fallback directories under --root (Detected), or an empty Argv with
// the key (not set).
func findCommand(h *system.Host, key string, configured []string, path string, names ...string) plan.Argv {
	if len(configured) > 0 {
		return plan.Configured(key, configured)
	}
	var dirs []string
	for _, d := range strings.Split(path, ":") {
		if filepath.IsAbs(d) {
			dirs = append(dirs, d)
		}
	}
	dirs = append(dirs, "/usr/sbin", "/usr/local/sbin", "/usr/bin", "/sbin")
	for _, n := range names {
		for _, d := range dirs {
			p := filepath.Join(d, n)
			if fi, err := h.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				return plan.Detected(key, []string{p})
			}
		}
	}
	return plan.Argv{Key: key}
}

// withArgs appends arguments to a command prefix (a copy; an unset command stays unset).
func withArgs(a plan.Argv, args ...string) plan.Argv {
	if len(a.Args) == 0 {
		return a
	}
	a.Args = append(append([]string{}, a.Args...), args...)
	return a
}

// runnable says why a command may not run on h (the --root command rule of pkg/plan, for
// the steps mailq runs itself), or "" when it may.
func runnable(h *system.Host, a plan.Argv) string {
	switch {
	case len(a.Args) == 0:
		return "not set: set " + a.Key
	case a.Detected && !h.Live():
		return "detected " + a.String() + ", not run under --root: set " + a.Key
	}
	return ""
}

// ValidQueueID reports whether s can be a message id of one of the MTAs: a qmail inode
// number, an Exim id, or a Postfix queue id (short hex or long base-52 with a 'z').
func ValidQueueID(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	if ValidEximID(s) {
		return true
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}
