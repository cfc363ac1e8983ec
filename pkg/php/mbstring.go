package php

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// MbstringOptions are the inputs of `php mbstring install`.
type MbstringOptions struct {
	Config Config
	Selection
}

// PackageName is the mbstring package of an installation, "" when hostfix knows none
// (a PHP found only on PATH, built from source).
func PackageName(cfg Config, in *Installation) string {
	var pattern string
	switch in.Layout {
	case LayoutDebian:
		pattern = cfg.Packages.Debian
	case LayoutRHEL:
		pattern = cfg.Packages.RHEL
	case LayoutRemi:
		pattern = cfg.Packages.Remi
	case LayoutEA4:
		pattern = cfg.Packages.EA4
	case LayoutPlesk:
		pattern = cfg.Packages.Plesk
	case LayoutAltPHP:
		pattern = cfg.Packages.AltPHP
	default:
		return ""
	}
	if strings.Contains(pattern, "{") && in.Version == "" {
		return ""
	}
	return strings.NewReplacer("{ver}", in.Version, "{nn}", verToNN(in.Version)).Replace(pattern)
}

// packageManager picks the install command: php.package_manager when set (configured),
// else the first of apt-get, dnf, yum, zypper found on the host (detected).
func packageManager(h *system.Host, cfg Config) (plan.Argv, error) {
	const key = "php.package_manager"
	argvOf := func(name string) ([]string, []string, error) {
		switch name {
		case "apt-get":
			return cfg.PackageManagers.AptGet, []string{"DEBIAN_FRONTEND=noninteractive"}, nil
		case "dnf":
			return cfg.PackageManagers.Dnf, nil, nil
		case "yum":
			return cfg.PackageManagers.Yum, nil, nil
		case "zypper":
			return cfg.PackageManagers.Zypper, nil, nil
		}
		return nil, nil, usage.Errorf("%s %q: unknown package manager (use apt-get, dnf, yum or zypper)", key, usage.Clip(name))
	}
	if cfg.PackageManager != "" {
		args, env, err := argvOf(cfg.PackageManager)
		if err != nil {
			return plan.Argv{}, err
		}
		a := plan.Configured(key, slices.Clone(args))
		a.Env = env
		return a, nil
	}
	for _, name := range []string{"apt-get", "dnf", "yum", "zypper"} {
		for _, dir := range []string{"/usr/bin", "/bin", "/usr/sbin"} {
			if h.Exists(dir + "/" + name) {
				args, env, _ := argvOf(name)
				a := plan.Detected(key, slices.Clone(args))
				a.Env = env
				return a, nil
			}
		}
	}
	return plan.Argv{Key: key}, nil
}

// PlanMbstring plans installing mbstring for every selected SAPI that lacks it: one
// package-manager run with each installation's package, `phpenmod` on Debian/Ubuntu for
// the SAPIs the package leaves disabled (or when the package is there but the module is
// disabled), one restart of each serving service at the end (handlers), and, on a live
// host, a check with each SAPI's own binary that mbstring is loaded.
func PlanMbstring(ctx context.Context, h *system.Host, o MbstringOptions) (*plan.Plan, error) {
	_, targets, err := selectTargets(ctx, h, o.Config, o.Selection)
	if err != nil {
		return nil, err
	}
	p := plan.New("php mbstring install")
	var packages []string
	var missing []target
	byIn := map[*Installation][]target{}
	var ins []*Installation
	for _, t := range targets {
		if t.s.Mbstring {
			continue
		}
		if _, ok := byIn[t.in]; !ok {
			ins = append(ins, t.in)
		}
		byIn[t.in] = append(byIn[t.in], t)
	}
	var installNotify []string
	var enmods []plan.Action
	restarts := map[string]bool{}
	for _, in := range ins {
		ts := byIn[in]
		pkg := PackageName(o.Config, in)
		if pkg == "" {
			msg := fmt.Sprintf("%s: no known mbstring package for this PHP (%s layout): rebuild it with --enable-mbstring or install the extension by hand", in.ID, in.Layout)
			if o.PHP == in.ID { // named exactly: an error rather than a note
				return nil, errors.New(msg)
			}
			p.Note(msg)
			continue
		}
		missing = append(missing, ts...)
		installed := in.Layout == LayoutDebian && debInstalled(h, pkg, in.ModsAvailable+"/mbstring.ini")
		// disabledByAdmin: phpenmod's maintainer mode (the package's postinst) skips a
		// Debian SAPI where the admin disabled the module.
		disabledByAdmin := func(s *SAPI) bool {
			return in.Layout == LayoutDebian && h.Exists("/var/lib/php/modules/"+in.Version+"/"+s.Name+"/disabled_by_admin/mbstring")
		}
		if !installed {
			packages = appendNew(packages, pkg)
			// The package enables mbstring for every SAPI of this PHP (one php.d, or
			// phpenmod for all SAPIs on Debian), selected or not: restart every service
			// that will load it, so none keeps running without it.
			for _, s := range in.SAPIs {
				if !s.Mbstring && !disabledByAdmin(s) {
					installNotify = appendNew(installNotify, restartNames(s.Services)...)
				}
			}
		}
		if in.Layout != LayoutDebian {
			continue
		}
		for _, t := range ts {
			// Enable it by hand where the package would not, and wherever the package is
			// already installed but the module is not enabled.
			if installed || disabledByAdmin(t.s) {
				a := phpenmodArgv(h, o.Config, in.Version, t.s.Name)
				enmods = append(enmods, notifying(plan.Command(a, "enable mbstring for "+t.label()), restartNames(t.s.Services)))
			}
		}
	}
	for _, a := range enmods {
		for _, n := range a.Describe().Notify {
			restarts[n] = true
		}
	}
	for _, n := range installNotify {
		restarts[n] = true
	}
	if len(missing) == 0 {
		return p, nil
	}
	if len(packages) > 0 {
		mgr, err := packageManager(h, o.Config)
		if err != nil {
			return nil, err
		}
		p.Add(notifying(plan.InstallPackages(mgr, packages...), installNotify))
	}
	p.Add(enmods...)
	for _, name := range sortedKeys(restarts) {
		svc := strings.TrimPrefix(name, "restart-")
		p.Handle(name, serviceArgv(h, "php.restart_command", o.Config.RestartCommand, "restart", svc), "restart "+svc+" so it loads mbstring")
	}
	if !live(h) {
		p.Note(verifyNote)
		return p, nil
	}
	for _, t := range missing {
		t := t
		c, ok := ProbeArgv(t.in, t.s, "-m")
		if !ok {
			p.Note(fmt.Sprintf("%s: no binary to ask; mbstring is not verified", t.label()))
			continue
		}
		p.Verify(fmt.Sprintf("%s loads mbstring (%s)", t.label(), c), func(ctx context.Context, r *plan.Run) error {
			res, err := r.Host.Runner.Run(ctx, c)
			if err != nil {
				return fmt.Errorf("%s: %w", t.label(), err)
			}
			if !ParseModules(res.Stdout)["mbstring"] {
				return fmt.Errorf("%s: mbstring is still not loaded after the install (%s does not list it)", t.label(), c)
			}
			return nil
		})
	}
	return p, nil
}

// debInstalled reports whether dpkg has pkg installed ("install ok installed" in
// /var/lib/dpkg/status; a removed package keeps its mods-available ini as a conffile, so
// that file alone proves nothing). Without a dpkg database (a partial snapshot) the ini
// file is taken as the sign.
func debInstalled(h *system.Host, pkg, ini string) bool {
	data, err := h.ReadFile("/var/lib/dpkg/status")
	if err != nil {
		return h.Exists(ini)
	}
	return DpkgInstalled(data, pkg)
}

// DpkgInstalled reads a dpkg status file: whether pkg's stanza says "install ok installed".
func DpkgInstalled(status []byte, pkg string) bool {
	for _, stanza := range strings.Split(string(status), "\n\n") {
		var name, st string
		for _, l := range strings.Split(stanza, "\n") {
			if v, ok := strings.CutPrefix(l, "Package: "); ok {
				name = strings.TrimSpace(v)
			} else if v, ok := strings.CutPrefix(l, "Status: "); ok {
				st = strings.TrimSpace(v)
			}
		}
		if name == pkg {
			return st == "install ok installed"
		}
	}
	return false
}

func phpenmodArgv(h *system.Host, cfg Config, ver, sapi string) plan.Argv {
	const key = "php.phpenmod_command"
	args := []string{"-v", ver, "-s", sapi, "mbstring"}
	if len(cfg.PhpenmodCommand) > 0 {
		return plan.Configured(key, append(slices.Clone(cfg.PhpenmodCommand), args...))
	}
	for _, p := range []string{"/usr/sbin/phpenmod", "/sbin/phpenmod"} {
		if h.Exists(p) {
			return plan.Detected(key, append([]string{p}, args...))
		}
	}
	return plan.Argv{Key: key}
}

func restartNames(services []string) []string {
	var out []string
	for _, s := range services {
		out = appendNew(out, "restart-"+s)
	}
	return out
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		if !slices.Contains(list, it) {
			list = append(list, it)
		}
	}
	return list
}
