package mailq

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDetectMTA(t *testing.T) {
	mk := func(root string, dirs ...string) {
		for _, d := range dirs {
			if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	cfg := DefaultConfig()
	for _, c := range []struct {
		name     string
		dirs     []string
		sendmail string // symlink target, "file" for a regular file
		want     string // MTA or "error: …"
	}{
		{"nothing: qmail", nil, "", "qmail"},
		{"qmail", []string{"var/qmail/queue/mess", "var/qmail/queue/info"}, "", "qmail"},
		{"exim cPanel", []string{"var/spool/exim/input"}, "", "exim"},
		{"exim Debian", []string{"var/spool/exim4/input"}, "", "exim"},
		{"postfix", []string{"var/spool/postfix/deferred"}, "", "postfix"},
		{"exim and postfix, sendmail is exim's", []string{"var/spool/exim4/input", "var/spool/postfix/maildrop"}, "/usr/sbin/exim4", "exim"},
		{"exim and postfix, sendmail is postfix's own", []string{"var/spool/exim4/input", "var/spool/postfix/maildrop"}, "file", "postfix"},
		{"qmail and exim, sendmail is qmail's", []string{"var/qmail/queue/mess", "var/qmail/queue/info", "var/spool/exim4/input"}, "/var/qmail/bin/sendmail", "qmail"},
		{"qmail and exim, no sendmail", []string{"var/qmail/queue/mess", "var/qmail/queue/info", "var/spool/exim4/input"}, "", "error: mailq: queues of several MTAs found: qmail (/var/qmail/queue), exim (/var/spool/exim4/input)"},
	} {
		root := t.TempDir()
		mk(root, c.dirs...)
		switch c.sendmail {
		case "":
		case "file":
			mk(root, "usr/sbin")
			os.WriteFile(filepath.Join(root, "usr/sbin/sendmail"), []byte("\x7fELF"), 0o755)
		default:
			mk(root, "usr/sbin", strings.TrimPrefix(filepath.Dir(c.sendmail), "/"))
			os.WriteFile(filepath.Join(root, c.sendmail), []byte("\x7fELF"), 0o755)
			os.Symlink(c.sendmail, filepath.Join(root, "usr/sbin/sendmail"))
		}
		got, err := DetectMTA(hostAt(t, root), cfg)
		if err != nil {
			got = "error: " + err.Error()
		}
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestQmailFlushArgv(t *testing.T) {
	for _, c := range []struct {
		name, file, want string
	}{
		{"qmailctl", "var/qmail/bin/qmailctl", "/var/qmail/bin/qmailctl flush (detected)"},
		{"daemontools", "service/qmail-send/run", "svc -a /service/qmail-send (detected)"},
		{"systemd", "lib/systemd/system/qmail.service", "systemctl kill -s ALRM --kill-who=main qmail (detected)"},
		{"init script only", "etc/init.d/qmail", "(not set)"},
	} {
		root := t.TempDir()
		p := filepath.Join(root, c.file)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755)
		a, _, err := QmailFlushArgv(hostAt(t, root), DefaultConfig(), "")
		got := a.String()
		if a.Detected {
			got += " (detected)"
		}
		if err != nil || got != c.want || a.Key != FlushKey {
			t.Errorf("%s: got %q %v (key %s), want %q", c.name, got, err, a.Key, c.want)
		}
	}
	cfg := DefaultConfig()
	cfg.FlushCommand = []string{"qmailctl", "flush"}
	if a, how, _ := QmailFlushArgv(hostAt(t, t.TempDir()), cfg, ""); a.Detected || how != "config" || a.String() != "qmailctl flush" {
		t.Errorf("configured: %+v %s", a, how)
	}
}
