package check

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hostfix/hostfix/pkg/iostreams"
)

func TestWorseAndAdd(t *testing.T) {
	order := []Status{OK, Warning, Unknown, Critical}
	for i, a := range order {
		for j, b := range order {
			want := a
			if j > i {
				want = b
			}
			if got := Worse(a, b); got != want {
				t.Errorf("Worse(%s, %s) = %s, want %s", a, b, got, want)
			}
		}
	}
	var r Result
	r.Add(Warning, "w", "")
	r.Add(OK, "fine", "")
	if r.Status != Warning || len(r.Findings) != 2 {
		t.Errorf("status %s after warning+ok", r.Status)
	}
	r.Add(Critical, "c", "fix it")
	r.Add(Unknown, "u", "")
	if r.Status != Critical {
		t.Errorf("unknown must not hide critical: %s", r.Status)
	}
}

func TestStatusJSON(t *testing.T) {
	for _, s := range []Status{OK, Warning, Critical, Unknown} {
		b, err := json.Marshal(s)
		if err != nil || string(b) != `"`+s.String()+`"` {
			t.Errorf("marshal %d: %s %v", s, b, err)
		}
		var back Status
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Errorf("round trip %s: %s %v", s, back, err)
		}
		if s.ExitCode() != int(s) {
			t.Errorf("exit code of %s", s)
		}
	}
	var s Status
	if err := json.Unmarshal([]byte(`"fine"`), &s); err == nil {
		t.Error("unknown status name accepted")
	}
}

// TestJSONContract pins the check object of docs/output.md.
func TestJSONContract(t *testing.T) {
	r := &Result{Check: "synflood", Summary: "2 listeners"}
	var b bytes.Buffer
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	want := `{
  "check": "synflood",
  "status": "ok",
  "summary": "2 listeners",
  "metrics": {},
  "findings": []
}
`
	if b.String() != want {
		t.Errorf("empty result:\n%s\nwant\n%s", b.String(), want)
	}
	r = &Result{Check: "mailq", Summary: "s", Metrics: map[string]any{"messages": 12, "oldest_seconds": 3.5},
		Details: []string{"not in json"}, Perfdata: []Perf{{Label: "x", Value: 1}}, Samples: []Sample{{Name: "y"}}}
	r.Add(Warning, "queue is long", "hostfix mailq purge --dry-run")
	r.Add(OK, "no hint", "")
	b.Reset()
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || got["status"] != "warning" {
		t.Errorf("keys/status: %v", got)
	}
	f := got["findings"].([]any)
	if first := f[0].(map[string]any); first["severity"] != "warning" || first["message"] != "queue is long" || first["hint"] != "hostfix mailq purge --dry-run" || len(first) != 3 {
		t.Errorf("finding: %v", first)
	}
	if second := f[1].(map[string]any); len(second) != 2 {
		t.Errorf("an empty hint is omitted: %v", second)
	}
	if strings.Contains(b.String(), "not in json") {
		t.Error("details leaked into json")
	}
}

func TestWriteText(t *testing.T) {
	r := &Result{Check: "c", Summary: "1 problem", Details: []string{"  table row"}}
	r.Add(Critical, "queue full", "raise backlog")
	var b bytes.Buffer
	if err := WriteText(&b, r, iostreams.Palette{}); err != nil {
		t.Fatal(err)
	}
	want := "CRITICAL 1 problem\n  table row\n\n[CRITICAL] queue full\n    -> raise backlog\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
	ios, _, _, _ := iostreams.Test()
	ios.SetColorMode(iostreams.ColorAlways, func(string) string { return "" })
	b.Reset()
	_ = WriteText(&b, r, ios.PaletteOut())
	if !strings.HasPrefix(b.String(), "\x1b[31mCRITICAL\x1b[0m 1 problem\n") {
		t.Errorf("coloured: %q", b.String())
	}
}

func TestNagios(t *testing.T) {
	r := &Result{Check: "mail queue", Summary: "12 messages | oldest 3h\nmore", Perfdata: []Perf{
		{Label: "messages", Value: 12, Warn: "1000", Crit: "10000", Min: "0"},
		{Label: "oldest age", Value: 10800, UOM: "s"},
		{Label: "rate", Unknown: true},
	}}
	r.Add(Warning, "old | message", "")
	var b bytes.Buffer
	if err := WriteNagios(&b, r); err != nil {
		t.Fatal(err)
	}
	want := "MAIL_QUEUE WARNING: 12 messages / oldest 3h more | messages=12;1000;10000;0 'oldest age'=10800s rate=U\nWARNING: old / message\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
}

func TestFormatPerf(t *testing.T) {
	cases := map[string]Perf{
		"a=1":                 {Label: "a", Value: 1},
		"a=0.25%;50;90":       {Label: "a", Value: 0.25, UOM: "%", Warn: "50", Crit: "90"},
		"a=1;;;0;100":         {Label: "a", Value: 1, Min: "0", Max: "100"},
		"'it''s'=2c":          {Label: "it's", Value: 2, UOM: "c"},
		"'a=b'=U":             {Label: "a=b", Value: math.NaN()},
		"big=12345678901":     {Label: "big", Value: 12345678901},
		"a=-3;@10:20":         {Label: "a", Value: -3, Warn: "@10:20"},
		"q=U;5":               {Label: "q", Unknown: true, Value: 7, Warn: "5"},
		"'with space'=1B;;;0": {Label: "with space", Value: 1, UOM: "B", Min: "0"},
	}
	for want, p := range cases {
		if got := FormatPerf(p); got != want {
			t.Errorf("FormatPerf(%+v) = %q, want %q", p, got, want)
		}
	}
}

func TestPrometheus(t *testing.T) {
	r := &Result{Status: Critical}
	samples := append(StatusSamples("hostfix_synflood", r),
		Sample{Name: "hostfix_synflood_syn_recv", Help: "Half-open\nconnections \\ now.", Labels: map[string]string{"port": "25", "addr": `1.2.3.4"x`}, Value: 3},
		Sample{Name: "hostfix_synflood_syn_recv", Labels: map[string]string{"port": "80"}, Value: 0},
		Sample{Name: "hostfix_synflood_drops_total", Type: "counter", Value: math.Inf(1)},
		Sample{Name: "hostfix_synflood_rate", Value: math.NaN()},
	)
	var b bytes.Buffer
	if err := WritePrometheus(&b, samples); err != nil {
		t.Fatal(err)
	}
	want := `# HELP hostfix_synflood_status Check status: 0 ok, 1 warning, 2 critical, 3 unknown.
# TYPE hostfix_synflood_status gauge
hostfix_synflood_status 2
# HELP hostfix_synflood_syn_recv Half-open\nconnections \\ now.
# TYPE hostfix_synflood_syn_recv gauge
hostfix_synflood_syn_recv{addr="1.2.3.4\"x",port="25"} 3
hostfix_synflood_syn_recv{port="80"} 0
# TYPE hostfix_synflood_drops_total counter
hostfix_synflood_drops_total +Inf
# TYPE hostfix_synflood_rate gauge
hostfix_synflood_rate NaN
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWriteTextfile(t *testing.T) {
	dir := t.TempDir()
	s := []Sample{{Name: "hostfix_x_status", Value: 1}}
	if err := WriteTextfile(dir, "hostfix_x.prom", s); err != nil {
		t.Fatal(err)
	}
	s[0].Value = 0
	if err := WriteTextfile(dir, "hostfix_x.prom", s); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "hostfix_x.prom"))
	if err != nil || string(got) != "# TYPE hostfix_x_status gauge\nhostfix_x_status 0\n" {
		t.Errorf("textfile: %q %v", got, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temp files left behind: %v", entries)
	}
	fi, _ := os.Stat(filepath.Join(dir, "hostfix_x.prom"))
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644 so node_exporter can read it", fi.Mode().Perm())
	}
	// The errors name the textfile and why, not the temp file hostfix tried to create.
	err = WriteTextfile(filepath.Join(dir, "missing"), "a.prom", s)
	if want := "write textfile " + filepath.Join(dir, "missing", "a.prom") + ": directory " + filepath.Join(dir, "missing") + " does not exist"; err == nil || err.Error() != want || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing dir: %v\nwant %s", err, want)
	}
	file := filepath.Join(dir, "hostfix_x.prom")
	err = WriteTextfile(file, "a.prom", s)
	if want := "write textfile " + filepath.Join(file, "a.prom") + ": " + file + " is not a directory"; err == nil || err.Error() != want {
		t.Errorf("file as dir: %v\nwant %s", err, want)
	}
}

// A check run for one of several instances (smtpport's port) labels its status and names
// its textfile after the instance; one without instance labels keeps hostfix_NAME.prom.
func TestInstanceLabels(t *testing.T) {
	r := &Result{Status: Warning, Instance: map[string]string{"port": "587"}}
	if got := TextfileName("smtpport", r); got != "hostfix_smtpport_587.prom" {
		t.Errorf("TextfileName = %q", got)
	}
	var b strings.Builder
	if err := WritePrometheus(&b, StatusSamples("hostfix_smtpport", r)); err != nil || !strings.Contains(b.String(), "\nhostfix_smtpport_status{port=\"587\"} 1\n") {
		t.Errorf("status sample: %v\n%s", err, b.String())
	}
	if got := TextfileName("synflood", &Result{}); got != "hostfix_synflood.prom" {
		t.Errorf("TextfileName without instance = %q", got)
	}
	if got := TextfileName("x", &Result{Instance: map[string]string{"b": "a/b", "a": "1"}}); got != "hostfix_x_1_a_b.prom" {
		t.Errorf("TextfileName with two labels = %q", got)
	}
}
