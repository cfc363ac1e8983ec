package mailq

import (
	"path/filepath"
	"strings"

	"github.com/hostfix/hostfix/pkg/plan"

	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// Config keys of the stop and start commands.
const (
	StopKey  = "mailq.stop_command"
	StartKey = "mailq.start_command"
)

// Control is how qmail-send is stopped and started.
type Control struct {
	// Stop and Start are the commands; Detected when found in the tree (not run under
	// --root), empty when neither configured nor found (the plan shows them as not set).
	Stop, Start plan.Argv
	// How says where the commands came from ("config", "qmailctl", "daemontools", …, or
	// "not found").
	How string
}

// DetectControl returns the configured stop/start commands, or detects them from files
// under --root, in this order: qmailctl (on PATH or /var/qmail/bin), daemontools
// (/service/qmail-send or /etc/service/qmail-send), systemd (a qmail.service unit), the
// init script /etc/init.d/qmail. path is $PATH; its directories are looked at under --root.
// Nothing found is not an error: the commands are then empty (not set), so a dry-run still
// shows the whole purge and apply refuses naming mailq.stop_command. Only one of the two
// configured is bad usage.
func DetectControl(h *system.Host, cfg Config, path string) (Control, error) {
	switch {
	case len(cfg.StopCommand) > 0 && len(cfg.StartCommand) > 0:
		return Control{Stop: plan.Configured(StopKey, cfg.StopCommand), Start: plan.Configured(StartKey, cfg.StartCommand), How: "config"}, nil
	case len(cfg.StopCommand) > 0 || len(cfg.StartCommand) > 0:
		return Control{}, usage.Errorf("mailq: set both mailq.stop_command and mailq.start_command (only one is set): hostfix must be able to start qmail again after stopping it")
	}
	found := func(how string, stop, start []string) Control {
		return Control{Stop: plan.Detected(StopKey, stop), Start: plan.Detected(StartKey, start), How: how}
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
			return found("qmailctl", []string{p, "stop"}, []string{p, "start"}), nil
		}
	}
	for _, svc := range []string{"/service/qmail-send", "/etc/service/qmail-send"} {
		if isDir(svc) {
			return found("daemontools", []string{"svc", "-d", svc}, []string{"svc", "-u", svc}), nil
		}
	}
	for _, d := range []string{"/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"} {
		for _, unit := range []string{"qmail.service", "qmail-send.service"} {
			if h.Exists(filepath.Join(d, unit)) {
				name := strings.TrimSuffix(unit, ".service")
				return found("systemd", []string{"systemctl", "stop", name}, []string{"systemctl", "start", name}), nil
			}
		}
	}
	if isExec("/etc/init.d/qmail") {
		return found("init script", []string{"/etc/init.d/qmail", "stop"}, []string{"/etc/init.d/qmail", "start"}), nil
	}
	return Control{Stop: plan.Argv{Key: StopKey}, Start: plan.Argv{Key: StartKey}, How: "not found"}, nil
}
