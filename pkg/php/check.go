package php

import (
	"context"
	"fmt"
	"strings"

	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/system"
)

// CheckOptions tune Check.
type CheckOptions struct {
	Config Config
}

// Check finds every PHP installation and reports per SAPI: version, serving services,
// loaded php.ini and scan dir, mbstring, the effective max_input_vars and
// max_multipart_body_parts, Suhosin caps and FPM pools that pin max_input_vars. WARNING
// when mbstring is missing for an installed SAPI (php.require_mbstring), when
// max_input_vars is at PHP's 1000 default while a web SAPI's error log shows "Input
// variables exceeded 1000", or when Suhosin caps input variables below max_input_vars.
func Check(ctx context.Context, h *system.Host, o CheckOptions) (*check.Result, error) {
	ins, err := Discover(ctx, h, DiscoverOptions{Config: o.Config, Probe: live(h)})
	if err != nil {
		return nil, err
	}
	r := &check.Result{Check: "php"}
	sapis, missing := 0, 0
	exceededIn := map[string]int{} // log and limit -> lines, each counted once
	var rows []map[string]any
	for _, in := range ins {
		head := in.ID + " (" + string(in.Layout)
		if v := firstNonEmpty(in.FullVersion, in.Version); v != "" {
			head += ", " + v
		}
		head += ")"
		if len(in.OnPath) > 0 {
			head += "  on PATH: " + strings.Join(in.OnPath, ", ")
		}
		r.Details = append(r.Details, head)
		for _, s := range in.SAPIs {
			sapis++
			r.Details = append(r.Details, sapiLine(s))
			for _, p := range s.Pools {
				if p.MaxInputVars != nil {
					r.Details = append(r.Details, fmt.Sprintf("    pool %s pins max_input_vars = %d (%s:%d %s)", p.Name, *p.MaxInputVars, p.File, p.Line, p.Key))
				}
			}
			for _, pr := range s.problems {
				r.Add(check.Warning, fmt.Sprintf("%s %s: %s", in.ID, s.Name, pr), "fix the file: PHP stops reading an ini file at a syntax error")
			}
			if !s.Mbstring {
				missing++
				if o.Config.RequireMbstring {
					r.Add(check.Warning, fmt.Sprintf("%s %s: mbstring is not loaded%s", in.ID, s.Name, cliWhy(s)),
						fmt.Sprintf("run `hostfix php mbstring install --php %s --sapi %s`", in.ID, s.Name))
				}
			}
			for k, n := range s.exceededIn {
				exceededIn[k] = n
			}
			if s.Web() && s.Exceeded > 0 && s.MaxInputVars == DefaultMaxInputVars {
				r.Add(check.Warning, fmt.Sprintf("%s %s: max_input_vars is at the 1000 default and %s show %d \"Input variables exceeded 1000\" line(s): big forms lose fields",
					in.ID, s.Name, strings.Join(s.ErrorLogs, ", "), s.Exceeded),
					fmt.Sprintf("run `hostfix php max-input-vars set 5000 --php %s --sapi %s`", in.ID, s.Name))
			} else if s.Exceeded > 0 {
				r.Add(check.Warning, fmt.Sprintf("%s %s: %d \"Input variables exceeded %d\" line(s) in %s",
					in.ID, s.Name, s.Exceeded, s.MaxInputVars, strings.Join(s.ErrorLogs, ", ")),
					fmt.Sprintf("run `hostfix php max-input-vars set %d --php %s --sapi %s`", s.MaxInputVars*2, in.ID, s.Name))
			}
			if su := s.Suhosin; su != nil {
				if low := min(su.PostMaxVars, su.RequestMaxVars); low < s.MaxInputVars {
					r.Add(check.Warning, fmt.Sprintf("%s %s: Suhosin caps input variables at %d (suhosin.post.max_vars %d, suhosin.request.max_vars %d), below max_input_vars %d",
						in.ID, s.Name, low, su.PostMaxVars, su.RequestMaxVars, s.MaxInputVars),
						fmt.Sprintf("run `hostfix php max-input-vars set %d --php %s --sapi %s` (it raises the Suhosin caps too)", s.MaxInputVars, in.ID, s.Name))
				}
			}
			if mp := s.MaxMultipartBodyParts; mp > 0 && mp < s.MaxInputVars {
				r.Add(check.Warning, fmt.Sprintf("%s %s: max_multipart_body_parts %d caps multipart forms below max_input_vars %d", in.ID, s.Name, mp, s.MaxInputVars),
					"set max_multipart_body_parts = -1 (max_input_vars + max_file_uploads) where it is set")
			}
			for _, p := range s.Pools {
				if p.MaxInputVars != nil && *p.MaxInputVars != s.MaxInputVars {
					r.Add(check.OK, fmt.Sprintf("%s fpm pool %s pins max_input_vars = %d (%s:%d): php.ini's %d does not apply to its requests",
						in.ID, p.Name, *p.MaxInputVars, p.File, p.Line, s.MaxInputVars),
						fmt.Sprintf("`hostfix php max-input-vars set N --php %s --sapi fpm --pool %s` changes it there", in.ID, p.Name))
				}
			}
			labels := map[string]string{"php": in.ID, "sapi": s.Name}
			r.Samples = append(r.Samples,
				check.Sample{Name: "hostfix_php_mbstring_loaded", Help: "1 when the SAPI loads mbstring", Type: "gauge", Labels: labels, Value: b2f(s.Mbstring)},
				check.Sample{Name: "hostfix_php_max_input_vars", Help: "Effective max_input_vars of the SAPI", Type: "gauge", Labels: labels, Value: float64(s.MaxInputVars)},
				check.Sample{Name: "hostfix_php_input_vars_exceeded", Help: "\"Input variables exceeded\" lines in the SAPI's error logs (tail)", Type: "gauge", Labels: labels, Value: float64(s.Exceeded)},
			)
		}
		rows = append(rows, map[string]any{
			"id": in.ID, "layout": in.Layout, "version": in.Version, "full_version": in.FullVersion,
			"prefix": in.Prefix, "on_path": nonNil(in.OnPath), "sapis": in.SAPIs,
		})
	}
	if rows == nil {
		rows = []map[string]any{}
	}
	exceeded := 0
	for _, n := range exceededIn {
		exceeded += n
	}
	if !live(h) && sapis > 0 {
		r.Add(check.OK, "under --root no PHP binary is run: the values are computed from the ini files", "")
	}
	r.Metrics = map[string]any{
		"installations":       rows,
		"sapis":               sapis,
		"mbstring_missing":    missing,
		"input_vars_exceeded": exceeded,
	}
	r.Perfdata = []check.Perf{
		{Label: "installations", Value: float64(len(ins)), Min: "0"},
		{Label: "sapis", Value: float64(sapis), Min: "0"},
		{Label: "mbstring_missing", Value: float64(missing), Min: "0"},
		{Label: "input_vars_exceeded", Value: float64(exceeded), Min: "0"},
	}
	r.Samples = append(r.Samples,
		check.Sample{Name: "hostfix_php_installations", Help: "PHP installations found", Type: "gauge", Value: float64(len(ins))},
		check.Sample{Name: "hostfix_php_mbstring_missing", Help: "SAPIs without mbstring", Type: "gauge", Value: float64(missing)},
	)
	switch {
	case len(ins) == 0:
		r.Summary = "no PHP installation found"
	default:
		r.Summary = fmt.Sprintf("%d PHP installation(s), %d SAPI(s)", len(ins), sapis)
		if missing > 0 {
			r.Summary += fmt.Sprintf(", mbstring missing for %d", missing)
		} else {
			r.Summary += ", mbstring loaded everywhere"
		}
		if exceeded > 0 {
			r.Summary += fmt.Sprintf(", %d \"Input variables exceeded\" log line(s)", exceeded)
		}
	}
	r.Normalize()
	return r, nil
}

func sapiLine(s *SAPI) string {
	mb := "no"
	if s.Mbstring {
		mb = "yes"
	}
	line := fmt.Sprintf("  %-9s mbstring %-3s  max_input_vars %d (%s)  max_multipart_body_parts %d", s.Name, mb, s.MaxInputVars, s.MaxInputVarsFrom, s.MaxMultipartBodyParts)
	if s.Suhosin != nil {
		line += fmt.Sprintf("  suhosin post %d request %d", s.Suhosin.PostMaxVars, s.Suhosin.RequestMaxVars)
	}
	ini := s.Ini
	if ini == "" {
		ini = "(none)"
	}
	line += "\n            ini " + ini
	if s.ScanDir != "" {
		line += "  scan dir " + s.ScanDir
	}
	if len(s.Services) > 0 {
		line += "  served by " + strings.Join(s.Services, ", ")
	}
	line += "  [" + s.Source + "]"
	return line
}

func cliWhy(s *SAPI) string {
	if s.Name == SAPICLI {
		return " (composer, drush and cron jobs need it)"
	}
	return ""
}

func firstNonEmpty(a ...string) string {
	for _, s := range a {
		if s != "" {
			return s
		}
	}
	return ""
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
