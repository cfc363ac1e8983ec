package smtpport

import (
	"io"
	"strings"

	"github.com/hostfix/hostfix/pkg/system"
)

// logTail returns "; <server> logged: …" with the last lines the server wrote, for a failed
// banner check, or "" when there is no log to quote.
func logTail(h *system.Host, cfg Config, mode string) string {
	files := []string{cfg.LogFile}
	want := "xinetd"
	if mode == ModePostfix {
		want = "postfix"
	}
	if cfg.LogFile == "" {
		switch mode {
		case ModeXinetd:
			files = nil
			if b, err := h.ReadFile("/etc/xinetd.conf"); err == nil {
				if xf, err := ParseXinetd(b); err == nil {
					for _, d := range xf.Defaults {
						if v, _ := d.Get("log_type"); len(v) >= 2 && v[0] == "FILE" {
							files = append(files, v[1])
						}
					}
				}
			}
			files = append(files, "/var/log/syslog", "/var/log/messages")
		default:
			files = []string{"/var/log/mail.log", "/var/log/maillog", "/var/log/syslog"}
		}
	}
	for _, f := range files {
		lines := tailLines(h, f, 16<<10)
		if lines == nil {
			continue
		}
		var keep []string
		for _, l := range lines {
			if cfg.LogFile != "" || strings.Contains(l, want) {
				keep = append(keep, strings.TrimSpace(l))
			}
		}
		if len(keep) > 3 {
			keep = keep[len(keep)-3:]
		}
		if len(keep) > 0 {
			return "; " + f + " says: " + strings.Join(keep, " | ")
		}
	}
	return ""
}

// tailLines reads the complete lines of the last n bytes of a file.
func tailLines(h *system.Host, file string, n int64) []string {
	f, err := h.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	off := fi.Size() - n
	if off < 0 {
		off = 0
	}
	buf := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
		return nil
	}
	s := string(buf)
	if off > 0 {
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
	}
	return splitLines([]byte(s))
}
