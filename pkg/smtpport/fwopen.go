package smtpport

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

func firstExisting(h *system.Host, paths ...string) string {
	for _, p := range paths {
		if h.Exists(p) {
			return p
		}
	}
	return ""
}

func csfReload(h *system.Host, cfg Config) argv {
	return pick(keyCsfReload, cfg.CsfReloadCommand, func() []string {
		if p := firstExisting(h, "/usr/sbin/csf", "/usr/local/sbin/csf"); p != "" {
			return []string{p, "-r"}
		}
		return nil
	})
}

func apfReload(h *system.Host, cfg Config) argv {
	return pick(keyApfReload, cfg.ApfReloadCommand, func() []string {
		if p := firstExisting(h, "/usr/local/sbin/apf", "/usr/sbin/apf", "/etc/apf/apf"); p != "" {
			return []string{p, "-r"}
		}
		return nil
	})
}

func ufwArgv(h *system.Host, cfg Config) argv {
	return pick(keyUfw, cfg.UfwCommand, func() []string {
		if p := firstExisting(h, "/usr/sbin/ufw", "/sbin/ufw"); p != "" {
			return []string{p}
		}
		return nil
	})
}

func firewalldArgv(h *system.Host, cfg Config) argv {
	return pick(keyFirewalld, cfg.FirewalldCommand, func() []string {
		if p := firstExisting(h, "/usr/bin/firewall-cmd", "/bin/firewall-cmd"); p != "" {
			return []string{p}
		}
		return nil
	})
}

func withArgs(a argv, extra ...string) argv {
	if len(a.Args) == 0 {
		return a
	}
	a.Args = append(append([]string{}, a.Args...), extra...)
	return a
}

// listKeys are the settings of CSF and APF that list allowed incoming TCP ports.
var listKeys = map[string][]string{FwCSF: {"TCP_IN", "TCP6_IN"}, FwAPF: {"IG_TCP_CPORTS"}}

// planFirewall reports (or, with open, fixes) firewalls that block the port.
func planFirewall(ctx context.Context, h *system.Host, p *plan.Plan, cfg Config, open bool) error {
	for _, fw := range DetectFirewalls(ctx, h, cfg, cfg.Port) {
		switch fw.Allowed {
		case AllowYes:
			continue
		case AllowUnknown:
			p.Note(fmt.Sprintf("firewall %s: cannot tell whether port %d is allowed (%s): check it by hand", fw.Name, cfg.Port, fw.Detail))
			continue
		}
		if !open {
			p.Note(fmt.Sprintf("firewall %s blocks port %d (%s): run again with --open-firewall, or allow it by hand", fw.Name, cfg.Port, fw.Source))
			continue
		}
		switch fw.Name {
		case FwCSF, FwAPF:
			file, reload := csfConf, csfReload(h, cfg)
			if fw.Name == FwAPF {
				file, reload = apfConf, apfReload(h, cfg)
			}
			keys := listKeys[fw.Name]
			e, err := plan.EditFile(h, file, func(old []byte, _ bool) ([]byte, error) {
				return addPortToLists(old, keys, cfg.Port), nil
			}, plan.EditOptions{Notify: []string{"reload-" + fw.Name},
				Detail: fmt.Sprintf("allow TCP port %d in %s", cfg.Port, strings.Join(keys, " and "))})
			if err != nil {
				return err
			}
			p.Add(e)
			handle(p, "reload-"+fw.Name, reload, "reload "+fw.Name)
		case FwUfw:
			p.Add(command(withArgs(ufwArgv(h, cfg), "allow", fmt.Sprintf("%d/tcp", cfg.Port), "comment", ufwComment),
				fmt.Sprintf("ufw: allow TCP port %d", cfg.Port)))
		case FwFirewalld:
			fc := firewalldArgv(h, cfg)
			p.Add(command(withArgs(fc, "--permanent", fmt.Sprintf("--add-port=%d/tcp", cfg.Port)),
				fmt.Sprintf("firewalld: allow TCP port %d permanently (%s)", cfg.Port, fw.Detail)))
			p.Add(command(withArgs(fc, "--reload"), "firewalld: load the permanent configuration"))
		default:
			return usage.Errorf("firewall %s blocks port %d (%s): hostfix does not edit raw %s rules; allow tcp port %d there, or run without --open-firewall", fw.Name, cfg.Port, fw.Source, fw.Name, cfg.Port)
		}
	}
	return nil
}

// planFirewallRemove closes what add opened (force: whatever allows the port).
func planFirewallRemove(ctx context.Context, h *system.Host, p *plan.Plan, cfg Config, force bool) {
	for _, fw := range DetectFirewalls(ctx, h, cfg, cfg.Port) {
		if fw.Allowed != AllowYes {
			continue
		}
		switch fw.Name {
		case FwCSF, FwAPF:
			if !fw.ByHostfix && !force {
				continue
			}
			file, reload := csfConf, csfReload(h, cfg)
			if fw.Name == FwAPF {
				file, reload = apfConf, apfReload(h, cfg)
			}
			keys := listKeys[fw.Name]
			e, err := plan.EditFile(h, file, func(old []byte, _ bool) ([]byte, error) {
				return removePortFromLists(old, keys, cfg.Port, force), nil
			}, plan.EditOptions{Notify: []string{"reload-" + fw.Name},
				Detail: fmt.Sprintf("no longer allow TCP port %d in %s", cfg.Port, strings.Join(keys, " and "))})
			if err == nil && e != nil {
				p.Add(e)
				handle(p, "reload-"+fw.Name, reload, "reload "+fw.Name)
			}
		case FwUfw:
			if !fw.ByHostfix && !force {
				continue
			}
			p.Add(command(withArgs(ufwArgv(h, cfg), "delete", "allow", fmt.Sprintf("%d/tcp", cfg.Port)),
				fmt.Sprintf("ufw: delete the rule allowing TCP port %d", cfg.Port)))
		case FwFirewalld:
			if !force {
				p.Note(fmt.Sprintf("firewalld still allows port %d: hostfix cannot tell who opened it there (--force closes it)", cfg.Port))
				continue
			}
			fc := firewalldArgv(h, cfg)
			p.Add(command(withArgs(fc, "--permanent", fmt.Sprintf("--remove-port=%d/tcp", cfg.Port)),
				fmt.Sprintf("firewalld: stop allowing TCP port %d", cfg.Port)))
			p.Add(command(withArgs(fc, "--reload"), "firewalld: load the permanent configuration"))
		}
	}
}

// addPortToLists appends port to each KEY="…" list that lacks it, with add's marker line
// above the setting.
func addPortToLists(old []byte, keys []string, port int) []byte {
	lines := splitLines(old)
	vars := shellVars(old)
	var out []string
	changed := false
	for i, l := range lines {
		for _, k := range keys {
			v, ok := vars[k]
			if !ok || v.Line != i+1 || portListHas(v.Value, port, map[bool]string{true: "_", false: ":"}[k == "IG_TCP_CPORTS"]) {
				continue
			}
			if len(out) == 0 || strings.TrimSpace(out[len(out)-1]) != csfAPFMarker(port) {
				out = append(out, csfAPFMarker(port))
			}
			l = appendToQuoted(l, strconv.Itoa(port))
			changed = true
		}
		out = append(out, l)
	}
	if !changed {
		return old
	}
	return joinLines(out)
}

// appendToQuoted adds ",item" before the closing quote of KEY = "…" (or KEY=item,…).
func appendToQuoted(l, item string) string {
	eq := strings.IndexByte(l, '=')
	rest := l[eq+1:]
	trim := strings.TrimLeft(rest, " \t")
	pre := l[:eq+1] + rest[:len(rest)-len(trim)]
	if trim != "" && (trim[0] == '"' || trim[0] == '\'') {
		q := trim[0]
		if j := strings.IndexByte(trim[1:], q); j >= 0 {
			val := trim[1 : 1+j]
			sep := ","
			if strings.TrimSpace(val) == "" || strings.HasSuffix(strings.TrimSpace(val), ",") {
				sep = ""
			}
			return pre + string(q) + val + sep + item + string(q) + trim[2+j:]
		}
	}
	val, comment := trim, ""
	if i := strings.IndexByte(trim, '#'); i >= 0 {
		val, comment = strings.TrimSpace(trim[:i]), " "+trim[i:]
	}
	if val == "" {
		return pre + item + comment
	}
	return pre + val + "," + item + comment
}

// removePortFromLists drops port from the lists add extended (marker above), or from any
// of the lists with force, and removes the marker lines.
func removePortFromLists(old []byte, keys []string, port int, force bool) []byte {
	lines := splitLines(old)
	vars := shellVars(old)
	var out []string
	marked, changed := false, false
	for i, l := range lines {
		if strings.TrimSpace(l) == csfAPFMarker(port) {
			marked, changed = true, true
			continue
		}
		for _, k := range keys {
			if v, ok := vars[k]; ok && v.Line == i+1 && (marked || force) {
				if nl := dropFromQuoted(l, strconv.Itoa(port)); nl != l {
					l, changed = nl, true
				}
			}
		}
		if strings.TrimSpace(l) != "" && !strings.HasPrefix(strings.TrimSpace(l), "#") {
			marked = false
		}
		out = append(out, l)
	}
	if !changed {
		return old
	}
	return joinLines(out)
}

func dropFromQuoted(l, item string) string {
	eq := strings.IndexByte(l, '=')
	rest := l[eq+1:]
	trim := strings.TrimLeft(rest, " \t")
	pre := l[:eq+1] + rest[:len(rest)-len(trim)]
	q := ""
	if trim != "" && (trim[0] == '"' || trim[0] == '\'') {
		q = trim[:1]
		trim = trim[1:]
	}
	end := len(trim)
	if q != "" {
		if j := strings.Index(trim, q); j >= 0 {
			end = j
		}
	}
	items := strings.Split(trim[:end], ",")
	var keep []string
	for _, it := range items {
		if strings.TrimSpace(it) != item {
			keep = append(keep, it)
		}
	}
	tail := ""
	if q != "" && end < len(trim) {
		tail = trim[end:]
	}
	return pre + q + strings.Join(keep, ",") + tail
}

func joinLines(ls []string) []byte {
	if len(ls) == 0 {
		return nil
	}
	return []byte(strings.Join(ls, "\n") + "\n")
}
