package mx

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestFixIdempotent plans, applies to a temp root and plans again: nothing to do, for
// every MTA layout.
func TestFixIdempotent(t *testing.T) {
	s := startDNS(t)
	layouts := map[string]map[string]string{
		CPanel: {
			"etc/localdomains":  "away.example\n",
			"etc/remotedomains": "here.example\n",
		},
		Sendmail: {"etc/mail/local-host-names": "away.example\n"},
		Postfix:  {"etc/postfix/main.cf": "myhostname = host.example\nmydestination = $myhostname, away.example\n"},
		Exim4:    {"etc/exim4/update-exim4.conf.conf": "dc_other_hostnames='away.example'\n"},
	}
	for mta, files := range layouts {
		t.Run(mta, func(t *testing.T) {
			rec := &system.Recorder{}
			root := writeTree(t, files)
			h, err := system.NewHost(root, rec)
			if err != nil {
				t.Fatal(err)
			}
			cfg := DefaultConfig()
			cfg.Resolvers = []string{s.Addr}
			cfg.Timeout = 300 * time.Millisecond
			cfg.SendmailRestartCommand = []string{"restart-sendmail"}
			cfg.PostfixReloadCommand = []string{"reload-postfix"}
			cfg.Exim4UpdateCommand = []string{"update-exim4.conf"}
			cfg.Exim4RestartCommand = []string{"restart-exim4"}
			domains := []Domain{{Name: "here.example"}, {Name: "away.example"}}
			o := FixOptions{CheckOptions: CheckOptions{Config: cfg, Domains: domains}}
			ctx := context.Background()
			p, _, err := PlanFix(ctx, h, o)
			if err != nil {
				t.Fatal(err)
			}
			if p.Empty() {
				t.Fatal("nothing planned")
			}
			rep, err := plan.Apply(ctx, p, plan.Options{Host: h, Config: plan.DefaultConfig()})
			if err != nil {
				t.Fatalf("apply: %v (%+v)", err, rep)
			}
			p2, r2, err := PlanFix(ctx, h, o)
			if err != nil {
				t.Fatal(err)
			}
			if !p2.Empty() {
				t.Fatalf("second plan not empty: %+v", p2.Actions[0].Describe())
			}
			for _, d := range r2.Results {
				if d.Result.Status != 0 {
					t.Errorf("%s after fix: %s %s", d.Domain.Name, d.Result.Status.Upper(), d.Result.Summary)
				}
			}
			cmds := strings.Join(rec.Commands(), "; ")
			want := map[string]string{CPanel: "", Sendmail: "restart-sendmail", Postfix: "reload-postfix", Exim4: "update-exim4.conf; restart-exim4"}[mta]
			if cmds != want {
				t.Errorf("commands run: %q, want %q", cmds, want)
			}
		})
	}
}

func TestEditListFile(t *testing.T) {
	old := "# cPanel\nhost.example\nAway.Example\nkeep.example # note\n"
	got := string(EditListFile([]byte(old), []string{"new.example", "keep.example"}, []string{"away.example"}))
	if got != "# cPanel\nhost.example\nkeep.example # note\nnew.example\n" {
		t.Fatalf("got %q", got)
	}
	if got := string(EditListFile(nil, []string{"a.example"}, nil)); got != "a.example\n" {
		t.Fatalf("new file: %q", got)
	}
}

func TestVerifyRouting(t *testing.T) {
	eximLocal := "postmaster@here.example\n  <-- postmaster@here.example\n  router = system_aliases, transport = mail_spool\n"
	eximRemote := "postmaster@away.example\n  router = dnslookup, transport = remote_smtp\n  host mx.away.example [192.0.2.10] MX=10\n"
	eximLoop := "postmaster@here.example cannot be resolved at this time:\n  lowest numbered MX record points to local host\n"
	tests := []struct {
		mta    string
		out    string
		code   int
		local  bool
		errMsg string
	}{
		{Exim4, eximLocal, 0, true, ""},
		{Exim4, eximRemote, 0, true, "is not routed locally"},
		{CPanel, eximRemote, 0, false, ""},
		{CPanel, eximLocal, 0, false, "is not routed to a remote host"},
		{CPanel, eximLoop, 1, true, "still says"},
		{Exim4, "postmaster@x.example is undeliverable: Unrouteable address\n", 2, true, "is not routed locally"},
		{Sendmail, "postmaster@here.example... deliverable: mailer local, user postmaster\n", 0, true, ""},
		{Sendmail, "postmaster@away.example... deliverable: mailer esmtp, host away.example., user postmaster@away.example\n", 0, true, "not delivered locally"},
		{Sendmail, "postmaster@away.example... deliverable: mailer esmtp, host away.example., user postmaster@away.example\n", 0, false, ""},
		{Postfix, "$myhostname, here.example\nvirt.example\n", 0, true, ""},
		{Postfix, "mail.host.example, localhost\n\n", 0, true, "is not in mydestination"},
		{Postfix, "mail.host.example, localhost\n\n", 0, false, ""},
	}
	for i, tt := range tests {
		rec := &system.Recorder{Func: func(c system.Cmd) (system.Result, error) {
			res := system.Result{Stdout: []byte(tt.out), ExitCode: tt.code}
			if tt.code != 0 {
				return res, &system.ExitError{Cmd: c, Result: res}
			}
			return res, nil
		}}
		domain := "here.example"
		err := VerifyRouting(context.Background(), rec, tt.mta, []string{"/usr/sbin/mta"}, domain, tt.local, "")
		switch {
		case tt.errMsg == "" && err != nil:
			t.Errorf("%d %s: %v", i, tt.mta, err)
		case tt.errMsg != "" && (err == nil || !strings.Contains(err.Error(), tt.errMsg)):
			t.Errorf("%d %s: %v, want %q", i, tt.mta, err, tt.errMsg)
		}
		want := map[string]string{Exim4: "/usr/sbin/mta -bt postmaster@here.example", CPanel: "/usr/sbin/mta -bt postmaster@here.example", Sendmail: "/usr/sbin/mta -bv postmaster@here.example", Postfix: "/usr/sbin/mta -x -h mydestination virtual_mailbox_domains"}[tt.mta]
		if got := strings.Join(rec.Commands(), ";"); got != want {
			t.Errorf("%d: ran %q, want %q", i, got, want)
		}
	}
}

// TestVerifyLiveOnly: on the live host every changed domain gets a verify step that runs
// the MTA; under --root a note says it was skipped.
func TestVerifyLiveOnly(t *testing.T) {
	rec := &system.Recorder{Func: func(c system.Cmd) (system.Result, error) {
		return system.Result{Stdout: []byte("postmaster@here.example\n  router = localuser, transport = local_delivery\n")}, nil
	}}
	live := &system.Host{Root: "/", Runner: rec, Now: time.Now}
	o := FixOptions{CheckOptions: CheckOptions{Config: Config{EximCommand: []string{"exim4", "-C", "/test/exim.conf"}}}}
	ls := &Lists{MTA: Exim4}
	p := plan.New("mx fix")
	addVerify(live, o, ls, p, []Target{{Domain: Domain{Name: "here.example"}, Local: true}})
	if len(p.Verifies) != 1 || !strings.Contains(p.Verifies[0].Detail, "exim4 routes here.example locally") {
		t.Fatalf("verifies: %+v", p.Verifies)
	}
	if err := p.Verifies[0].Check(context.Background(), &plan.Run{Host: live}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rec.Commands(), ";"); got != "exim4 -C /test/exim.conf -bt postmaster@here.example" {
		t.Fatalf("ran %q", got)
	}
	rooted, _ := system.NewHost(t.TempDir(), rec)
	p = plan.New("mx fix")
	addVerify(rooted, o, ls, p, []Target{{Domain: Domain{Name: "here.example"}, Local: true}})
	if len(p.Verifies) != 0 || len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "not verified under --root") {
		t.Fatalf("under --root: verifies %d notes %v", len(p.Verifies), p.Notes)
	}
}

func TestVerifyRoutingPostfixDir(t *testing.T) {
	rec := &system.Recorder{Func: func(c system.Cmd) (system.Result, error) {
		return system.Result{Stdout: []byte("here.example\n\n")}, nil
	}}
	if err := VerifyRouting(context.Background(), rec, Postfix, []string{"postconf"}, "here.example", true, "/srv/postfix"); err != nil {
		t.Fatal(err)
	}
	if got := rec.Commands()[0]; got != "postconf -c /srv/postfix -x -h mydestination virtual_mailbox_domains" {
		t.Fatalf("ran %q", got)
	}
}
