package mx

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/hostfix/hostfix/pkg/system"
)

// ErrorTexts are what each MTA logs when mail for a domain loops back to this host.
var ErrorTexts = map[string]string{
	CPanel:   "lowest numbered MX record points to local host",
	Exim4:    "lowest numbered MX record points to local host",
	Sendmail: "mail loops back to me",
	Postfix:  "loops back to myself",
}

// MailLogs are the usual logs per MTA, first existing one read.
var MailLogs = map[string][]string{
	CPanel:   {"/var/log/exim_mainlog"},
	Exim4:    {"/var/log/exim4/mainlog"},
	Sendmail: {"/var/log/maillog", "/var/log/mail.log"},
	Postfix:  {"/var/log/mail.log", "/var/log/maillog"},
}

// maxLogTail bounds how much of a big log is read: its last 64 MiB.
const maxLogTail = 64 << 20

// Evidence is what the mail log says per domain: the MTA's error lines that name it.
type Evidence struct {
	Log   string
	Lines map[string][]string // domain -> up to maxEvidence lines (the latest)
	Count map[string]int
}

const maxEvidence = 3

// SearchMailLog reads the mail log once and keeps, per domain in domains, the lines with
// the MTA's error text that name the domain (as user@domain or the bare name). A missing
// log is no evidence, not an error.
func SearchMailLog(h *system.Host, mta, logPath string, domains map[string]bool) (*Evidence, error) {
	ev := &Evidence{Lines: map[string][]string{}, Count: map[string]int{}}
	text := ErrorTexts[mta]
	candidates := MailLogs[mta]
	if logPath != "" {
		candidates = []string{logPath}
	}
	for _, p := range candidates {
		f, err := h.Open(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && logPath == "" {
				continue
			}
			return ev, fmt.Errorf("read mail log %s: %w", p, err)
		}
		defer f.Close()
		ev.Log = p
		if fi, err := f.Stat(); err == nil && fi.Size() > maxLogTail {
			if _, err := f.Seek(fi.Size()-maxLogTail, io.SeekStart); err != nil {
				return ev, fmt.Errorf("read mail log %s: %w", p, err)
			}
		}
		err = scanLog(f, text, domains, ev)
		if err != nil {
			return ev, fmt.Errorf("read mail log %s: %w", p, err)
		}
		return ev, nil
	}
	return ev, nil
}

func scanLog(r io.Reader, text string, domains map[string]bool, ev *Evidence) error {
	lower := strings.ToLower(text)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(strings.ToLower(line), lower) {
			continue
		}
		seen := map[string]bool{}
		for _, tok := range strings.FieldsFunc(strings.ToLower(line), func(r rune) bool {
			return !(r == '.' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z')
		}) {
			tok = strings.Trim(tok, ".")
			if domains[tok] && !seen[tok] {
				seen[tok] = true
				ev.Count[tok]++
				l := append(ev.Lines[tok], line)
				if len(l) > maxEvidence {
					l = l[1:]
				}
				ev.Lines[tok] = l
			}
		}
	}
	return sc.Err()
}
