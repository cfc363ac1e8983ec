package smartermail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/hostfix/hostfix/pkg/human"
	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// Options are one migration's inputs. From, To, DomainsFrom and DomainsTo are user paths
// (folders as this machine sees them, shares included), not --root system paths.
type Options struct {
	Config      Config
	From, To    string
	DomainsFrom string // where the Domains tree is read; "" = from the old config
	DomainsTo   string // where it is written; "" = the old config's path, if usable here
	DomainsPath string // the Domains folder as the NEW server sees it; "" = DomainsTo
	Exclude     []string
	Overwrite   bool
	Rehash      bool
	// StateDir is the system path of the copy-tree resume state (plan.backup_dir/copytree).
	StateDir string
	// Progress receives copy progress per step ("domains", "config").
	Progress func(step string, p plan.CopyProgress)
	// GOOS is the system rules for this machine's paths and services (runtime.GOOS if empty).
	GOOS string
}

// Migration is what planning found, for the command's messages.
type Migration struct {
	Layout      *Layout
	DomainsFrom string
	DomainsTo   string
	OldDomains  string // the Domains root as the old config names it
	NewDomains  string // as the new config will name it
	Rewritten   int    // path values rewritten in the domains file
	Domains     plan.CopyTreeSummary
	Config      plan.CopyTreeSummary
}

// Plan plans migrating the installation o.From to o.To. Bad input and refused preflight
// checks are usage errors: nothing was copied.
func Plan(ctx context.Context, h *system.Host, o Options) (*plan.Plan, *Migration, error) {
	if o.GOOS == "" {
		o.GOOS = runtime.GOOS
	}
	if o.From == "" || o.To == "" {
		return nil, nil, usage.Errorf("smartermail migrate needs --from OLD_INSTALL and --to NEW_INSTALL")
	}
	for _, e := range []struct {
		name string
		pats []string
	}{{"smartermail.exclude", o.Config.Exclude}, {"--exclude", o.Exclude}} {
		for _, pat := range e.pats {
			if _, err := path.Match(pat, ""); err != nil {
				return nil, nil, usage.Errorf("%s %q: not a valid glob (* ? [a-z]; \\ escapes the next character: write / between folders); nothing was copied", e.name, usage.Clip(pat))
			}
		}
	}
	from, err := readableDir("--from", o.From)
	if err != nil {
		return nil, nil, err
	}
	to, err := userAbs("--to", o.To)
	if err != nil {
		return nil, nil, err
	}
	if fi, err := os.Stat(to); err == nil && !fi.IsDir() {
		return nil, nil, usage.Errorf("--to %s is not a folder", to)
	}
	if err := apart("--from", from, "--to", to); err != nil {
		return nil, nil, err
	}
	l, err := Detect(from)
	if err != nil {
		return nil, nil, usage.Wrap(err)
	}
	m := &Migration{Layout: l}
	p := plan.New("smartermail migrate")
	p.Secrets = append(p.Secrets, l.Secrets...)
	for _, e := range l.Evidence {
		p.Note("detected " + e + " in " + from)
	}

	var rewrite map[string]func([]byte) ([]byte, error)
	rewriteNote := -1 // index of the note announcing the rewrite's diff
	haveDomains := len(l.DomainPaths) > 0
	if !haveDomains {
		p.Note("the old config names no domain folders: only the configuration is copied")
	} else {
		if err := m.resolveDomains(from, to, o); err != nil {
			return nil, nil, err
		}
		p.Note(fmt.Sprintf("domains: %s (%s in the old config) -> %s", m.DomainsFrom, m.OldDomains, m.DomainsTo))
		if err := m.checkDomainFolders(p); err != nil {
			return nil, nil, err
		}
		old, _ := parseCfgPath(m.OldDomains)
		nw, _ := parseCfgPath(m.NewDomains)
		if o.DomainsPath == "" && old.windows && !nw.windows {
			// --domains-to is where this machine writes (a mount, a staging copy); a Windows
			// server cannot open that path, and every domain would fail to load.
			return nil, nil, usage.Errorf("pass --domains-path with the Domains folder as the new server sees it (e.g. D:\\SmarterMail\\Domains): the old config names Windows paths (%s), and --domains-to %s is not one; nothing was copied", m.OldDomains, m.DomainsTo)
		}
		if !old.Equal(nw) {
			mapper, _ := NewPathMapper(m.OldDomains, m.NewDomains)
			rw := rewriteXML
			if l.Kind == Current {
				rw = rewriteJSON
			}
			// Run once now to refuse a file that cannot be rewritten before anything is copied.
			data, err := os.ReadFile(filepath.Join(from, filepath.FromSlash(l.DomainsFile)))
			if err != nil {
				return nil, nil, err
			}
			if _, n, err := rw(data, mapper); err != nil {
				return nil, nil, usage.Errorf("rewrite %s: %v; nothing was copied", filepath.Join(from, filepath.FromSlash(l.DomainsFile)), err)
			} else {
				m.Rewritten = n
			}
			rewrite = map[string]func([]byte) ([]byte, error){l.DomainsFile: func(b []byte) ([]byte, error) {
				out, _, err := rw(b, mapper)
				return out, err
			}}
			rewriteNote = len(p.Notes)
			p.Note(fmt.Sprintf("the new server's %s gets %s rewritten from %s to %s (diff below)",
				filepath.Base(l.DomainsFile), plural(m.Rewritten, "path"), m.OldDomains, m.NewDomains))
		} else {
			p.Note("the domains path stays " + m.OldDomains + ": " + filepath.Base(l.DomainsFile) + " is copied unchanged")
		}
	}

	if err := serviceCheck(ctx, h, o, from, p); err != nil {
		return nil, nil, err
	}

	exclude := append(append([]string{}, o.Config.Exclude...), o.Exclude...)
	base := plan.CopyTreeOptions{
		Overwrite: o.Overwrite, Parallel: o.Config.Parallel, Rehash: o.Rehash, Secret: l.SecretFiles,
		StateDir: o.StateDir, Settle: o.Config.Settle, CheckSpace: true,
	}
	progress := func(step string) func(plan.CopyProgress) {
		if o.Progress == nil {
			return nil
		}
		return func(cp plan.CopyProgress) { o.Progress(step, cp) }
	}
	var (
		wg             sync.WaitGroup
		domAct, cfgAct plan.Action
		domErr, cfgErr error
	)
	if haveDomains {
		do := base
		do.Detail, do.Exclude, do.Progress = "Domains", exclude, progress("domains")
		wg.Add(1)
		go func() { // both settle checks wait at the same time
			defer wg.Done()
			domAct, m.Domains, domErr = plan.CopyTree(ctx, h, m.DomainsFrom, m.DomainsTo, do)
		}()
	}
	co := base
	co.Detail, co.Files, co.Rewrite, co.Progress = "configuration", l.ConfigFiles, rewrite, progress("config")
	cfgAct, m.Config, cfgErr = plan.CopyTree(ctx, h, from, to, co)
	wg.Wait()
	for _, err := range []error{domErr, cfgErr} {
		if err != nil {
			return nil, nil, copyRefusal(err)
		}
	}
	p.Add(domAct, cfgAct)
	if rewriteNote >= 0 && m.Config.Copy == 0 {
		// Nothing of the configuration is written: the rewritten file is there already.
		p.Notes[rewriteNote] = fmt.Sprintf("the new server's %s already names its domains under %s (rewritten by an earlier run)", filepath.Base(l.DomainsFile), m.NewDomains)
	}
	if haveDomains && !p.Empty() {
		dstFile := filepath.Join(to, filepath.FromSlash(l.DomainsFile))
		p.Verify(fmt.Sprintf("the new %s parses and names every domain under %s", filepath.Base(l.DomainsFile), m.NewDomains),
			func(context.Context, *plan.Run) error { return verifyDomainsFile(l, dstFile, m.NewDomains) })
	}

	if o.Config.Settle > 0 {
		p.Note(fmt.Sprintf("preflight: no source file changed size or time within %s", o.Config.Settle))
	}
	need := m.Domains.CopyBytes + m.Config.CopyBytes
	switch free := m.Domains.FreeBytes; {
	case haveDomains && free >= 0:
		p.Note(fmt.Sprintf("preflight: %s to copy, %s free at %s", human.Bytes(need), human.Bytes(free), m.DomainsTo))
	default:
		p.Note(fmt.Sprintf("preflight: %s to copy (free space at the destination unknown)", human.Bytes(need)))
	}
	if n := len(m.Domains.Overwrite) + len(m.Config.Overwrite); n > 0 {
		verb := "differ and are"
		if n == 1 {
			verb = "differs and is"
		}
		p.Note(fmt.Sprintf("--overwrite: %s at the destination %s replaced (saved in the run's backup first)", plural(n, "file"), verb))
	}
	for _, s := range []struct {
		dst string
		sum plan.CopyTreeSummary
		act plan.Action
	}{{m.DomainsTo, m.Domains, domAct}, {to, m.Config, cfgAct}} {
		if s.act != nil && !s.sum.Undoable {
			p.Note(fmt.Sprintf("%s is outside the root hostfix works under (%s): a failed run removes what it copied there, but hostfix undo cannot", s.dst, h.Root))
		}
	}
	for _, s := range manualSteps(l, m) {
		p.Note("then, by hand: " + s)
	}
	return p, m, nil
}

// verifyDomainsFile re-reads the installed domains file: it must parse, and name every
// domain folder under the new Domains root.
func verifyDomainsFile(l *Layout, file, root string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("verify %s: %w", file, unwrap(err))
	}
	var paths []string
	if l.Kind == Current {
		paths, err = jsonDataPaths(data)
	} else {
		var vals []string
		if vals, err = xmlValues(data); err == nil {
			paths = pathValues(vals)
		}
	}
	if err != nil {
		return fmt.Errorf("verify %s: %w", file, err)
	}
	want, _ := parseCfgPath(root)
	for _, s := range paths {
		c, _ := parseCfgPath(s)
		if _, ok := c.under(want); !ok {
			return fmt.Errorf("verify %s: it names %s, not under %s", file, s, root)
		}
	}
	if len(paths) != len(l.DomainPaths) {
		return fmt.Errorf("verify %s: %d domain paths, the old config had %d", file, len(paths), len(l.DomainPaths))
	}
	return nil
}

// copyRefusal makes the copy-tree preflight refusals usage errors (exit 2, nothing copied).
func copyRefusal(err error) error {
	var ce *plan.CopyConflictError
	var ue *plan.UnsettledError
	var se *plan.SpaceError
	if errors.As(err, &ce) || errors.As(err, &ue) || errors.As(err, &se) {
		return usage.Wrap(err)
	}
	return err
}

// manualSteps are the runbook's steps hostfix does not do.
func manualSteps(l *Layout, m *Migration) []string {
	steps := []string{
		"start the SmarterMail service on the new server (it reads the copied configuration at start)",
		"re-activate the license on the new server (Settings > Activation; the license may run on both servers for 30 days)",
		"make sure the new server's MX records were added 24-48 hours ago, then remove the old server's",
		"if the new server uses other DNS servers, set them in SmarterMail's settings",
	}
	if m.OldDomains != "" && m.NewDomains != "" && m.OldDomains != m.NewDomains {
		steps = append(steps, "check in the web interface that every domain loads from "+m.NewDomains)
	}
	return steps
}

// resolveDomains fills the Domains folders: where to read, where to write, and the path
// the new config names.
func (m *Migration) resolveDomains(from, to string, o Options) error {
	l := m.Layout
	root, ok := commonParent(l.DomainPaths)
	cp, _ := parseCfgPath(root)
	if !ok || len(cp.parts) == 0 {
		return usage.Errorf("the domain folders in %s (%s) have no common parent folder: they cannot be mapped to one --domains-path; nothing was copied",
			l.DomainsFile, strings.Join(first(l.DomainPaths, 3), ", "))
	}
	m.OldDomains = root
	seen := func(p string) (string, bool) { // the old config's path as this machine can open it
		c, ok := parseCfgPath(p)
		if !ok || c.windows != (o.GOOS == "windows") {
			return "", false
		}
		if host, _, ok := fromAdminShare(from); ok && o.GOOS == "windows" {
			if s, ok := adminShare(host, p); ok {
				return s, true
			}
		}
		return p, true
	}
	var err error
	switch {
	case o.DomainsFrom != "":
		if m.DomainsFrom, err = readableDir("--domains-from", o.DomainsFrom); err != nil {
			return err
		}
	default:
		s, ok := seen(root)
		if !ok {
			return usage.Errorf("the domains of %s live in %s (per %s), which this machine cannot open: pass --domains-from with that folder as seen from here; nothing was copied",
				from, root, filepath.Base(l.DomainsFile))
		}
		if m.DomainsFrom, err = readableDir("--domains-from (from "+filepath.Base(l.DomainsFile)+")", s); err != nil {
			return err
		}
	}
	switch {
	case o.DomainsTo != "":
		if m.DomainsTo, err = userAbs("--domains-to", o.DomainsTo); err != nil {
			return err
		}
	default:
		c, ok := parseCfgPath(root)
		if !ok || c.windows != (o.GOOS == "windows") {
			return usage.Errorf("pass --domains-to: the old domains path %s is not a path on this machine; nothing was copied", root)
		}
		m.DomainsTo = root
	}
	for _, pair := range [][4]string{
		{"--domains-from", m.DomainsFrom, "--domains-to", m.DomainsTo},
		{"--domains-from", m.DomainsFrom, "--to", to},
		{"--from", from, "--domains-to", m.DomainsTo},
	} {
		if err := apart(pair[0], pair[1], pair[2], pair[3]); err != nil {
			return err
		}
	}
	switch {
	case o.DomainsPath != "":
		m.NewDomains = o.DomainsPath
	default:
		m.NewDomains = m.DomainsTo
		if _, local, ok := fromAdminShare(m.DomainsTo); ok {
			m.NewDomains = local // \\new\D$\Mail\Domains is D:\Mail\Domains on the new server
		}
	}
	if _, ok := parseCfgPath(m.NewDomains); !ok {
		return usage.Errorf("--domains-path %s is not an absolute path: the domain paths cannot be mapped to it; nothing was copied", usage.ClipPath(m.NewDomains))
	}
	if err := checkNewPath("--domains-path", m.NewDomains); err != nil {
		return usage.Errorf("%v; nothing was copied", err)
	}
	return nil
}

// checkDomainFolders checks that the domain folders of the config are in DomainsFrom.
func (m *Migration) checkDomainFolders(p *plan.Plan) error {
	mapper, _ := NewPathMapper(m.OldDomains, "/")
	var missing []string
	accountLists := 0
	for _, dp := range m.Layout.DomainPaths {
		rel, _ := mapper.Map(dp)
		dir := filepath.Join(m.DomainsFrom, filepath.FromSlash(strings.TrimPrefix(rel, "/")))
		fi, err := os.Stat(dir)
		if err != nil || !fi.IsDir() {
			missing = append(missing, dp)
			continue
		}
		if _, _, ok := findChild(dir, "accountList.xml"); ok {
			accountLists++
		}
	}
	n := len(m.Layout.DomainPaths)
	if len(missing) == n {
		return usage.Errorf("none of the %s of the old config (%s) is in %s: is --domains-from the Domains folder?; nothing was copied",
			plural(n, "domain folder"), strings.Join(first(missing, 2), ", "), m.DomainsFrom)
	}
	if len(missing) > 0 {
		p.Note(fmt.Sprintf("%s named in the old config are not in %s (not copied): %s", plural(len(missing), "domain folder"), m.DomainsFrom, strings.Join(first(missing, 3), ", ")))
	}
	if m.Layout.Kind == Legacy {
		p.Note(fmt.Sprintf("found accountList.xml in %d of %s", accountLists, plural(n, "domain folder")))
	}
	return nil
}

// serviceCheck refuses a running SmarterMail service on this machine (and on the old
// server when --from is an administrative share), on Windows only.
func serviceCheck(ctx context.Context, h *system.Host, o Options, from string, p *plan.Plan) error {
	switch {
	case o.GOOS != "windows":
		p.Note("preflight: service check skipped (not Windows): make sure SmarterMail is stopped on both servers")
		return nil
	case !h.Live():
		p.Note("preflight: service check skipped under --root: make sure SmarterMail is stopped on both servers")
		return nil
	}
	type target struct{ host, argvKey string }
	targets := []target{{"", "smartermail.service_query"}}
	if host, _, ok := fromAdminShare(from); ok {
		targets = append(targets, target{host, "smartermail.remote_service_query"})
	}
	for _, t := range targets {
		tmpl := o.Config.ServiceQuery
		where := "this machine"
		if t.host != "" {
			tmpl, where = o.Config.RemoteServiceQuery, t.host
		}
		if len(tmpl) == 0 {
			p.Note("preflight: service check on " + where + " skipped: " + t.argvKey + " is empty")
			continue
		}
		found := false
		for _, name := range o.Config.ServiceNames {
			argv := make([]string, len(tmpl))
			for i, a := range tmpl {
				argv[i] = strings.NewReplacer("{service}", name, "{host}", t.host).Replace(a)
			}
			res, err := h.Runner.Run(ctx, system.Cmd{Argv: argv})
			state, exists := parseSCState(string(res.Stdout) + string(res.Stderr))
			if err != nil && !exists {
				var ee *system.ExitError
				if errors.As(err, &ee) {
					continue // FAILED 1060: no such service
				}
				return fmt.Errorf("ask the service manager about %s on %s: %w", name, where, err)
			}
			if !exists {
				continue
			}
			found = true
			if state != "STOPPED" {
				return usage.Errorf("the %s service on %s is %s (%s): stop it (sc stop %s) and run again; nothing was copied",
					name, where, strings.ToLower(state), system.FormatArgv(argv), name)
			}
			p.Note(fmt.Sprintf("preflight: service %s on %s is stopped (%s)", name, where, system.FormatArgv(argv)))
		}
		if !found {
			p.Note(fmt.Sprintf("preflight: no service named %s on %s", strings.Join(o.Config.ServiceNames, " or "), where))
		}
	}
	return nil
}

// parseSCState reads "STATE : 4  RUNNING" from sc query's output.
func parseSCState(out string) (string, bool) {
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(k) != "STATE" {
			continue
		}
		f := strings.Fields(v)
		if len(f) >= 2 {
			return f[1], true
		}
	}
	return "", false
}

// readableDir checks a user folder exists and can be listed.
func readableDir(flag, p string) (string, error) {
	abs, err := userAbs(flag, p)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", usage.Errorf("%s %s: no such folder; nothing was copied", flag, abs)
		}
		return "", usage.Errorf("%s %s: %v; nothing was copied", flag, abs, unwrap(err))
	}
	if !fi.IsDir() {
		return "", usage.Errorf("%s %s: not a folder; nothing was copied", flag, abs)
	}
	f, err := os.Open(abs)
	if err == nil {
		_, err = f.Readdirnames(1)
		f.Close()
		if errors.Is(err, io.EOF) {
			err = nil
		}
	}
	if err != nil {
		return "", usage.Errorf("%s %s: cannot be read (%v); nothing was copied", flag, abs, unwrap(err))
	}
	return abs, nil
}

func userAbs(flag, p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", usage.Errorf("%s %s: %v", flag, p, err)
	}
	return abs, nil
}

func unwrap(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// apart refuses two folders that are the same or inside one another (symlinks resolved).
func apart(fa, a, fb, b string) error {
	ra, rb := realish(a), realish(b)
	pa, ok1 := parseCfgPath(ra)
	pb, ok2 := parseCfgPath(rb)
	if !ok1 || !ok2 {
		return nil
	}
	if pa.Equal(pb) {
		return usage.Errorf("%s and %s are the same folder (%s): nothing to copy; nothing was copied", fa, fb, a)
	}
	if _, in := pb.under(pa); in {
		return usage.Errorf("%s %s is inside %s %s: a copy would copy itself; nothing was copied", fb, b, fa, a)
	}
	if _, in := pa.under(pb); in {
		return usage.Errorf("%s %s is inside %s %s: a copy would copy itself; nothing was copied", fa, a, fb, b)
	}
	return nil
}

// realish resolves symlinks of the longest existing prefix of p.
func realish(p string) string {
	rest := ""
	for cur := p; ; {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return p
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}
