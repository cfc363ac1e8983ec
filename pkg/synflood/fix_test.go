package synflood

import (
	"context"
	"strings"
	"testing"

	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

func procSys(live map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range live {
		out[ProcSysPath(k)] = v + "\n"
	}
	return out
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

var defaultLive = map[string]string{KeySyncookies: "0", KeyMaxSynBacklog: "1024", KeySomaxconn: "4096", KeySynackRetries: "5"}

func apply(t *testing.T, h *system.Host, p *plan.Plan) {
	t.Helper()
	if _, err := plan.Apply(context.Background(), p, plan.Options{Host: h, Config: plan.DefaultConfig()}); err != nil {
		t.Fatalf("apply: %v", err)
	}
}

func readRoot(t *testing.T, h *system.Host, p string) string {
	t.Helper()
	b, err := h.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPlanFixIdempotent(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		opts  FixOptions
		// after apply: file -> substrings it must contain; live values
		want     map[string][]string
		wantLive map[string]string
	}{
		{
			name: "default drop-in, conflicting sysctl.conf and vendor file disabled",
			files: map[string]string{
				"/etc/sysctl.conf":                 "# keep me\nnet.ipv4.tcp_syncookies = 0\nvm.swappiness=10\n",
				"/etc/sysctl.d/99-sysctl.conf":     "->../sysctl.conf",
				"/usr/lib/sysctl.d/zz-vendor.conf": "net/ipv4/tcp_syncookies=0\n",
				"/usr/lib/sysctl.d/10-early.conf":  "net.ipv4.tcp_syncookies=0\n",
			},
			want: map[string][]string{
				"/etc/sysctl.d/99-zz-hostfix-synflood.conf": {"net.ipv4.tcp_syncookies = 1\n"},
				"/etc/sysctl.conf":                          {"# keep me\n", "# disabled by hostfix synflood fix: net.ipv4.tcp_syncookies", "# net.ipv4.tcp_syncookies = 0\n", "vm.swappiness=10\n"},
				"/usr/lib/sysctl.d/zz-vendor.conf":          {"# net/ipv4/tcp_syncookies=0\n"},
				// applied before the drop-in: overridden anyway, left alone
				"/usr/lib/sysctl.d/10-early.conf": {"net.ipv4.tcp_syncookies=0\n"},
			},
			wantLive: map[string]string{KeySyncookies: "1", KeyMaxSynBacklog: "1024"},
		},
		{
			name: "persist in /etc/sysctl.conf in place, backlog asked for, retries",
			files: map[string]string{
				"/etc/sysctl.conf":             "# local\nnet.ipv4.tcp_syncookies=0   \n\n# backlog\nnet.ipv4.tcp_max_syn_backlog  =  512\n",
				"/etc/sysctl.d/99-sysctl.conf": "->../sysctl.conf",
			},
			opts: FixOptions{Config: Config{PersistFile: "/etc/sysctl.conf", Backlog: 2048, SynackRetries: 3}, BacklogSet: true},
			want: map[string][]string{
				"/etc/sysctl.conf": {"# local\nnet.ipv4.tcp_syncookies=1   \n\n# backlog\nnet.ipv4.tcp_max_syn_backlog  =  2048\nnet.ipv4.tcp_synack_retries = 3\n"},
			},
			wantLive: map[string]string{KeySyncookies: "1", KeyMaxSynBacklog: "2048", KeySynackRetries: "3"},
		},
		{
			name:     "backlog never lowered",
			files:    procSys(map[string]string{KeyMaxSynBacklog: "8192"}),
			opts:     FixOptions{Config: Config{Backlog: 2048}, BacklogSet: true},
			want:     map[string][]string{"/etc/sysctl.d/99-zz-hostfix-synflood.conf": {"net.ipv4.tcp_syncookies = 1\n"}},
			wantLive: map[string]string{KeySyncookies: "1", KeyMaxSynBacklog: "8192"},
		},
		{
			name:     "cookies must stay off: backlog raised instead",
			files:    map[string]string{},
			opts:     FixOptions{Config: Config{Backlog: 4096}, KeepCookiesOff: true},
			want:     map[string][]string{"/etc/sysctl.d/99-zz-hostfix-synflood.conf": {"net.ipv4.tcp_max_syn_backlog = 4096\n"}},
			wantLive: map[string]string{KeySyncookies: "0", KeyMaxSynBacklog: "4096"},
		},
		{
			name:     "cookies 2 (testing mode) becomes 1",
			files:    procSys(map[string]string{KeySyncookies: "2"}),
			want:     map[string][]string{"/etc/sysctl.d/99-zz-hostfix-synflood.conf": {"net.ipv4.tcp_syncookies = 1\n"}},
			wantLive: map[string]string{KeySyncookies: "1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tree(t, merge(procSys(defaultLive), tt.files))
			o := tt.opts
			base := DefaultConfig()
			if o.Config.Backlog == 0 {
				o.Config.Backlog = base.Backlog
			}
			o.Config.DropIn = base.DropIn
			p, err := PlanFix(context.Background(), h, o)
			if err != nil {
				t.Fatal(err)
			}
			if p.Empty() {
				t.Fatal("first plan is empty")
			}
			if !strings.Contains(strings.Join(p.Notes, "\n"), "fixture tree") {
				t.Errorf("notes %v do not name the namespace", p.Notes)
			}
			apply(t, h, p)
			for f, subs := range tt.want {
				got := readRoot(t, h, f)
				for _, s := range subs {
					if !strings.Contains(got, s) {
						t.Errorf("%s:\n%s\nwant it to contain %q", f, got, s)
					}
				}
			}
			for k, v := range tt.wantLive {
				if got := strings.TrimSpace(readRoot(t, h, ProcSysPath(k))); got != v {
					t.Errorf("live %s = %s, want %s", k, got, v)
				}
			}
			// boot values now agree with live ones
			files, _ := SysctlFiles(h)
			for k, v := range tt.wantLive {
				if b := BootValueOf(files, k); b.Set && b.Value != v {
					t.Errorf("boot %s = %s (%s), want %s", k, b.Value, b.File, v)
				}
			}
			again, err := PlanFix(context.Background(), h, o)
			if err != nil {
				t.Fatal(err)
			}
			if !again.Empty() {
				for _, a := range again.Actions {
					t.Errorf("second run wants: %+v", a.Describe())
				}
			}
		})
	}
}

func TestPlanFixRefuses(t *testing.T) {
	base := DefaultConfig()
	tests := []struct {
		name  string
		files map[string]string
		cfg   func(*Config)
		want  string
	}{
		{"relative persist file", nil, func(c *Config) { c.PersistFile = "sysctl.conf" }, "absolute path"},
		{"bad backlog", nil, func(c *Config) { c.Backlog = 0 }, "--backlog"},
		{"glob overrides later", map[string]string{"/etc/sysctl.d/zz.conf": "net.ipv4.tcp_sync* = 0\n"},
			func(*Config) {}, "pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tree(t, merge(procSys(defaultLive), tt.files))
			cfg := base
			tt.cfg(&cfg)
			_, err := PlanFix(context.Background(), h, FixOptions{Config: cfg})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestPlanFixLeavesUnrelatedFilesAlone(t *testing.T) {
	h := tree(t, merge(procSys(defaultLive), map[string]string{"/etc/sysctl.d/50-other.conf": "net.ipv4.tcp_syncookies = 1\n"}))
	p, err := PlanFix(context.Background(), h, FixOptions{Config: DefaultConfig()})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range p.Actions {
		if d := a.Describe(); d.Kind == plan.KindEditFile && d.Target != DefaultConfig().DropIn {
			t.Errorf("unexpected edit of %s", d.Target)
		}
	}
}

func TestPlanFixPersistFileNotReadAtBoot(t *testing.T) {
	h := tree(t, merge(procSys(defaultLive), map[string]string{
		"/etc/sysctl.conf":            "net.ipv4.tcp_syncookies = 0\n",
		"/etc/sysctl.d/zz-other.conf": "net.ipv4.tcp_syncookies = 0\n",
	}))
	for _, persist := range []string{"/etc/sysctl.conf", "/srv/tuning/synflood.conf", "/etc/sysctl.d/hostfix"} {
		cfg := DefaultConfig()
		cfg.PersistFile = persist
		p, err := PlanFix(context.Background(), h, FixOptions{Config: cfg})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(p.Notes, "\n"), "WARNING: "+persist+" is not read at boot") {
			t.Errorf("%s: notes %v", persist, p.Notes)
		}
		for _, a := range p.Actions {
			if d := a.Describe(); d.Kind == plan.KindEditFile && d.Target != persist {
				t.Errorf("%s: edits %s although the persist file has no place in the boot order", persist, d.Target)
			}
		}
	}
}

// TestPlanFixNothingToDoWhenCookiesOnAtBoot: cookies on now, and nothing read at boot turns
// them off (no file at all: the kernel default 1; or a file that says 1): nothing to do,
// no new drop-in. A line that `sysctl --system` would apply still gets fixed.
func TestPlanFixNothingToDoWhenCookiesOnAtBoot(t *testing.T) {
	on := merge(defaultLive, map[string]string{KeySyncookies: "1"})
	for name, files := range map[string]map[string]string{
		"no sysctl files":      {},
		"a file that says 1":   {"/etc/sysctl.d/50-net.conf": "net.ipv4.tcp_syncookies = 1\n"},
		"an unrelated setting": {"/etc/sysctl.conf": "vm.swappiness = 10\n", "/etc/sysctl.d/99-sysctl.conf": "->../sysctl.conf"},
	} {
		t.Run(name, func(t *testing.T) {
			h := tree(t, merge(procSys(on), files))
			p, err := PlanFix(context.Background(), h, FixOptions{Config: DefaultConfig()})
			if err != nil {
				t.Fatal(err)
			}
			if !p.Empty() {
				for _, a := range p.Actions {
					t.Errorf("plans %+v", a.Describe())
				}
			}
		})
	}
	// /etc/sysctl.conf not linked from sysctl.d: systemd-sysctl skips it, but `sysctl
	// --system` applies it last and would turn cookies off.
	h := tree(t, merge(procSys(on), map[string]string{"/etc/sysctl.conf": "net.ipv4.tcp_syncookies = 0\n"}))
	p, err := PlanFix(context.Background(), h, FixOptions{Config: DefaultConfig()})
	if err != nil {
		t.Fatal(err)
	}
	if p.Empty() {
		t.Error("procps-only line turning cookies off: plan is empty")
	}
}

// TestPlanFixBacklogNote: the note says what is true: equal is "already", only a higher
// value would be lowered.
func TestPlanFixBacklogNote(t *testing.T) {
	for live, want := range map[string]string{
		"2048": "net.ipv4.tcp_max_syn_backlog is already 2048: left alone",
		"4096": "net.ipv4.tcp_max_syn_backlog is already 4096 (more than 2048): left alone; writing 2048 would lower it",
	} {
		h := tree(t, procSys(merge(defaultLive, map[string]string{KeyMaxSynBacklog: live})))
		p, err := PlanFix(context.Background(), h, FixOptions{Config: DefaultConfig(), BacklogSet: true})
		if err != nil {
			t.Fatal(err)
		}
		notes := strings.Join(p.Notes, "\n")
		if !strings.Contains(notes, want) {
			t.Errorf("live %s: notes\n%s\nwant %q", live, notes, want)
		}
		if live == "2048" && strings.Contains(notes, "lower") {
			t.Errorf("live 2048: %q says it would lower it", notes)
		}
	}
}

// TestPlanFixNoProcSys: a --root without /proc/sys (a config-only snapshot, a wrong
// directory) is bad input naming the host path, not Go's "open /real/path/…" and exit 1.
func TestPlanFixNoProcSys(t *testing.T) {
	h := tree(t, map[string]string{"/etc/sysctl.conf": "# empty\n"})
	_, err := PlanFix(context.Background(), h, FixOptions{Config: DefaultConfig()})
	want := "synflood fix: cannot read net.ipv4.tcp_syncookies: " + ProcSysPath(KeySyncookies) + " does not exist (is --root a Linux host's root with /proc?); nothing changed"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	if !usage.Is(err) {
		t.Fatalf("not a usage error (exit 2): %v", err)
	}
}
