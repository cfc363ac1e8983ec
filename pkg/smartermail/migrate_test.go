package smartermail_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hostfix/hostfix/internal/smartermailgen"
	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/smartermail"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// env is a --root with an old installation and its Domains under srv/, generated.
type env struct {
	t   *testing.T
	dir string
	h   *system.Host
	cfg plan.Config
	gen smartermailgen.Options
}

func newEnv(t *testing.T, gen smartermailgen.Options) *env {
	t.Helper()
	dir := t.TempDir()
	h, err := system.NewHost(dir, &system.Recorder{})
	if err != nil {
		t.Fatal(err)
	}
	gen.Install = filepath.Join(dir, "srv", "old", "SmarterMail")
	if gen.Domains == "" {
		gen.Domains = filepath.Join(dir, "srv", "old", "Domains")
	}
	if _, err := smartermailgen.Write(gen); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, dir: dir, h: h, cfg: plan.DefaultConfig(), gen: gen}
}

func (e *env) opts() smartermail.Options {
	cfg := smartermail.DefaultConfig()
	cfg.Settle = 0
	return smartermail.Options{
		Config:      cfg,
		From:        e.gen.Install,
		To:          filepath.Join(e.dir, "srv", "new", "SmarterMail"),
		DomainsFrom: e.gen.Domains,
		DomainsTo:   filepath.Join(e.dir, "srv", "new", "Domains"),
		StateDir:    "/var/backups/hostfix/copytree",
		GOOS:        "linux",
	}
}

func (e *env) plan(o smartermail.Options) (*plan.Plan, *smartermail.Migration) {
	e.t.Helper()
	p, m, err := smartermail.Plan(context.Background(), e.h, o)
	if err != nil {
		e.t.Fatalf("Plan: %v", err)
	}
	return p, m
}

func (e *env) apply(p *plan.Plan) *plan.Report {
	e.t.Helper()
	rep, err := plan.Apply(context.Background(), p, plan.Options{Host: e.h, Config: e.cfg, User: "test"})
	if err != nil {
		e.t.Fatalf("Apply: %v", err)
	}
	return rep
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMigrateLegacyWithPathRewrite(t *testing.T) {
	e := newEnv(t, smartermailgen.Options{Layout: "legacy", ConfigDomainsRoot: `\\fs1\Mail$\SmarterMail\Domains`,
		DomainNames: []string{"bücher.example", "xn--bcher-kva.example", "a&b.example"}, Users: 2, Messages: 4, Depth: 4, Excludable: true})
	o := e.opts()
	o.DomainsPath = `D:\Mail\Domains`
	p, m := e.plan(o)
	if m.Layout.Kind != smartermail.Legacy || m.OldDomains != `\\fs1\Mail$\SmarterMail\Domains` || m.Rewritten != 3 {
		t.Fatalf("migration %+v", m)
	}
	if len(p.Actions) != 2 {
		t.Fatalf("%d actions", len(p.Actions))
	}
	prev := plan.Preview(p)
	var all strings.Builder
	plan.WriteJSON(&all, prev)
	if strings.Contains(all.String(), smartermailgen.Secret) {
		t.Fatal("the dry-run shows the mailConfig.xml secret")
	}
	for _, want := range []string{"detected legacy layout", `Service\\mailConfig.xml`, "greylist.dat", "found accountList.xml in 3 of 3"} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("dry-run lacks %q", want)
		}
	}
	if d := p.Actions[1].Describe().Diff; !strings.Contains(d, `+    <path>D:\Mail\Domains\bücher.example</path>`) {
		t.Errorf("diff:\n%s", d)
	}
	e.apply(p)
	dl := read(t, filepath.Join(o.To, "Service", "domainList.xml"))
	if !strings.Contains(dl, `<path>D:\Mail\Domains\bücher.example</path>`) || strings.Contains(dl, `fs1`) {
		t.Errorf("domainList.xml:\n%s", dl)
	}
	if read(t, filepath.Join(o.To, "Service", "mailConfig.xml")) != read(t, filepath.Join(o.From, "Service", "mailConfig.xml")) {
		t.Error("mailConfig.xml not copied verbatim")
	}
	if _, err := os.Stat(filepath.Join(o.To, "Service", "other.log")); err == nil {
		t.Error("copied a Service file the runbook does not list")
	}
	deep := filepath.Join(o.DomainsTo, "bücher.example", "Users", "user1", "Mail", "f0", "f1", "f0", "f0", "00000003.eml")
	if _, err := os.Stat(deep); err != nil {
		t.Errorf("deep message not copied: %v", err)
	}
	for _, ex := range []string{"domain.stat3", "group.grp", "IndexV2"} {
		if _, err := os.Stat(filepath.Join(o.DomainsTo, "a&b.example", ex)); err == nil {
			t.Errorf("%s was copied despite the default excludes", ex)
		}
	}
	// Idempotent: plan again -> nothing to do.
	p2, _ := e.plan(o)
	if !p2.Empty() {
		t.Errorf("second plan not empty: %s", plan.Preview(p2).Summary())
	}
}

func TestMigrateCurrentLayout(t *testing.T) {
	e := newEnv(t, smartermailgen.Options{Layout: "current", ConfigDomainsRoot: `c:/SmarterMail/Domains`,
		DomainNames: []string{"例え.jp", "example.com"}})
	o := e.opts()
	o.DomainsPath = `E:\SM\Domains`
	p, m := e.plan(o)
	if m.Layout.Kind != smartermail.Current || m.Rewritten != 2 {
		t.Fatalf("migration %+v", m)
	}
	for _, s := range m.Layout.Secrets {
		if s == smartermailgen.Secret {
			goto found
		}
	}
	t.Errorf("the settings password is not among the secrets: %q", m.Layout.Secrets)
found:
	e.apply(p)
	dj := read(t, filepath.Join(o.To, "Service", "Settings", "domains.json"))
	if !strings.Contains(dj, `"E:\\SM\\Domains\\例え.jp"`) {
		t.Errorf("domains.json:\n%s", dj)
	}
	if _, err := os.Stat(filepath.Join(o.To, "Service", "Settings", "licensing.json")); err != nil {
		t.Error("settings not copied")
	}
	if p2, _ := e.plan(o); !p2.Empty() {
		t.Error("second plan not empty")
	}
}

func TestMigrateSamePathNoRewrite(t *testing.T) {
	e := newEnv(t, smartermailgen.Options{Layout: "legacy", ConfigDomainsRoot: `C:\SmarterMail\Domains`})
	o := e.opts()
	o.DomainsPath = `c:\smartermail\domains\` // the same folder, spelled differently
	p, m := e.plan(o)
	if m.Rewritten != 0 {
		t.Errorf("rewrote %d paths for an unchanged domains path", m.Rewritten)
	}
	e.apply(p)
	if read(t, filepath.Join(o.To, "Service", "domainList.xml")) != read(t, filepath.Join(o.From, "Service", "domainList.xml")) {
		t.Error("domainList.xml changed although the path did not")
	}
}

func TestMigrateOverwriteRefusedThenAllowed(t *testing.T) {
	e := newEnv(t, smartermailgen.Options{Layout: "legacy"})
	o := e.opts()
	o.DomainsPath = `D:\D`
	// A fresh installation on the new server has its own default mailConfig.xml.
	fresh := filepath.Join(o.To, "Service", "mailConfig.xml")
	os.MkdirAll(filepath.Dir(fresh), 0o755)
	os.WriteFile(fresh, []byte("<mailConfig/>"), 0o644)
	_, _, err := smartermail.Plan(context.Background(), e.h, o)
	if !usage.Is(err) || !strings.Contains(err.Error(), "Service/mailConfig.xml") || !strings.Contains(err.Error(), "--overwrite") {
		t.Fatalf("want a refusal naming mailConfig.xml, got %v", err)
	}
	if _, err := os.Stat(o.DomainsTo); err == nil {
		t.Fatal("something was copied")
	}
	o.Overwrite = true
	p, _ := e.plan(o)
	rep := e.apply(p)
	if read(t, fresh) == "<mailConfig/>" {
		t.Fatal("not overwritten")
	}
	saved := filepath.Join(e.h.Path(e.cfg.BackupDir), rep.RunID, "files", e.h.Unroot(fresh))
	if read(t, saved) != "<mailConfig/>" {
		t.Error("the replaced file is not in the backup")
	}
}

func TestMigrateBadInput(t *testing.T) {
	e := newEnv(t, smartermailgen.Options{Layout: "legacy"})
	spread := newEnv(t, smartermailgen.Options{Layout: "legacy", ConfigDomainsRoot: `C:\`, DomainNames: []string{"a.example"}})
	notInstall := t.TempDir()
	os.MkdirAll(filepath.Join(notInstall, "Service"), 0o755)
	os.WriteFile(filepath.Join(notInstall, "Service", "mailConfig.xml"), []byte("<x/>"), 0o644)
	for _, c := range []struct {
		name string
		mod  func(*smartermail.Options)
		want string
	}{
		{"missing from", func(o *smartermail.Options) { o.From = filepath.Join(e.dir, "nope") }, "no such folder"},
		{"from is a file", func(o *smartermail.Options) { o.From = filepath.Join(o.From, "Service", "greylist.dat") }, "not a folder"},
		{"same folder", func(o *smartermail.Options) { o.To = o.From + "/" }, "are the same folder"},
		{"to inside from", func(o *smartermail.Options) { o.To = filepath.Join(o.From, "copy") }, "is inside --from"},
		{"from inside to", func(o *smartermail.Options) { o.To = filepath.Dir(o.From) }, "is inside --to"},
		{"domains to inside domains from", func(o *smartermail.Options) { o.DomainsTo = filepath.Join(o.DomainsFrom, "x") }, "is inside --domains-from"},
		{"not an installation", func(o *smartermail.Options) { o.From = notInstall }, `looked for Service\mailConfig.xml and Service\domainList.xml (legacy) or Service\Settings\domains.json (current) and found only Service\mailConfig.xml`},
		{"domains-path relative", func(o *smartermail.Options) { o.DomainsPath = `Mail\Domains` }, "cannot be mapped"},
		{"windows config path on linux without --domains-from", func(o *smartermail.Options) { o.DomainsFrom = "" }, "pass --domains-from"},
		{"wrong domains-from", func(o *smartermail.Options) { o.DomainsFrom = t.TempDir() }, "none of the 2 domain folders"},
		// The default --domains-path is --domains-to: a staging path like /srv/new/Domains
		// was written into the config of a Windows server, which cannot open it.
		{"windows config, posix domains-to, no domains-path", func(o *smartermail.Options) { o.DomainsPath = "" }, `pass --domains-path with the Domains folder as the new server sees it`},
		// A malformed glob matched nothing, silently: what the user meant to leave out was copied.
		{"bad exclude glob", func(o *smartermail.Options) { o.Exclude = []string{"*.eml", "[abc"} }, `--exclude "[abc": not a valid glob`},
		{"bad configured exclude glob", func(o *smartermail.Options) { o.Config.Exclude = []string{`Index\`} }, `smartermail.exclude "Index\\": not a valid glob`},
		// A Windows path the new server cannot open was written into its domainList.xml.
		{"domains-path with characters Windows refuses", func(o *smartermail.Options) { o.DomainsPath = `D:\Mail<new>\Domains` }, `--domains-path D:\Mail<new>\Domains: '<' cannot be in a Windows path`},
		{"domains-path wildcard", func(o *smartermail.Options) { o.DomainsPath = `\\new\Mail\Do?ains` }, `'?' cannot be in a Windows path`},
		// A 100,000-character folder name was written into the config (and echoed in full).
		{"domains-path folder name too long", func(o *smartermail.Options) { o.DomainsPath = `D:\` + strings.Repeat("a", 100000) }, `a folder name of 100000 characters (Windows allows 255)`},
		{"domains-path drive-relative", func(o *smartermail.Options) { o.DomainsPath = `D:` }, `--domains-path D: is relative to D:'s current folder: write D:\ for the drive's root`},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := e.opts()
			c.mod(&o)
			_, _, err := smartermail.Plan(context.Background(), e.h, o)
			if !usage.Is(err) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want a usage error with %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
	t.Run("domains without a common parent", func(t *testing.T) {
		o := spread.opts()
		_, _, err := smartermail.Plan(context.Background(), spread.h, o)
		if !usage.Is(err) || !strings.Contains(err.Error(), "cannot be mapped") {
			t.Fatalf("got %v", err)
		}
	})
	if os.Geteuid() != 0 { // root reads everything
		t.Run("unreadable from", func(t *testing.T) {
			o := e.opts()
			os.Chmod(o.From, 0)
			defer os.Chmod(o.From, 0o755)
			_, _, err := smartermail.Plan(context.Background(), e.h, o)
			if !usage.Is(err) || !strings.Contains(err.Error(), "cannot be read") {
				t.Fatalf("got %v", err)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(e.dir, "srv", "new")); !errors.Is(err, os.ErrNotExist) {
		t.Error("a refused plan created the destination")
	}
}

func TestMigrateServiceCheckOnWindows(t *testing.T) {
	e := newEnv(t, smartermailgen.Options{Layout: "legacy"})
	live := func(state string) (*system.Host, *system.Recorder) {
		rec := &system.Recorder{Func: func(c system.Cmd) (system.Result, error) {
			if c.Argv[len(c.Argv)-1] == "MailService" {
				r := system.Result{Stdout: []byte("[SC] EnumQueryServicesStatus:OpenService FAILED 1060:\n\nThe specified service does not exist as an installed service.\n"), ExitCode: 1060}
				return r, &system.ExitError{Cmd: c, Result: r}
			}
			return system.Result{Stdout: []byte("SERVICE_NAME: SmarterMail\n        TYPE               : 10  WIN32_OWN_PROCESS\n        STATE              : " + state + "\n")}, nil
		}}
		return &system.Host{Root: "/", Runner: rec}, rec
	}
	o := e.opts()
	o.GOOS = "windows"
	o.From = `\\oldsrv\c$\SmarterMail` // not reachable here: the service check comes after detection, so use a real folder below
	o.From = e.gen.Install
	o.DomainsPath = `D:\D`
	h, rec := live("4  RUNNING")
	_, _, err := smartermail.Plan(context.Background(), h, o)
	if !usage.Is(err) || !strings.Contains(err.Error(), "SmarterMail service on this machine is running") {
		t.Fatalf("got %v", err)
	}
	if got := system.FormatArgv(rec.Calls[0].Argv); got != "sc query SmarterMail" {
		t.Errorf("ran %s", got)
	}
	h, _ = live("1  STOPPED")
	p, _, err := smartermail.Plan(context.Background(), h, o)
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(p.Notes, "\n")
	if !strings.Contains(notes, "service SmarterMail on this machine is stopped (sc query SmarterMail)") {
		t.Errorf("notes:\n%s", notes)
	}
}
