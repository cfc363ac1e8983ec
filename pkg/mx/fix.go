package mx

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
)

// Config keys of the commands fix runs.
const (
	SendmailRestartKey = "mx.sendmail_restart_command"
	PostfixReloadKey   = "mx.postfix_reload_command"
	Exim4UpdateKey     = "mx.exim4_update_command"
	Exim4RestartKey    = "mx.exim4_restart_command"
	EximKey            = "mx.exim_command"
	SendmailKey        = "mx.sendmail_command"
	PostconfKey        = "mx.postconf_command"
)

// FixOptions say what fix does.
type FixOptions struct {
	CheckOptions
	// Remote makes every domain remote whatever DNS says (--remote).
	Remote bool
	// Path is $PATH, searched (under --root) for the MTA's tools.
	Path string
}

// Target is what fix makes of a domain.
type Target struct {
	Domain Domain
	Local  bool // local, or remote
	Backup bool // remote, and this host is a backup MX (cPanel: /etc/secondarymx)
	// NotMX: DNS says this host is no MX of it at all (cPanel: out of /etc/secondarymx).
	NotMX bool
}

// PlanFix resolves the domains and plans the edits that make the MTA's lists agree with
// DNS: local when the lowest MX is this host, remote otherwise (or with Remote).
func PlanFix(ctx context.Context, h *system.Host, o FixOptions) (*plan.Plan, *Report, error) {
	rep, err := Gather(ctx, h, o.CheckOptions)
	if err != nil {
		return nil, nil, err
	}
	var targets []Target
	var unknown, nowhere, aside []string
	for _, dr := range rep.Results {
		t := Target{Domain: dr.Domain}
		switch {
		case o.Remote:
			t.Backup = dr.Place == "backup"
			t.NotMX = dr.Place == "elsewhere" || dr.Place == "nowhere"
		case dr.Place == "here":
			t.Local = true
		case dr.Place == "backup":
			t.Backup = true
		case dr.Place == "elsewhere":
			t.NotMX = true
		case dr.Place == "nowhere" && rep.Lists.Local[dr.Domain.Name] == "":
			// DNS names no server and the MTA does not deliver it here: no MX can point at
			// this host, so there is nothing to fix (the "lowest numbered MX" error
			// cannot happen for it).
			aside = append(aside, dr.Domain.Name)
			continue
		case dr.Place == "nowhere":
			// NXDOMAIN, a null MX, no MX and no address for a local domain: DNS names no
			// server, neither this one nor another; a domain being set up looks the same.
			// Only --remote decides.
			nowhere = append(nowhere, dr.Result.Summary)
			continue
		default:
			unknown = append(unknown, dr.Result.Summary)
			continue
		}
		targets = append(targets, t)
	}
	if len(unknown) > 0 {
		return nil, rep, fmt.Errorf("cannot tell where mail goes, so nothing was changed for any domain: %s (run again when DNS answers, or pass --remote to make the domains remote)", strings.Join(unknown, "; "))
	}
	if len(nowhere) > 0 {
		return nil, rep, fmt.Errorf("DNS names no mail server, so nothing was changed for any domain: %s (pass --remote to take them out of the local list)", strings.Join(nowhere, "; "))
	}
	p, err := planTargets(h, o, rep.Lists, targets)
	if err == nil && len(aside) > 0 {
		names := strings.Join(aside[:min(len(aside), 5)], ", ")
		if len(aside) > 5 {
			names += fmt.Sprintf(" and %d more", len(aside)-5)
		}
		p.Note("DNS names no mail server for " + names + ", not local here: nothing to fix, left as it is")
	}
	return p, rep, err
}

func planTargets(h *system.Host, o FixOptions, ls *Lists, targets []Target) (*plan.Plan, error) {
	cfg := o.Config
	p := plan.New("mx fix")
	var changed []Target // domains whose routing changes: verified afterwards
	switch ls.MTA {
	case CPanel:
		var local, remote, sec listEdit
		for _, t := range targets {
			d := t.Domain.Name
			wasLocal := ls.Local[d] != ""
			routing := t.Local != wasLocal || ls.Remote[d] == t.Local // Exim routes it differently now
			if t.Local {
				local.add(d)
				remote.remove(d)
				sec.remove(d)
			} else {
				local.remove(d)
				remote.add(d)
				if t.Backup {
					sec.add(d)
				} else if t.NotMX {
					sec.remove(d)
				}
			}
			if routing {
				changed = append(changed, t)
			}
			if mc, ok := ls.MXCheck[d]; routing && ok && mc.Value == "auto" {
				where := mc.File
				p.Note(fmt.Sprintf("cPanel: %s has MXCHECK auto (%s): cPanel may re-detect its mail routing and put it back; pin it by setting the domain's email routing to %s (MXCHECK-%s in %s)",
					d, where, routingName(t), d, where))
			}
		}
		for _, e := range []struct {
			file   string
			edit   *listEdit
			detail string
		}{
			{LocalDomainsFile, &local, "domains Exim delivers here"},
			{RemoteDomainsFile, &remote, "domains Exim sends on by MX"},
			{SecondaryMXFile, &sec, "domains this host is a backup MX for"},
		} {
			a, err := editList(h, e.file, e.edit, plan.EditOptions{Mode: 0o640, Detail: e.detail})
			if err != nil {
				return nil, err
			}
			p.Add(a)
		}
		if len(p.Actions) > 0 {
			p.Note("cPanel's Exim reads /etc/localdomains, /etc/remotedomains and /etc/secondarymx for every message: nothing to restart")
		}
	case Sendmail:
		var local listEdit
		for _, t := range targets {
			d := t.Domain.Name
			if !t.Local && ls.Local[d] == "primary hostname" {
				return nil, fmt.Errorf("%s is this host's own name, which Sendmail always treats as local: it cannot be made remote by editing %s", d, LocalHostNamesFile)
			}
			if t.Local != (ls.Local[d] != "") {
				changed = append(changed, t)
			}
			if t.Local {
				local.add(d)
			} else {
				local.remove(d)
			}
		}
		a, err := editList(h, LocalHostNamesFile, &local, plan.EditOptions{Mode: 0o644, Detail: "host names Sendmail accepts as local ($=w)", Notify: []string{"restart-sendmail"}})
		if err != nil {
			return nil, err
		}
		p.Add(a)
		p.Handle("restart-sendmail", commandArgv(SendmailRestartKey, cfg.SendmailRestartCommand, serviceCommand(h, "sendmail", "restart")), "restart sendmail (it reads local-host-names at start)")
	case Postfix:
		pc := ls.postfix
		var add, removeDest, removeVirt []string
		for _, t := range targets {
			d := t.Domain.Name
			src, isLocal := ls.Local[d]
			switch {
			case t.Local && !isLocal:
				add = append(add, d)
				changed = append(changed, t)
			case !t.Local && isLocal:
				lit := false
				if pc.literalIn("mydestination", d) {
					removeDest = append(removeDest, d)
					lit = true
				}
				if pc.literalIn("virtual_mailbox_domains", d) {
					removeVirt = append(removeVirt, d)
					lit = true
				}
				if !lit {
					return nil, fmt.Errorf("%s is local through %s in %s, not as a name written there (an expansion, a default or a lookup table): take it out by hand, nothing was changed", d, src, pc.File)
				}
				changed = append(changed, t)
			}
		}
		if len(add)+len(removeDest)+len(removeVirt) > 0 {
			a, err := plan.EditFile(h, pc.File, func(old []byte, exists bool) ([]byte, error) {
				cur := ParsePostfixConf(old)
				cur.Hostname = pc.Hostname
				out := old
				if len(add)+len(removeDest) > 0 {
					out = cur.EditList("mydestination", add, removeDest)
					cur = ParsePostfixConf(out)
				}
				if len(removeVirt) > 0 {
					out = cur.EditList("virtual_mailbox_domains", nil, removeVirt)
				}
				return out, nil
			}, plan.EditOptions{Detail: "mydestination: the domains Postfix delivers here", Notify: []string{"reload-postfix"}})
			if err != nil {
				return nil, err
			}
			p.Add(a)
		}
		p.Handle("reload-postfix", commandArgv(PostfixReloadKey, cfg.PostfixReloadCommand, toolArgs(h, o.Path, "postfix", "reload")), "reload postfix (it rereads main.cf)")
	case Exim4:
		var add, remove []string
		for _, t := range targets {
			d := t.Domain.Name
			src, isLocal := ls.Local[d]
			switch {
			case t.Local && !isLocal:
				add = append(add, d)
				changed = append(changed, t)
			case !t.Local && isLocal:
				if src != "dc_other_hostnames" {
					return nil, fmt.Errorf("%s is this host's own name, which Debian's exim4 always treats as local: it cannot be made remote through dc_other_hostnames", d)
				}
				remove = append(remove, d)
				changed = append(changed, t)
			}
		}
		if len(add)+len(remove) > 0 {
			a, err := plan.EditFile(h, Exim4ConfFile, func(old []byte, exists bool) ([]byte, error) {
				return ParseExim4Conf(old).SetOtherHostnames(add, remove), nil
			}, plan.EditOptions{Detail: "dc_other_hostnames: the domains exim4 delivers here", Notify: []string{"update-exim4", "restart-exim4"}})
			if err != nil {
				return nil, err
			}
			p.Add(a)
		}
		p.Handle("update-exim4", commandArgv(Exim4UpdateKey, cfg.Exim4UpdateCommand, toolArgs(h, o.Path, "update-exim4.conf")), "regenerate the exim4 configuration (update-exim4.conf)")
		p.Handle("restart-exim4", commandArgv(Exim4RestartKey, cfg.Exim4RestartCommand, serviceCommand(h, "exim4", "restart")), "restart exim4")
	}
	if p.Empty() {
		return p, nil
	}
	addVerify(h, o, ls, p, changed)
	return p, nil
}

// listEdit is what to add to and take out of a one-domain-per-line file.
type listEdit struct {
	adds, removes []string
}

func (e *listEdit) add(d string)    { e.adds = append(e.adds, d) }
func (e *listEdit) remove(d string) { e.removes = append(e.removes, d) }

// editList plans one edit of a list file: lines naming a removed domain go (whatever their
// case), added domains not yet there are appended; comments and other lines stay. A file
// that does not exist is created only when something is added.
func editList(h *system.Host, file string, e *listEdit, o plan.EditOptions) (plan.Action, error) {
	if len(e.adds) == 0 && len(e.removes) == 0 {
		return nil, nil
	}
	if !h.Exists(file) && len(e.adds) == 0 {
		return nil, nil
	}
	return plan.EditFile(h, file, func(old []byte, _ bool) ([]byte, error) {
		return EditListFile(old, e.adds, e.removes), nil
	}, o)
}

// EditListFile returns a list file with domains added and removed.
func EditListFile(old []byte, add, remove []string) []byte {
	drop := map[string]bool{}
	for _, d := range remove {
		drop[d] = true
	}
	have := map[string]bool{}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(old))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		name := line
		if i := strings.IndexByte(name, '#'); i >= 0 {
			name = name[:i]
		}
		if n, err := NormalizeDomain(strings.TrimSpace(name)); err == nil && strings.TrimSpace(name) != "" {
			if drop[n] {
				continue
			}
			have[n] = true
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	for _, d := range add {
		if !have[d] && !drop[d] {
			have[d] = true
			out.WriteString(d)
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

// commandArgv is the configured command, else the detected one (possibly empty: not set).
func commandArgv(key string, configured, detected []string) plan.Argv {
	if len(configured) > 0 {
		return plan.Configured(key, configured)
	}
	return plan.Detected(key, detected)
}

// toolArgs finds a tool in $PATH's directories and the sbin directories (under --root).
func toolArgs(h *system.Host, pathEnv, name string, args ...string) []string {
	if p := findTool(h, pathEnv, name); p != "" {
		return append([]string{p}, args...)
	}
	return nil
}

func findTool(h *system.Host, pathEnv, name string) string {
	var dirs []string
	for _, d := range strings.Split(pathEnv, ":") {
		if filepath.IsAbs(d) {
			dirs = append(dirs, d)
		}
	}
	dirs = append(dirs, "/usr/sbin", "/usr/bin", "/sbin", "/usr/local/sbin")
	for _, d := range dirs {
		p := path.Join(d, name)
		if fi, err := h.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// serviceCommand is systemctl when the tree has the unit, else the init script, else none.
func serviceCommand(h *system.Host, name, op string) []string {
	for _, d := range []string{"/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"} {
		if h.Exists(path.Join(d, name+".service")) {
			return []string{"systemctl", op, name}
		}
	}
	if fi, err := h.Stat("/etc/init.d/" + name); err == nil && fi.Mode()&0o111 != 0 {
		return []string{"/etc/init.d/" + name, op}
	}
	return nil
}

// addVerify checks on the live host that the MTA now routes each changed domain the new
// way. Under --root the host's MTA does not read the tree, so it says so instead.
func addVerify(h *system.Host, o FixOptions, ls *Lists, p *plan.Plan, changed []Target) {
	if len(changed) == 0 {
		return
	}
	sort.SliceStable(changed, func(i, j int) bool { return changed[i].Domain.Name < changed[j].Domain.Name })
	var argv []string
	var how string
	switch ls.MTA {
	case CPanel, Exim4:
		bin := "exim"
		if ls.MTA == Exim4 {
			bin = "exim4"
		}
		argv, how = o.Config.EximCommand, bin+" -bt postmaster@DOMAIN"
		if len(argv) == 0 {
			argv = toolArgs(h, o.Path, bin)
		}
	case Sendmail:
		argv, how = o.Config.SendmailCommand, "sendmail -bv postmaster@DOMAIN"
		if len(argv) == 0 {
			argv = toolArgs(h, o.Path, "sendmail")
		}
	case Postfix:
		argv, how = o.Config.PostconfCommand, "postconf -x -h mydestination virtual_mailbox_domains"
		if len(argv) == 0 {
			argv = toolArgs(h, o.Path, "postconf")
		}
	}
	if !h.Live() {
		p.Note("routing not verified under --root (the host's MTA does not read this tree): on the host, check with " + how)
		return
	}
	if len(argv) == 0 {
		p.Note("routing not verified: no " + strings.Fields(how)[0] + " found (set " + map[string]string{CPanel: EximKey, Exim4: EximKey, Sendmail: SendmailKey, Postfix: PostconfKey}[ls.MTA] + ")")
		return
	}
	pfDir := ""
	if ls.MTA == Postfix && o.Config.PostfixConfigDir != "" && o.Config.PostfixConfigDir != "/etc/postfix" {
		pfDir = o.Config.PostfixConfigDir
	}
	for _, t := range changed {
		t := t
		want := "remotely"
		if t.Local {
			want = "locally"
		}
		p.Verify(fmt.Sprintf("%s routes %s %s (%s)", ls.MTA, t.Domain.Name, want, system.FormatArgv(argv)), func(ctx context.Context, r *plan.Run) error {
			return VerifyRouting(ctx, r.Host.Runner, ls.MTA, argv, t.Domain.Name, t.Local, pfDir)
		})
	}
}

var eximHostLine = regexp.MustCompile(`(?m)^\s+host \S+ \[[^\]]+\]`)

// VerifyRouting asks the MTA how it routes postmaster@domain and fails unless it is
// delivered here (local) or sent on (remote).
// postfixDir, when not empty, is passed to postconf as -c DIR (mx.postfix_config_dir
// other than /etc/postfix).
func VerifyRouting(ctx context.Context, run system.Runner, mta string, argv []string, domain string, local bool, postfixDir string) error {
	addr := "postmaster@" + domain
	var c system.Cmd
	switch mta {
	case CPanel, Exim4:
		c = system.Cmd{Argv: append(append([]string(nil), argv...), "-bt", addr)}
	case Sendmail:
		c = system.Cmd{Argv: append(append([]string(nil), argv...), "-bv", addr)}
	case Postfix:
		c = system.Cmd{Argv: append(append([]string(nil), argv...), "-x", "-h", "mydestination", "virtual_mailbox_domains")}
		if postfixDir != "" {
			c.Argv = append(append(append([]string(nil), argv...), "-c", postfixDir), c.Argv[len(argv):]...)
		}
	default:
		return fmt.Errorf("verify: unknown MTA %q", mta)
	}
	res, err := run.Run(ctx, c)
	out := string(res.Stdout) + string(res.Stderr)
	if strings.Contains(strings.ToLower(out), strings.ToLower(ErrorTexts[mta])) {
		return fmt.Errorf("%s still says %q for %s", c, ErrorTexts[mta], domain)
	}
	switch mta {
	case CPanel, Exim4:
		remote := eximHostLine.MatchString(out)
		if local && (err != nil || remote) {
			return fmt.Errorf("%s: %s is not routed locally: %s", c, addr, oneLine(out, err))
		}
		if !local && !remote {
			return fmt.Errorf("%s: %s is not routed to a remote host: %s", c, addr, oneLine(out, err))
		}
	case Sendmail:
		remote := regexp.MustCompile(`mailer (esmtp|smtp|relay|dsmtp|smtp8)`).MatchString(out)
		if local && (err != nil || remote || !strings.Contains(out, "deliverable")) {
			return fmt.Errorf("%s: %s is not delivered locally: %s", c, addr, oneLine(out, err))
		}
		if !local && !remote {
			return fmt.Errorf("%s: %s is not sent on by SMTP: %s", c, addr, oneLine(out, err))
		}
	case Postfix:
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		has := false
		for _, item := range splitPostfixList(strings.ToLower(string(res.Stdout))) {
			if strings.TrimSuffix(item, ".") == domain {
				has = true
			}
		}
		if has != local {
			return fmt.Errorf("%s: %s is %sin mydestination or virtual_mailbox_domains", c, domain, map[bool]string{true: "", false: "not "}[has])
		}
	}
	return nil
}

func oneLine(out string, err error) string {
	s := strings.Join(strings.Fields(out), " ")
	if s == "" && err != nil {
		s = err.Error()
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// routingName is cPanel's name for a target's email routing.
func routingName(t Target) string {
	switch {
	case t.Local:
		return "local"
	case t.Backup:
		return "secondary"
	}
	return "remote"
}
