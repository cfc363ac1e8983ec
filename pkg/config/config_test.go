package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// rooted resolves system paths under dir, as Host.Path does for --root.
func rooted(dir string) func(string) string {
	return func(p string) string { return filepath.Join(dir, p) }
}

func TestDefaultsOnly(t *testing.T) {
	l, err := Load(Options{Resolve: rooted(t.TempDir()), Getenv: env()})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(l.Values(), flatten(reflect.ValueOf(Default()), "")) {
		t.Errorf("values differ from defaults:\n%v\n%v", l.Values(), flatten(reflect.ValueOf(Default()), ""))
	}
	if l.File != "" || l.Looked != DefaultFile {
		t.Errorf("File = %q, Looked = %q; want none read, %s looked for", l.File, l.Looked, DefaultFile)
	}
	if len(l.Keys) == 0 || len(l.Keys) != len(l.Sources) {
		t.Fatalf("keys %d, sources %d", len(l.Keys), len(l.Sources))
	}
	for _, k := range l.Keys {
		if l.Sources[k].Kind != FromDefault {
			t.Errorf("%s: source %v, want default", k, l.Sources[k])
		}
	}
	if l.Keys[0] != "plan.lock_file" {
		t.Errorf("keys not in declaration order: first is %s", l.Keys[0])
	}
}

// TestPrecedence walks one key through every layer: default < file < env < flag.
func TestPrecedence(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "etc/hostfix/config.yaml", "# comment\nsynflood:\n  interval: 2s\n  top_sources: 7\nmailq:\n  warn_messages: 5\n")

	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.Duration("interval", time.Second, "")
	fs.Int("top", 10, "")
	fs.Int("warn", 0, "")
	if err := fs.Parse([]string{"--interval=4s"}); err != nil {
		t.Fatal(err)
	}
	flags := map[string]*pflag.Flag{
		"synflood.interval":    fs.Lookup("interval"),
		"synflood.top_sources": fs.Lookup("top"),  // bound, not set: must not override
		"mailq.warn_messages":  fs.Lookup("warn"), // bound, not set
	}
	cases := []struct {
		name     string
		getenv   func(string) string
		flags    map[string]*pflag.Flag
		interval time.Duration
		src      Source
	}{
		{"file", env(), nil, 2 * time.Second, Source{FromFile, DefaultFile + ":3"}},
		{"env over file", env("HOSTFIX_SYNFLOOD_INTERVAL", "3s"), nil, 3 * time.Second, Source{FromEnv, "HOSTFIX_SYNFLOOD_INTERVAL"}},
		{"empty env is unset", env("HOSTFIX_SYNFLOOD_INTERVAL", ""), nil, 2 * time.Second, Source{FromFile, DefaultFile + ":3"}},
		{"flag over env", env("HOSTFIX_SYNFLOOD_INTERVAL", "3s"), flags, 4 * time.Second, Source{FromFlag, "--interval"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, err := Load(Options{Resolve: rooted(root), Getenv: c.getenv, Flags: c.flags})
			if err != nil {
				t.Fatal(err)
			}
			if got := l.Config.Synflood.Interval; got != c.interval {
				t.Errorf("interval = %v, want %v", got, c.interval)
			}
			if got := l.Sources["synflood.interval"]; got != c.src {
				t.Errorf("source = %v, want %v", got, c.src)
			}
			// Untouched layers stay where they are.
			if l.Config.Synflood.TopSources != 7 || l.Sources["synflood.top_sources"].Kind != FromFile {
				t.Errorf("top_sources = %d from %v, want 7 from the file", l.Config.Synflood.TopSources, l.Sources["synflood.top_sources"])
			}
			if l.Config.Mailq.WarnMessages != 5 {
				t.Errorf("an unset bound flag overrode the file: warn_messages = %d", l.Config.Mailq.WarnMessages)
			}
			if l.Config.Synflood.Backlog != Default().Synflood.Backlog || l.Sources["synflood.backlog"].Kind != FromDefault {
				t.Errorf("backlog = %d from %v, want the default", l.Config.Synflood.Backlog, l.Sources["synflood.backlog"])
			}
			if l.File != DefaultFile {
				t.Errorf("File = %q", l.File)
			}
		})
	}
}

func TestExplicitFileIsNotRooted(t *testing.T) {
	root, other := t.TempDir(), t.TempDir()
	writeFile(t, root, "etc/hostfix/config.yaml", "synflood:\n  backlog: 1\n")
	p := writeFile(t, other, "mine.yaml", "synflood:\n  backlog: 4096\n")
	l, err := Load(Options{File: p, Resolve: rooted(root), Getenv: env()})
	if err != nil {
		t.Fatal(err)
	}
	if l.Config.Synflood.Backlog != 4096 {
		t.Errorf("backlog = %d: --config must read the file given, not the one under --root", l.Config.Synflood.Backlog)
	}
	if want := (Source{FromFile, p + ":2"}); l.Sources["synflood.backlog"] != want {
		t.Errorf("source = %v, want %v", l.Sources["synflood.backlog"], want)
	}
}

func TestMissingFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(Options{Resolve: rooted(dir), Getenv: env()}); err != nil {
		t.Errorf("no default config file must be fine: %v", err)
	}
	// A huge --config is echoed cut to usage.MaxEchoPath characters (a path is only useful
	// whole, so only a pathological one is cut).
	if _, err := Load(Options{File: filepath.Join(dir, strings.Repeat("c", 400)), Getenv: env()}); err == nil || len(err.Error()) > 400 || !strings.Contains(err.Error(), "…") {
		t.Errorf("huge --config: %v", err)
	}
	missing := filepath.Join(dir, "nope.yaml")
	_, err := Load(Options{File: missing, Getenv: env()})
	if err == nil || !strings.Contains(err.Error(), "config "+missing+": no such file or directory") || !strings.Contains(err.Error(), "--config") {
		t.Errorf("missing --config file: got %v", err)
	}
}

func TestEnvAndFlagValues(t *testing.T) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.StringSlice("start", nil, "")
	fs.Float64("warn-pct", 0, "")
	if err := fs.Parse([]string{"--start=svc", "--start=-u", "--start=/service/qmail-send", "--warn-pct=12.5"}); err != nil {
		t.Fatal(err)
	}
	l, err := Load(Options{Resolve: rooted(t.TempDir()), Getenv: env(
		"HOSTFIX_MAILQ_STOP_COMMAND", "qmailctl  stop",
		"HOSTFIX_MAILQ_WARN_AGE", "90m",
		"HOSTFIX_SYNFLOOD_TOP_SOURCES", " 3 ",
		"HOSTFIX_SYNFLOOD_DROPS_CRIT_RATE", "0.5",
		"HOSTFIX_SYNFLOOD_INTERVAL", "0",
	), Flags: map[string]*pflag.Flag{
		"mailq.start_command":         fs.Lookup("start"),
		"synflood.queue_warn_percent": fs.Lookup("warn-pct"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	c := l.Config
	if want := []string{"qmailctl", "stop"}; !reflect.DeepEqual(c.Mailq.StopCommand, want) {
		t.Errorf("stop_command = %q, want %q (words of the variable)", c.Mailq.StopCommand, want)
	}
	if want := []string{"svc", "-u", "/service/qmail-send"}; !reflect.DeepEqual(c.Mailq.StartCommand, want) {
		t.Errorf("start_command = %q, want %q", c.Mailq.StartCommand, want)
	}
	if c.Mailq.WarnAge != 90*time.Minute || c.Synflood.TopSources != 3 || c.Synflood.DropsCritRate != 0.5 ||
		c.Synflood.QueueWarnPercent != 12.5 || c.Synflood.Interval != 0 {
		t.Errorf("typed values wrong: %+v %+v", c.Mailq, c.Synflood)
	}
	if v := l.Values()["mailq.warn_age"]; v != "1h30m0s" {
		t.Errorf("Values() shows durations as %v, want 1h30m0s", v)
	}
}

func TestFileValues(t *testing.T) {
	p := writeFile(t, t.TempDir(), "c.yaml", `
Synflood:            # keys are case-insensitive, like viper's
  Interval: 1m
  queue_warn_percent: 75      # an integer into a float
  state_file: ""
mailq:
  stop_command: [svc, -d, /service/qmail-send]
  start_command: qmailctl start
synflood2_is_not_here: null
`)
	_, err := Load(Options{File: p, Getenv: env()})
	if err == nil || !strings.Contains(err.Error(), p+":9: unknown key \"synflood2_is_not_here\"") {
		t.Fatalf("got %v", err)
	}
	writeFile(t, filepath.Dir(p), "c.yaml", `
Synflood:
  Interval: 1m
  queue_warn_percent: 75
  state_file: ""
synflood:
  backlog: 0
mailq:
  stop_command: [svc, -d, /service/qmail-send]
  start_command: qmailctl start
`)
	_, err = Load(Options{File: p, Getenv: env()})
	if err == nil || !strings.Contains(err.Error(), p+`:6: "synflood" is given twice (first on line 2); keep one`) {
		t.Errorf("a section given twice must be refused, got %v", err)
	}
	writeFile(t, filepath.Dir(p), "c.yaml", `
Synflood:
  Interval: 1m
  queue_warn_percent: 75
  state_file: ""
mailq:
  stop_command: [svc, -d, /service/qmail-send]
  start_command: qmailctl start
plan:
`)
	l, err := Load(Options{File: p, Getenv: env()})
	if err != nil {
		t.Fatal(err)
	}
	c := l.Config
	if c.Synflood.Interval != time.Minute || c.Synflood.QueueWarnPercent != 75 || c.Synflood.StateFile != "" {
		t.Errorf("synflood = %+v", c.Synflood)
	}
	if !reflect.DeepEqual(c.Mailq.StopCommand, []string{"svc", "-d", "/service/qmail-send"}) ||
		!reflect.DeepEqual(c.Mailq.StartCommand, []string{"qmailctl", "start"}) {
		t.Errorf("commands = %q %q", c.Mailq.StopCommand, c.Mailq.StartCommand)
	}
	if c.Plan != Default().Plan {
		t.Errorf("an empty section must keep the defaults: %+v", c.Plan)
	}
	if got := l.Sources["synflood.interval"]; got != (Source{FromFile, p + ":3"}) {
		t.Errorf("source = %v", got)
	}
}

// TestErrors: every bad input names where it came from and what is wrong.
func TestErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, file string
		getenv     func(string) string
		want       string
	}{
		{"yaml syntax", "synflood:\n  interval: 1s\n  backlog: 3\n    x: 1\n", env(), ":4: mapping values are not allowed in this context (not valid YAML)"},
		{"duplicate leaf", "synflood:\n  backlog: 1\n  backlog: 2\n", env(), `:3: "synflood.backlog" is given twice (first on line 2)`},
		{"yaml tab", "synflood:\n\tinterval: 1s\n", env(), ":2: found character that cannot start any token (not valid YAML)"},
		{"unknown top key", "plan: {}\nsynfloood:\n  interval: 1s\n", env(), `:2: unknown key "synfloood" (see ` + "`hostfix config show`"},
		{"unknown nested key", "synflood:\n  interval: 1s\n  intervall: 2s\n", env(), `:3: unknown key "synflood.intervall"`},
		{"section not mapping", "synflood: 5\n", env(), `:1: "synflood" is a section; want a mapping under it`},
		{"leaf is mapping", "synflood:\n  interval:\n    seconds: 1\n", env(), ":2: synflood.interval: want a duration such as 30s, got a mapping"},
		{"leaf without value", "synflood:\n  backlog:\n", env(), ":2: synflood.backlog has no value"},
		{"not a mapping", "- synflood\n", env(), ":1: want a mapping of settings at the top"},
		{"bad duration", "mailq:\n  lock_wait: soon\n", env(), `:2: mailq.lock_wait: "soon" is not a duration`},
		{"duration without unit", "mailq:\n  lock_wait: 30\n", env(), ":2: mailq.lock_wait: 30 has no unit"},
		{"float into int", "synflood:\n  top_sources: 1.5\n", env(), ":2: synflood.top_sources: 1.5 is not a whole number"},
		{"string into int", "synflood:\n  backlog: lots\n", env(), `:2: synflood.backlog: "lots" is not a whole number`},
		{"list into string", "mailq:\n  queue: [a, b]\n", env(), ":2: mailq.queue: want a single value, got a list"},
		{"mapping in command", "mailq:\n  stop_command: [a, {b: c}]\n", env(), ":2: mailq.stop_command: item 2: want a single value, got a mapping"},
		{"alias", "a: &x 1\nsynflood:\n  backlog: *x\n", env(), `:1: unknown key "a"`},
		// A command on one line is split at whitespace only: quotes would be split wrongly
		// (touch '"a' 'b"'), so they are refused rather than run.
		{"quotes in one-line command", "smtpport:\n  xinetd_reload_command: touch \"a b\"\n", env(), `:2: smtpport.xinetd_reload_command: "touch \"a b\"": quotes and backslashes are not parsed in a value on one line (it is split at spaces); write it as a list in the config file: [word, "word with spaces"]`},
		{"env quotes in command", "", env("HOSTFIX_MAILQ_STOP_COMMAND", "svc -d '/service/qmail send'"), `env HOSTFIX_MAILQ_STOP_COMMAND: mailq.stop_command: "svc -d '/service/qmail send'": quotes and backslashes are not parsed`},
		{"env backslash in command", "", env("HOSTFIX_MAILQ_STOP_COMMAND", `svc -d /service/qmail\ send`), `quotes and backslashes are not parsed`},
		{"env bad int", "", env("HOSTFIX_SYNFLOOD_BACKLOG", "2k"), `env HOSTFIX_SYNFLOOD_BACKLOG: synflood.backlog: "2k" is not a whole number`},
		{"env bad duration", "", env("HOSTFIX_MAILQ_WARN_AGE", "1d"), `env HOSTFIX_MAILQ_WARN_AGE: mailq.warn_age: "1d" is not a duration`},
		// A duration with a unit that overflows was told to "write it with a unit".
		{"duration out of range", "mailq:\n  lock_wait: 99999999h\n", env(), `:2: mailq.lock_wait: "99999999h" is too long (at most 2562047h, about 292 years)`},
		{"env bad float", "", env("HOSTFIX_SYNFLOOD_QUEUE_WARN_PERCENT", "half"), `env HOSTFIX_SYNFLOOD_QUEUE_WARN_PERCENT: synflood.queue_warn_percent: "half" is not a number`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeFile(t, dir, strings.ReplaceAll(c.name, " ", "_")+".yaml", c.file)
			_, err := Load(Options{File: p, Getenv: c.getenv})
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			want := c.want
			if strings.HasPrefix(want, ":") {
				want = "config " + p + want
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error\n  %v\nwant it to contain\n  %s", err, want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestFlagErrors(t *testing.T) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.String("backlog", "", "")
	fs.String("nowhere", "", "")
	if err := fs.Parse([]string{"--backlog=big", "--nowhere=x"}); err != nil {
		t.Fatal(err)
	}
	_, err := Load(Options{Resolve: rooted(t.TempDir()), Getenv: env(), Flags: map[string]*pflag.Flag{"synflood.backlog": fs.Lookup("backlog")}})
	if err == nil || err.Error() != `flag --backlog: synflood.backlog: "big" is not a whole number` {
		t.Errorf("got %v", err)
	}
	_, err = Load(Options{Resolve: rooted(t.TempDir()), Getenv: env(), Flags: map[string]*pflag.Flag{"synflood.nope": fs.Lookup("nowhere")}})
	if err == nil || !strings.Contains(err.Error(), `flag --nowhere bound to unknown config key "synflood.nope"`) {
		t.Errorf("got %v", err)
	}
}

func TestEnvNames(t *testing.T) {
	if got := EnvName("synflood.queue_warn_percent"); got != "HOSTFIX_SYNFLOOD_QUEUE_WARN_PERCENT" {
		t.Errorf("EnvName = %s", got)
	}
	seen := map[string]string{}
	for _, f := range Fields() {
		n := EnvName(f.Key)
		if other, dup := seen[n]; dup {
			t.Errorf("%s and %s share the variable %s", f.Key, other, n)
		}
		seen[n] = f.Key
		if strings.ToLower(f.Key) != f.Key {
			t.Errorf("key %s is not lower case (viper lower-cases keys)", f.Key)
		}
	}
}

// TestEveryFieldLoads: each field type in Config has a strict rule (no silent fallback).
func TestEveryFieldLoads(t *testing.T) {
	for _, f := range Fields() {
		switch f.Type.Kind() {
		case reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Float64:
		case reflect.Slice:
			if f.Type.Elem().Kind() != reflect.String {
				t.Errorf("%s: %s has no strict rule in setField", f.Key, f.Type)
			}
		default:
			t.Errorf("%s: %s has no strict rule in setField", f.Key, f.Type)
		}
	}
}
