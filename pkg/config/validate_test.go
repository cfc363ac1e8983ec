package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// TestLimits: values are checked after the merge, and the error names where the wrong
// value came from (file:line, variable, flag).
func TestLimits(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, file string
		getenv     func(string) string
		want       string // ":N: ..." is relative to the file
	}{
		{"negative duration in file", "synflood:\n  interval: -1s\n", env(), ":2: synflood.interval -1s: negative; want 0 or more"},
		{"negative count in file", "mailq:\n  warn_messages: -5\n", env(), ":2: mailq.warn_messages -5: negative; want 0 or more"},
		{"negative duration in env", "", env("HOSTFIX_PLAN_LOCK_TIMEOUT", "-30s"), "env HOSTFIX_PLAN_LOCK_TIMEOUT=-30s: negative; want 0 or more"},
		{"negative top sources", "", env("HOSTFIX_SYNFLOOD_TOP_SOURCES", "-1"), "env HOSTFIX_SYNFLOOD_TOP_SOURCES=-1: negative; want 0 or more"},
		{"percentage over 100", "synflood:\n  queue_crit_percent: 150\n", env(), ":2: synflood.queue_crit_percent 150: want at most 100"},
		{"warn above crit in file", "synflood:\n  queue_warn_percent: 90\n  queue_crit_percent: 80\n", env(),
			":2: synflood.queue_warn_percent 90: above synflood.queue_crit_percent 80 (config FILE:3); want it at most that"},
		{"warn above crit across sources", "mailq:\n  crit_messages: 100\n", env("HOSTFIX_MAILQ_WARN_MESSAGES", "500"),
			"env HOSTFIX_MAILQ_WARN_MESSAGES=500: above mailq.crit_messages 100 (config FILE:2); want it at most that"},
		{"warn age above crit age", "", env("HOSTFIX_MAILQ_WARN_AGE", "96h"), "env HOSTFIX_MAILQ_WARN_AGE=96h0m0s: above mailq.crit_age 72h0m0s (built-in default); want it at most that"},
		{"crit below the default warn", "", env("HOSTFIX_SYNFLOOD_QUEUE_CRIT_PERCENT", "40"),
			"env HOSTFIX_SYNFLOOD_QUEUE_CRIT_PERCENT=40: below synflood.queue_warn_percent 50 (built-in default); want it at least that"},
		{"probe warn above crit", "synflood:\n  probe_warn: 5s\n", env(), ":2: synflood.probe_warn 5s: above synflood.probe_crit 3s (built-in default); want it at most that"},
		{"backlog zero", "synflood:\n  backlog: 0\n", env(), ":2: synflood.backlog 0: want at least 1"},
		// A negative value under a min above 0 says that min, not "want 0 or more" (0 is refused too).
		{"backlog negative", "synflood:\n  backlog: -1\n", env(), ":2: synflood.backlog -1: want at least 1"},
		{"ratio over 1", "", env("HOSTFIX_SYNFLOOD_SPOOFED_RECV_RATIO", "1.5"), "env HOSTFIX_SYNFLOOD_SPOOFED_RECV_RATIO=1.5: want at most 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeFile(t, dir, strings.ReplaceAll(c.name, " ", "_")+".yaml", c.file)
			_, err := Load(Options{File: p, Getenv: c.getenv})
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			want := strings.ReplaceAll(c.want, "FILE", p)
			if strings.HasPrefix(want, ":") {
				want = "config " + p + want
			}
			if err.Error() != want {
				t.Errorf("error\n  %v\nwant\n  %s", err, want)
			}
		})
	}
	// 0 turns a threshold off: warn above a crit of 0 is fine, and so is the reverse.
	for _, e := range [][]string{{"HOSTFIX_MAILQ_CRIT_AGE", "0s"}, {"HOSTFIX_MAILQ_WARN_MESSAGES", "0"}} {
		if _, err := Load(Options{Resolve: rooted(t.TempDir()), Getenv: env(e...)}); err != nil {
			t.Errorf("%v: %v", e, err)
		}
	}
	// A flag is named as the user typed it.
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.Duration("interval", time.Second, "")
	if err := fs.Parse([]string{"--interval=-2s"}); err != nil {
		t.Fatal(err)
	}
	_, err := Load(Options{Resolve: rooted(t.TempDir()), Getenv: env(), Flags: map[string]*pflag.Flag{"synflood.interval": fs.Lookup("interval")}})
	if err == nil || err.Error() != "--interval -2s: negative; want 0 or more" {
		t.Errorf("flag: got %v", err)
	}
	// The defaults themselves pass.
	if _, err := Load(Options{Resolve: rooted(t.TempDir()), Getenv: env()}); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

// TestLimitsAreGeneric: a section the validator has never heard of gets the same rules
// from its field types and tags alone, which is all a new runbook has to write.
func TestLimitsAreGeneric(t *testing.T) {
	type section struct {
		Count  int           `mapstructure:"count"`
		Offset int           `mapstructure:"offset" limit:"signed"`
		Warn   time.Duration `mapstructure:"warn" limit:"lte=crit"`
		Crit   time.Duration `mapstructure:"crit" limit:"max=1h"`
		Share  float64       `mapstructure:"share" limit:"min=0.5,max=1"`
		Name   string        `mapstructure:"name"`
	}
	type cfg struct {
		New section `mapstructure:"newbook"`
	}
	fields := fieldsOf(reflect.TypeOf(cfg{}))
	src := map[string]Source{}
	for _, f := range fields {
		src[f.Key] = Source{Kind: FromEnv, Detail: EnvName(f.Key)}
	}
	ok := section{Offset: -3, Warn: time.Minute, Crit: time.Hour, Share: 0.5}
	cases := []struct {
		mod  func(*section)
		want string
	}{
		{func(*section) {}, ""},
		{func(s *section) { s.Count = -1 }, "env HOSTFIX_NEWBOOK_COUNT=-1: negative; want 0 or more"},
		{func(s *section) { s.Warn = 2 * time.Hour; s.Crit = time.Hour }, "env HOSTFIX_NEWBOOK_WARN=2h0m0s: above newbook.crit 1h0m0s (env HOSTFIX_NEWBOOK_CRIT); want it at most that"},
		{func(s *section) { s.Crit = 2 * time.Hour }, "env HOSTFIX_NEWBOOK_CRIT=2h0m0s: want at most 1h0m0s"},
		{func(s *section) { s.Share = 0.2 }, "env HOSTFIX_NEWBOOK_SHARE=0.2: want at least 0.5"},
		{func(s *section) { s.Share = -1 }, "env HOSTFIX_NEWBOOK_SHARE=-1: want at least 0.5"},
	}
	for _, c := range cases {
		s := ok
		c.mod(&s)
		err := validate(fields, reflect.ValueOf(cfg{New: s}), src)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
	// A tag that does not parse is a programming error, caught by any test that loads.
	type broken struct {
		S struct {
			X string `mapstructure:"x" limit:"max=3"`
		} `mapstructure:"s"`
	}
	if err := validate(fieldsOf(reflect.TypeOf(broken{})), reflect.ValueOf(broken{}), map[string]Source{}); err == nil || !strings.Contains(err.Error(), "internal") {
		t.Errorf("limit on a string: %v", err)
	}
}

// TestEveryLimitParses: the limits declared on the real Config are well formed.
func TestEveryLimitParses(t *testing.T) {
	for _, f := range Fields() {
		if _, err := parseLimit(f); err != nil {
			t.Error(err)
		}
	}
}

// TestUnknownEnvKey: HOSTFIX_<SECTION>_<KEY> with a known section and an unknown key is an
// error like an unknown key in the file; other HOSTFIX_ variables are not settings.
func TestUnknownEnvKey(t *testing.T) {
	load := func(environ ...string) error {
		m := map[string]string{}
		for _, kv := range environ {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = v
		}
		_, err := Load(Options{Resolve: rooted(t.TempDir()), Getenv: func(k string) string { return m[k] }, Environ: func() []string { return environ }})
		return err
	}
	err := load("PATH=/bin", "HOSTFIX_SYNFLOOD_INTERVALL=5s")
	if err == nil || err.Error() != "env HOSTFIX_SYNFLOOD_INTERVALL: unknown key \"synflood.intervall\" (see `hostfix config show` for the valid keys)" {
		t.Errorf("got %v", err)
	}
	if err := load("HOSTFIX_MAILQ_WARN_MESAGES=3"); err == nil || !strings.Contains(err.Error(), `"mailq.warn_mesages"`) {
		t.Errorf("got %v", err)
	}
	for _, ok := range [][]string{
		{"HOSTFIX_ROOT=/srv/x", "HOSTFIX_CONFIG=/x.yaml", "HOSTFIX_REQUIRE_INTEGRATION=1", "HOSTFIX_SOMETHING_ELSE=1"},
		{"HOSTFIX_SYNFLOOD_INTERVAL=2s", "HOSTFIX_SYNFLOOD_TYPO="}, // known key; an empty value sets nothing
	} {
		if err := load(ok...); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
}

// TestEchoedValuesClipped: a long bad value is cut in the error, which stays one line.
func TestEchoedValuesClipped(t *testing.T) {
	long := strings.Repeat("9x", 200)
	_, err := Load(Options{Resolve: rooted(t.TempDir()), Getenv: env("HOSTFIX_SYNFLOOD_BACKLOG", long)})
	if err == nil || len(err.Error()) > 160 || !strings.Contains(err.Error(), "…") {
		t.Errorf("got %v", err)
	}
}
