package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runModule(t *testing.T, args map[string]any) (map[string]any, int, string) {
	t.Helper()
	dir := t.TempDir()
	b, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "args")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := RunAnsible(context.Background(), path, &stdout, &stderr, func(string) string { return "" })
	var res map[string]any
	dec := json.NewDecoder(&stdout)
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("stdout is not one JSON object: %v: %q", err, stdout.String())
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON object: %q", stdout.String())
	}
	return res, code, stderr.String()
}

func sysctlFixture(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for p, c := range map[string]string{
		"proc/sys/net/ipv4/tcp_syncookies":      "0\n",
		"proc/sys/net/ipv4/tcp_max_syn_backlog": "128\n",
	} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestIsAnsibleModule(t *testing.T) {
	for argv, want := range map[string]bool{
		"/tmp/x/AnsiballZ_hostfix /tmp/x/args": true,
		"AnsiballZ_hostfix":                    false,
		"/usr/bin/hostfix /tmp/args":           false,
		"AnsiballZ_hostfix a b":                false,
	} {
		if got := IsAnsibleModule(strings.Fields(argv)); got != want {
			t.Errorf("IsAnsibleModule(%q) = %v, want %v", argv, got, want)
		}
	}
}

func TestAnsibleBadArguments(t *testing.T) {
	root := sysctlFixture(t)
	for _, tc := range []struct {
		name string
		args map[string]any
		want string
	}{
		{"no command", map[string]any{"root": root}, "missing key command"},
		{"unknown command", map[string]any{"command": "synflod fix"}, `unknown command "synflod fix"`},
		{"a noun", map[string]any{"command": "synflood"}, `unknown command "synflood"`},
		{"arguments in command", map[string]any{"command": "php max-input-vars set 5000"}, `"5000" is not part of a command; give arguments as args: [5000]`},
		{"flags in command", map[string]any{"command": "php check --sapi fpm"}, `"--sapi fpm" is not part of a command; give flags as keys`},
		{"unknown key", map[string]any{"command": "synflood fix", "root": root, "backlogg": 1}, "unknown key backlogg"},
		{"unknown key lists the keys", map[string]any{"command": "synflood fix", "root": root, "backlogg": 1}, "persist_file, synack_retries (and command, root, config)"},
		// A command with arguments: the message says where they go.
		{"arguments as a key", map[string]any{"command": "mx fix", "root": root, "domains": []string{"example.com"}}, "its keys are remote (and command, root, config, args (its arguments, a list))"},
		{"a check's keys", map[string]any{"command": "synflood check", "root": root, "x": 1}, "(and command, root, config, fail_on)"},
		{"reserved key", map[string]any{"command": "synflood fix", "root": root, "dry_run": true}, "unknown key dry_run"},
		{"wrong type", map[string]any{"command": "synflood fix", "root": root, "backlog": "many"}, "key backlog: want an integer"},
		{"list for scalar", map[string]any{"command": "synflood fix", "root": root, "backlog": []int{1}}, "key backlog: want a single value"},
		{"root not string", map[string]any{"command": "synflood fix", "root": 5}, "key root: want a string"},
		{"fail_on", map[string]any{"command": "synflood check", "fail_on": "sometimes"}, "key fail_on"},
		{"fail_on on a change", map[string]any{"command": "synflood fix", "root": root, "fail_on": "never"}, `key fail_on is for checks; "synflood fix" is a change command`},
		// -o prometheus is what --textfile-dir needs, and the module always asks for JSON.
		{"textfile_dir", map[string]any{"command": "synflood check", "root": root, "textfile_dir": t.TempDir()}, "key textfile_dir: not available in the module"},
		{"textfile_dir doctor", map[string]any{"command": "doctor", "root": root, "textfile_dir": t.TempDir()}, "hostfix doctor -o prometheus --textfile-dir DIR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, code, _ := runModule(t, tc.args)
			if code != 1 || res["failed"] != true {
				t.Fatalf("want failed and exit 1, got exit %d %v", code, res)
			}
			if msg, _ := res["msg"].(string); !strings.Contains(msg, tc.want) {
				t.Fatalf("msg %q lacks %q", msg, tc.want)
			}
		})
	}
}

func TestAnsibleCheckModeChangesNothing(t *testing.T) {
	root := sysctlFixture(t)
	res, code, stderr := runModule(t, map[string]any{
		"command": "synflood fix", "root": root,
		"_ansible_check_mode": true, "_ansible_diff": true, "_ansible_verbosity": 0,
		"_ansible_some_future_key": map[string]any{"x": 1},
	})
	if code != 0 || res["failed"] != false || res["changed"] != true {
		t.Fatalf("want changed, not failed, exit 0; got exit %d %v (stderr %s)", code, res, stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "proc/sys/net/ipv4/tcp_syncookies")); string(b) != "0\n" {
		t.Fatalf("check mode wrote tcp_syncookies: %q", b)
	}
	diff, _ := res["diff"].([]any)
	if len(diff) == 0 {
		t.Fatalf("no diff: %v", res)
	}
	if r, _ := res["result"].(map[string]any); r["dry_run"] != true {
		t.Fatalf("result is not the dry-run report: %v", res["result"])
	}

	// Applied for real, then idempotent.
	res, code, _ = runModule(t, map[string]any{"command": "synflood fix", "root": root})
	if code != 0 || res["changed"] != true {
		t.Fatalf("apply: got exit %d %v", code, res)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "proc/sys/net/ipv4/tcp_syncookies")); string(b) != "1\n" {
		t.Fatalf("apply left tcp_syncookies at %q", b)
	}
	res, code, _ = runModule(t, map[string]any{"command": "synflood fix", "root": root})
	if code != 0 || res["changed"] != false {
		t.Fatalf("second apply: got exit %d %v", code, res)
	}
}

func TestAnsibleCheckFailOn(t *testing.T) {
	root := sysctlFixture(t) // cookies off: WARNING
	for src, dst := range map[string]string{"proc_net_tcp": "proc/net/tcp", "proc_net_tcp6": "proc/net/tcp6", "proc_net_netstat": "proc/net/netstat"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "synflood", "host-idle", src))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(root, "proc/net"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, dst), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for failOn, wantFailed := range map[string]bool{"": false, "critical": false, "warning": true, "never": false} {
		args := map[string]any{"command": "synflood check", "root": root, "interval": "0s"}
		if failOn != "" {
			args["fail_on"] = failOn
		}
		res, code, _ := runModule(t, args)
		if res["failed"] != wantFailed || res["changed"] != false || res["status"] != "warning" {
			t.Errorf("fail_on %q: want failed=%v changed=false status=warning, got %v", failOn, wantFailed, res)
		}
		if (code == 1) != wantFailed {
			t.Errorf("fail_on %q: exit %d", failOn, code)
		}
		if rc, _ := res["rc"].(float64); rc != 1 {
			t.Errorf("fail_on %q: rc %v, want 1 (WARNING)", failOn, res["rc"])
		}
	}
}

// TestAnsibleCheckModeCheckWritesNothing: in check mode a check command changes nothing
// either: synflood check's --state-file (read, not updated under --dry-run) stays absent.
func TestAnsibleCheckModeCheckWritesNothing(t *testing.T) {
	root := sysctlFixture(t)
	for src, dst := range map[string]string{"proc_net_tcp": "proc/net/tcp", "proc_net_tcp6": "proc/net/tcp6", "proc_net_netstat": "proc/net/netstat"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "synflood", "host-idle", src))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(root, "proc/net"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, dst), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	state := filepath.Join(t.TempDir(), "synflood.json")
	args := map[string]any{"command": "synflood check", "root": root, "interval": "0s", "state_file": state, "fail_on": "never"}
	res, code, stderr := runModule(t, map[string]any{"_ansible_check_mode": true, "command": "synflood check", "root": root, "interval": "0s", "state_file": state, "fail_on": "never"})
	if code != 0 || res["status"] == nil {
		t.Fatalf("check mode: exit %d %v (stderr %s)", code, res, stderr)
	}
	if _, err := os.Lstat(state); err == nil {
		t.Fatalf("check mode wrote the state file %s", state)
	}
	// Without check mode the state file is written (so the test above can fail).
	if res, code, stderr = runModule(t, args); code != 0 {
		t.Fatalf("exit %d %v (stderr %s)", code, res, stderr)
	}
	if _, err := os.Lstat(state); err != nil {
		t.Fatalf("the state file was not written without check mode: %v", err)
	}
}

// TestAnsibleBooleans: a boolean key takes what Ansible's own modules take (a quoted "yes"
// reaches the module as a string).
func TestAnsibleBooleans(t *testing.T) {
	for v, want := range map[any]bool{true: true, "yes": true, "on": true, "True": true, "1": true, 1: true, false: false, "no": false, "off": false, "0": false, 0: false} {
		b, err := json.Marshal(map[string]any{"k": v})
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var args map[string]any
		if err := dec.Decode(&args); err != nil {
			t.Fatal(err)
		}
		got, err := ansibleBool(args, "k")
		if err != nil || got != want {
			t.Errorf("%#v: got %v, %v; want %v", v, got, err, want)
		}
	}
	for _, v := range []any{"maybe", 2, []any{true}} {
		if _, err := ansibleBool(map[string]any{"k": v}, "k"); err == nil {
			t.Errorf("%#v: no error", v)
		}
	}
	// As a flag (keep_cookies_off: "no") on a change command in check mode ("yes").
	root := sysctlFixture(t)
	res, code, stderr := runModule(t, map[string]any{"command": "synflood fix", "root": root, "keep_cookies_off": "no", "_ansible_check_mode": "yes"})
	if code != 0 || res["changed"] != true {
		t.Fatalf("keep_cookies_off: no: exit %d %v (stderr %s)", code, res, stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "proc/sys/net/ipv4/tcp_syncookies")); string(b) != "0\n" {
		t.Fatalf("check mode \"yes\" was not honoured: tcp_syncookies %q", b)
	}
}

// doctor's msg names each check with its status and, for one that is not ok, why.
func TestAnsibleDoctorMsgSaysWhy(t *testing.T) {
	res, code, _ := runModule(t, map[string]any{"command": "doctor", "root": t.TempDir(), "fail_on": "never"})
	msg, _ := res["msg"].(string)
	if code != 0 || res["failed"] != false || !strings.HasPrefix(msg, "UNKNOWN: synflood unknown (could not run: sockets: neither /proc/net/tcp nor /proc/net/tcp6 exists") {
		t.Fatalf("exit %d, %v", code, res)
	}
}
