package smtpport

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// RemoveOptions are remove's inputs beyond the config.
type RemoveOptions struct {
	Config Config
	// Force removes the port's configuration also where add did not write it.
	Force bool
}

// PlanRemove plans taking back what add created for the port: the xinetd service file,
// its /etc/services lines, the master.cf service and the firewall rule add opened.
func PlanRemove(ctx context.Context, h *system.Host, o RemoveOptions) (*plan.Plan, error) {
	cfg := o.Config
	name, err := checkPortName(cfg)
	if err != nil {
		return nil, err
	}
	if err := notMainPort(cfg); err != nil {
		return nil, err
	}
	p := plan.New("smtpport remove")
	var foreign []string
	mode := ""

	// xinetd service files: add's own (named after the service) and any other file whose
	// services use the port (the runbook's hand-made smtp_psa_p26, say).
	files := map[string][]string{} // file -> service names on the port
	var order []string
	note := func(f, svc string) {
		if _, ok := files[f]; !ok {
			order = append(order, f)
		}
		files[f] = append(files[f], svc)
	}
	xfile := path.Join(cfg.XinetdDir, name)
	if h.Exists(xfile) {
		note(xfile, name)
	}
	conf, _ := FindConfigured(h, cfg, cfg.Port)
	for _, c := range conf {
		if c.Kind == ModeXinetd && c.File != xfile {
			note(c.File, c.Service)
		}
	}
	names := []string{name}
	for _, f := range order {
		if f == cfg.XinetdSource {
			// The service add copies from serves the main port; --force does not reach it.
			return nil, usage.Errorf("port %d: %s is smtpport.xinetd_source, the SMTP service add copies from: hostfix does not remove it (edit it by hand)", cfg.Port, f)
		}
		b, err := h.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f, err)
		}
		if !HasXinetdMarker(b) {
			if !o.Force {
				foreign = append(foreign, f)
				continue
			}
			xf, err := ParseXinetd(b)
			if err == nil && (len(xf.Services) > len(files[f]) || len(xf.Defaults) > 0 || len(xf.Includes) > 0) {
				return nil, usage.Errorf("%s: holds other services besides port %d: edit it by hand", f, cfg.Port)
			}
		}
		for _, n := range files[f] {
			if n != name {
				names = append(names, n)
			}
		}
		fi, _ := h.Stat(f)
		var size int64
		if fi != nil {
			size = fi.Size()
		}
		a, err := plan.RemoveFiles(h, []plan.File{{Path: f, Size: size}}, plan.RemoveOptions{
			Within: path.Dir(f), Label: "xinetd service " + strings.Join(files[f], ", "),
		})
		if err != nil {
			return nil, err
		}
		p.Add(withNotify(a, "reload-xinetd"))
		mode = ModeXinetd
	}
	// /etc/services
	if b, err := h.ReadFile(cfg.ServicesFile); err == nil {
		removeLines := func(old []byte) ([]byte, int, int) {
			removed, left := 0, 0
			for _, n := range names {
				var r, l int
				old, r, l = RemoveServices(old, n, cfg.Port, o.Force)
				removed, left = removed+r, left+l
			}
			return old, removed, left
		}
		_, removed, left := removeLines(b)
		if left > 0 {
			foreign = append(foreign, cfg.ServicesFile)
		}
		if removed > 0 {
			e, err := plan.EditFile(h, cfg.ServicesFile, func(old []byte, _ bool) ([]byte, error) {
				nb, _, _ := removeLines(old)
				return nb, nil
			}, plan.EditOptions{Notify: []string{"reload-xinetd"},
				Detail: fmt.Sprintf("drop %s (port %d)", strings.Join(names, ", "), cfg.Port)})
			if err != nil {
				return nil, err
			}
			p.Add(e)
			mode = ModeXinetd
		}
	}
	if mode == ModeXinetd {
		handle(p, "reload-xinetd", xinetdReload(h, cfg), "reload xinetd (SIGHUP: re-read its configuration)")
	}
	// master.cf
	mc := path.Join(cfg.PostfixDir, "master.cf")
	if b, err := h.ReadFile(mc); err == nil {
		_, removed, left, err := RemoveMasterCF(b, cfg.Port, o.Force)
		if err != nil {
			var pe *ParseError
			if errors.As(err, &pe) {
				pe.File = mc
			}
			return nil, usage.Errorf("%w: fix it first", err)
		}
		if left > 0 {
			foreign = append(foreign, mc)
		}
		if removed > 0 {
			e, err := plan.EditFile(h, mc, func(old []byte, _ bool) ([]byte, error) {
				nb, _, _, err := RemoveMasterCF(old, cfg.Port, o.Force)
				return nb, err
			}, plan.EditOptions{Notify: []string{"reload-postfix"},
				Detail: fmt.Sprintf("drop the port %d service", cfg.Port)})
			if err != nil {
				return nil, err
			}
			p.Add(e)
			handle(p, "reload-postfix", postfixReload(h, cfg), "reload postfix")
			if mode == "" {
				mode = ModePostfix
			}
		}
	}
	if len(foreign) > 0 && !o.Force {
		return nil, usage.Errorf("port %d: configured in %s, not by hostfix smtpport add: remove it by hand or use --force", cfg.Port, strings.Join(foreign, ", "))
	}
	planFirewallRemove(ctx, h, p, cfg, o.Force)
	if p.Empty() {
		return p, nil
	}
	if mode != "" {
		addVerify(h, p, cfg, mode, nil, false)
	}
	return p, nil
}
