package exim

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// Paths of cPanel's service auth (see docs/exim.md).
const (
	CpanelDir      = "/usr/local/cpanel"
	ServiceAuthDir = "/var/cpanel/serviceauth/exim"
	KeySize        = 16
	restartCpsrvd  = "/usr/local/cpanel/scripts/restartsrv_cpsrvd"
	restartExim    = "/usr/local/cpanel/scripts/restartsrv_exim"
	initCpanel     = "/etc/rc.d/init.d/cpanel"
)

// ResetOptions say how auth-reset plans.
type ResetOptions struct {
	Config Config
	// Force resets even when the logs show no service-auth failure since the keys were
	// written (or no log can be read).
	Force bool
	Check CheckOptions
	// Poll is how often the verify step looks for the new keys (default 250ms).
	Poll time.Duration
}

// ResetInfo is what the plan was based on, for the command's messages.
type ResetInfo struct {
	Report  *Report // nil when no log could be read (with Force)
	KeysAt  time.Time
	Failing int // service-auth failures after the keys were written
}

// Commands returns the two restart commands: configured, detected in the tree, or not set.
func Commands(h *system.Host, cfg Config) (cpanel, exim plan.Argv) {
	isExec := func(p string) bool {
		fi, err := h.Stat(p)
		return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
	}
	cpanel = plan.Argv{Key: "exim.restart_cpanel_command"}
	switch {
	case len(cfg.RestartCpanelCommand) > 0:
		cpanel = plan.Configured(cpanel.Key, cfg.RestartCpanelCommand)
	case isExec(restartCpsrvd):
		cpanel = plan.Detected(cpanel.Key, []string{restartCpsrvd})
	case isExec(initCpanel):
		cpanel = plan.Detected(cpanel.Key, []string{initCpanel, "restart"})
	}
	exim = plan.Argv{Key: "exim.restart_exim_command"}
	switch {
	case len(cfg.RestartEximCommand) > 0:
		exim = plan.Configured(exim.Key, cfg.RestartEximCommand)
	case isExec(restartExim):
		exim = plan.Detected(exim.Key, []string{restartExim})
	}
	return cpanel, exim
}

// PlanReset plans removing cPanel's Exim service-auth keys and having cPanel write new
// ones: refused (usage error, exit 2) on a host without /usr/local/cpanel, and, unless
// Force, when the logs show no service-auth failure after the current keys were written —
// which is also what makes a second run "nothing to do".
func PlanReset(ctx context.Context, h *system.Host, o ResetOptions) (*plan.Plan, *ResetInfo, error) {
	if fi, err := h.Stat(CpanelDir); err != nil || !fi.IsDir() {
		return nil, nil, usage.Errorf("exim auth-reset: not a cPanel host (no %s directory): the reset is for cPanel's Exim service auth only; nothing changed", CpanelDir)
	}
	info := &ResetInfo{}
	keys := ReadKeys(h)
	info.KeysAt = keys.Written
	o.Check.Config = o.Config
	o.Check.NoLogins = true
	rep, err := AuthCheck(ctx, h, o.Check)
	var nl *NoLogError
	switch {
	case err == nil:
		info.Report = rep
	case errors.As(err, &nl) && o.Force:
		rep = nil
	case errors.As(err, &nl):
		return nil, info, usage.Errorf("exim auth-reset: cannot tell whether the reset would help: %s; pass --force to reset anyway", strings.TrimPrefix(err.Error(), "exim: "))
	default:
		return nil, info, err
	}
	p := plan.New("exim auth-reset")
	if rep != nil {
		info.Failing = rep.Tally.ServiceAuth
		window := "in the whole log"
		if !rep.Since.IsZero() {
			window = "in the last " + fmtDur(rep.Now.Sub(rep.Since))
		}
		last := time.Unix(rep.Tally.lastService, 0)
		switch {
		case rep.Tally.ServiceAuth == 0 && !o.Force:
			return nil, info, usage.Errorf("exim auth-reset: no cPanel service-auth failures %s (%s on accounts: wrong passwords or brute force): the reset will not help; see hostfix exim auth-check, or pass --force to reset anyway",
				window, plural(rep.Tally.Account, "failure"))
		case rep.Tally.ServiceAuth > 0 && keys.Complete() && !keys.Written.IsZero() && !last.After(keys.Written) && !o.Force:
			p.Note(fmt.Sprintf("the keys in %s were written at %s, after the last service-auth failure (%s): already reset; --force resets again",
				ServiceAuthDir, keys.Written.In(rep.loc).Format(time.RFC3339), last.In(rep.loc).Format(time.RFC3339)))
			return p, info, nil
		case rep.Tally.ServiceAuth > 0:
			p.Note(fmt.Sprintf("%s of cPanel's service login %s, the last at %s: the keys are out of sync",
				plural(rep.Tally.ServiceAuth, "failure"), window, last.In(rep.loc).Format(time.RFC3339)))
		default:
			p.Note("--force: no service-auth failures " + window + "; resetting anyway")
		}
	} else {
		p.Note("--force: no Exim main log to read; resetting without evidence of a desync")
	}

	cpanel, exim := Commands(h, o.Config)
	notify := []string{"restart-cpanel"}
	if len(exim.Args) > 0 {
		notify = append(notify, "restart-exim")
	} else {
		p.Note("no Exim restart: exim.restart_exim_command is not set and " + restartExim + " is not there")
	}
	a, err := plan.RemoveDir(h, ServiceAuthDir, plan.RemoveDirOptions{
		Detail: "cPanel's Exim service-auth keys (send, recv); cPanel writes new ones when restarted",
		Secret: true,
		Notify: notify,
	})
	if err != nil {
		return nil, info, err
	}
	if a != nil {
		p.Add(a)
		p.Handle("restart-cpanel", cpanel, "restart cPanel (cpsrvd) so it writes new service-auth keys: "+cpanel.String())
		if len(exim.Args) > 0 {
			p.Handle("restart-exim", exim, "restart Exim so it uses the new keys: "+exim.String())
		}
	} else {
		// no keys at all: nothing to remove, but cPanel still has to write them
		p.Note(ServiceAuthDir + " does not exist: restarting cPanel so it writes the keys")
		p.Add(plan.Command(cpanel, "restart cPanel (cpsrvd) so it writes the service-auth keys"))
		if len(exim.Args) > 0 {
			p.Add(plan.Command(exim, "restart Exim so it uses the new keys"))
		}
	}
	wait := o.Config.KeyWait
	poll := o.Poll
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	p.Verify(fmt.Sprintf("wait up to %s for new %d-byte send and recv keys in %s", wait, KeySize, ServiceAuthDir), func(ctx context.Context, r *plan.Run) error {
		return WaitKeys(ctx, r.Host, wait, poll, r.Logf)
	})
	return p, info, nil
}

// Keys is the state of /var/cpanel/serviceauth/exim (never the keys' contents).
type Keys struct {
	DirExists bool
	DirMode   fs.FileMode
	UID, GID  int
	Send      int64 // size; -1 missing, -2 not a regular file
	Recv      int64
	Written   time.Time // newest mtime of send and recv
}

// Complete reports whether both keys are there with the right size.
func (k Keys) Complete() bool { return k.DirExists && k.Send == KeySize && k.Recv == KeySize }

// String says what was found, for an error.
func (k Keys) String() string {
	if !k.DirExists {
		return ServiceAuthDir + " does not exist"
	}
	size := func(n int64) string {
		switch n {
		case -1:
			return "missing"
		case -2:
			return "not a regular file"
		}
		return plural(int(n), "byte")
	}
	return fmt.Sprintf("send %s, recv %s (want %d bytes each)", size(k.Send), size(k.Recv), KeySize)
}

// ReadKeys looks at the key directory without reading the keys.
func ReadKeys(h *system.Host) Keys {
	k := Keys{Send: -1, Recv: -1, UID: -1, GID: -1}
	fi, err := h.Lstat(ServiceAuthDir)
	if err != nil || !fi.IsDir() {
		return k
	}
	k.DirExists = true
	k.DirMode = fi.Mode().Perm()
	k.UID, k.GID = owner(fi)
	for _, f := range []struct {
		name string
		dst  *int64
	}{{"send", &k.Send}, {"recv", &k.Recv}} {
		fi, err := h.Lstat(path.Join(ServiceAuthDir, f.name))
		switch {
		case err != nil:
		case !fi.Mode().IsRegular():
			*f.dst = -2
		default:
			*f.dst = fi.Size()
			if fi.ModTime().After(k.Written) {
				k.Written = fi.ModTime()
			}
		}
	}
	return k
}

// Warnings lists how the directory differs from cPanel's usual 0750 root:mail.
func (k Keys) Warnings(h *system.Host) []string {
	if !k.DirExists {
		return nil
	}
	var w []string
	if k.DirMode != 0o750 {
		w = append(w, fmt.Sprintf("%s has mode %04o, cPanel's usual is 0750", ServiceAuthDir, k.DirMode))
	}
	mail := groupID(h, "mail")
	if k.UID != 0 || (mail >= 0 && k.GID != mail) {
		w = append(w, fmt.Sprintf("%s is owned by %d:%d, cPanel's usual is root:mail (0:%d)", ServiceAuthDir, k.UID, k.GID, mail))
	}
	return w
}

// groupID reads a group's id from the host's /etc/group; -1 when unknown.
func groupID(h *system.Host, name string) int {
	b, err := h.ReadFile("/etc/group")
	if err != nil {
		return -1
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) >= 3 && f[0] == name {
			if id, err := strconv.Atoi(f[2]); err == nil {
				return id
			}
		}
	}
	return -1
}

// WaitKeys waits up to wait for both keys to be back with the right size; on timeout the
// error says what was found. Mode and owner differences are only logged (warnings).
func WaitKeys(ctx context.Context, h *system.Host, wait, poll time.Duration, logf func(string, ...any)) error {
	deadline := time.Now().Add(wait)
	for {
		k := ReadKeys(h)
		if k.Complete() {
			for _, w := range k.Warnings(h) {
				logf("warning: %s", w)
			}
			return nil
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("cPanel did not write new keys within %s (exim.key_wait): %s; check that the restart commands ran (cpsrvd writes them), then run auth-reset again", wait, k)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(poll, time.Until(deadline)+time.Millisecond)):
		}
	}
}
