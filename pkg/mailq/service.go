package mailq

import (
	"path/filepath"
	"strings"

	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// Control is how qmail-send is stopped and started.
type Control struct {
	Stop, Start []string
	// How says where the commands came from ("config", "qmailctl", "daemontools", …).
	How string
}

// DetectControl returns the configured stop/start commands, or detects them from files
// under --root, in this order: qmailctl (on PATH or /var/qmail/bin), daemontools
// (/service/qmail-send or /etc/service/qmail-send), systemd (a qmail.service unit), the
// init script /etc/init.d/qmail. path is $PATH; its directories are looked at under --root.
func DetectControl(h *system.Host, cfg Config, path string) (Control, error) {
	switch {
	case len(cfg.StopCommand) > 0 && len(cfg.StartCommand) > 0:
		return Control{Stop: cfg.StopCommand, Start: cfg.StartCommand, How: "config"}, nil
	case len(cfg.StopCommand) > 0 || len(cfg.StartCommand) > 0:
		return Control{}, usage.Errorf("mailq: set both mailq.stop_command and mailq.start_command (only one is set): hostfix must be able to start qmail again after stopping it")
	}
	isExec := func(p string) bool {
		fi, err := h.Stat(p)
		return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
	}
	isDir := func(p string) bool {
		fi, err := h.Stat(p)
		return err == nil && fi.IsDir()
	}
	var dirs []string
	for _, d := range strings.Split(path, ":") {
		if filepath.IsAbs(d) {
			dirs = append(dirs, d)
		}
	}
	dirs = append(dirs, "/var/qmail/bin", "/usr/local/bin", "/usr/bin", "/usr/sbin")
	for _, d := range dirs {
		p := filepath.Join(d, "qmailctl")
		if isExec(p) {
			return Control{Stop: []string{p, "stop"}, Start: []string{p, "start"}, How: "qmailctl"}, nil
		}
	}
	for _, svc := range []string{"/service/qmail-send", "/etc/service/qmail-send"} {
		if isDir(svc) {
			return Control{Stop: []string{"svc", "-d", svc}, Start: []string{"svc", "-u", svc}, How: "daemontools"}, nil
		}
	}
	for _, d := range []string{"/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"} {
		for _, unit := range []string{"qmail.service", "qmail-send.service"} {
			if h.Exists(filepath.Join(d, unit)) {
				name := strings.TrimSuffix(unit, ".service")
				return Control{Stop: []string{"systemctl", "stop", name}, Start: []string{"systemctl", "start", name}, How: "systemd"}, nil
			}
		}
	}
	if isExec("/etc/init.d/qmail") {
		return Control{Stop: []string{"/etc/init.d/qmail", "stop"}, Start: []string{"/etc/init.d/qmail", "start"}, How: "init script"}, nil
	}
	return Control{}, usage.Errorf("mailq: cannot tell how to stop qmail-send (no qmailctl, /service/qmail-send, qmail.service or /etc/init.d/qmail found): set mailq.stop_command and mailq.start_command, e.g. [svc, -d, /service/qmail-send] and [svc, -u, /service/qmail-send]")
}
