package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/iostreams"
	"github.com/hostfix/hostfix/pkg/system"
)

func ok(name string, st check.Status) Check {
	return Check{Name: name, Run: func(context.Context, *system.Host) (*check.Result, error) {
		r := &check.Result{Check: name, Status: st, Summary: name + " says " + st.String(),
			Perfdata: []check.Perf{{Label: "things", Value: 3}},
			Samples:  []check.Sample{{Name: "hostfix_" + name + "_things", Help: "things", Type: "gauge", Value: 3}}}
		return r, nil
	}}
}

func TestRunParallelAndFailures(t *testing.T) {
	// Two checks that each wait for the other to have started: they can only both finish
	// when doctor really runs them at the same time (no timing involved).
	var started sync.WaitGroup
	started.Add(2)
	barrier := func(name string) Check {
		return Check{Name: name, Run: func(ctx context.Context, _ *system.Host) (*check.Result, error) {
			started.Done()
			done := make(chan struct{})
			go func() { started.Wait(); close(done) }()
			select {
			case <-done:
				return &check.Result{Check: name, Status: check.OK, Summary: "met"}, nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}}
	}
	checks := []Check{
		barrier("a"), barrier("b"),
		{Name: "boom", Run: func(context.Context, *system.Host) (*check.Result, error) { panic("kaboom") }},
		{Name: "err", Run: func(context.Context, *system.Host) (*check.Result, error) { return nil, errors.New("no log found") }},
		{Name: "nil", Run: func(context.Context, *system.Host) (*check.Result, error) { return nil, nil }},
		{Name: "slow", Run: func(ctx context.Context, _ *system.Host) (*check.Result, error) {
			<-ctx.Done() // honours ctx: returns only when doctor gives up
			return nil, ctx.Err()
		}},
		{Name: "stuck", Run: func(context.Context, *system.Host) (*check.Result, error) {
			select {} // ignores ctx: doctor must not wait for it
		}},
		{Name: "absent", Detect: func(*system.Host) (bool, string) { return false, "no widget here" }, Run: ok("absent", check.OK).Run},
		{Name: "crit", Detect: func(*system.Host) (bool, string) { return true, "widget found" }, Run: ok("crit", check.Critical).Run},
	}
	out := Run(context.Background(), &system.Host{Root: "/"}, checks, Options{Timeout: 2 * time.Second})
	byName := map[string]Outcome{}
	for _, o := range out {
		byName[o.Name] = o
	}
	if len(out) != len(checks) {
		t.Fatalf("got %d outcomes for %d checks", len(out), len(checks))
	}
	for _, n := range []string{"a", "b"} {
		if r := byName[n].Result; r == nil || r.Status != check.OK {
			t.Fatalf("%s: want OK (both ran at once), got %+v", n, r)
		}
	}
	for n, want := range map[string]string{"boom": "panicked: kaboom", "err": "no log found", "nil": "no result", "slow": "timed out after 2s", "stuck": "timed out after 2s"} {
		r := byName[n].Result
		if r == nil || r.Status != check.Unknown || !strings.Contains(r.Findings[0].Message, want) || r.Check != n {
			t.Errorf("%s: want UNKNOWN with %q, got %+v", n, want, r)
		}
	}
	if o := byName["absent"]; !o.Skipped || o.Result != nil || o.Why != "no widget here" {
		t.Errorf("absent: want skipped with the reason, got %+v", o)
	}
	if Worst(out) != check.Critical {
		t.Errorf("worst: %v", Worst(out))
	}
	// Sorted by name, stable.
	for i := 1; i < len(out); i++ {
		if out[i-1].Name > out[i].Name {
			t.Fatalf("outcomes not sorted: %s before %s", out[i-1].Name, out[i].Name)
		}
	}
}

func TestOnlySkipValidate(t *testing.T) {
	checks := []Check{ok("a", check.OK), ok("b", check.Warning), ok("c", check.OK)}
	out := Run(context.Background(), &system.Host{Root: "/"}, checks, Options{Only: []string{"a", "b"}, Skip: []string{"a"}})
	if len(out) != 1 || out[0].Name != "b" {
		t.Fatalf("only a,b skip a: got %+v", out)
	}
	err := Validate(checks, Options{Skip: []string{"zz"}})
	var u *ErrUnknownCheck
	if !errors.As(err, &u) || !strings.Contains(err.Error(), `"zz"`) || !strings.Contains(err.Error(), "a, b, c") {
		t.Fatalf("Validate: %v", err)
	}
	if err := Validate(checks, Options{Only: []string{"c"}}); err != nil {
		t.Fatal(err)
	}
}

func TestRenderers(t *testing.T) {
	checks := []Check{ok("synflood", check.OK), ok("mailq", check.Critical),
		{Name: "php", Detect: func(*system.Host) (bool, string) { return false, "no PHP found" }}}
	out := Run(context.Background(), &system.Host{Root: "/"}, checks, Options{})

	var text bytes.Buffer
	if err := WriteText(&text, out, iostreams.Palette{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CRITICAL 2 checks ran: 1 critical, 1 ok; 1 skipped", "mailq     CRITICAL  mailq says critical", "php       SKIPPED   no PHP found"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}

	// Coloured (a terminal), the table is the same once the escapes are taken out: they
	// take no column width.
	var coloured bytes.Buffer
	ios, _, _, _ := iostreams.Test()
	ios.SetColorMode(iostreams.ColorAlways, func(string) string { return "" })
	if err := WriteText(&coloured, out, ios.PaletteOut()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(coloured.String(), "\x1b[") {
		t.Fatalf("no colour in %q", coloured.String())
	}
	if plain := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(coloured.String(), ""); plain != text.String() {
		t.Errorf("coloured table, escapes removed:\n%s\nwant\n%s", plain, text.String())
	}

	var js bytes.Buffer
	if err := WriteJSON(&js, out); err != nil {
		t.Fatal(err)
	}
	var arr []check.Result
	if err := json.Unmarshal(js.Bytes(), &arr); err != nil || len(arr) != 2 || arr[0].Check != "mailq" || arr[0].Status != check.Critical {
		t.Fatalf("json: %v %s", err, js.String())
	}

	var ng bytes.Buffer
	if err := WriteNagios(&ng, out); err != nil {
		t.Fatal(err)
	}
	first := strings.SplitN(ng.String(), "\n", 2)[0]
	want := "DOCTOR CRITICAL: 2 checks ran: 1 critical, 1 ok; 1 skipped (not on this host) (mailq CRITICAL) | mailq::status=2;;;0;3 mailq::things=3 synflood::status=0;;;0;3 synflood::things=3"
	if first != want {
		t.Fatalf("nagios line:\n got %s\nwant %s", first, want)
	}

	names, files := PromFiles(out)
	if strings.Join(names, ",") != "hostfix_mailq.prom,hostfix_synflood.prom,hostfix_doctor.prom" {
		t.Fatalf("prom files: %v", names)
	}
	var pb bytes.Buffer
	if err := check.WritePrometheus(&pb, files["hostfix_doctor.prom"]); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`hostfix_doctor_check_status{check="mailq"} 2`, `hostfix_doctor_check_applies{check="php"} 0`, "hostfix_doctor_status 2"} {
		if !strings.Contains(pb.String(), want) {
			t.Errorf("doctor.prom lacks %q:\n%s", want, pb.String())
		}
	}
	pb.Reset()
	if err := check.WritePrometheus(&pb, files["hostfix_mailq.prom"]); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(pb.String(), "hostfix_mailq_status 2") || !strings.Contains(pb.String(), "hostfix_mailq_things 3") {
		t.Errorf("mailq.prom:\n%s", pb.String())
	}
}
