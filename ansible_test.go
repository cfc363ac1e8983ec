package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hostfix/hostfix/internal/qmailgen"
	"github.com/hostfix/hostfix/internal/testenv"
)

// TestAnsibleModule runs the real hostfix binary as an Ansible binary module with Debian's
// ansible-core: `ansible-playbook -i localhost, -c local` with hostfix in library/, against
// --root fixture trees. The minimal stdout callback prints each task's module result.
func TestAnsibleModule(t *testing.T) {
	testenv.Integration(t)
	testenv.NeedTool(t, "ansible-playbook", "go")
	dir := t.TempDir()
	lib := filepath.Join(dir, "library")
	if err := os.MkdirAll(lib, 0o755); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", filepath.Join(lib, "hostfix"), ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	host := filepath.Join(dir, "host")
	writeSynfloodFixture(t, host)

	// 1. check mode with diff: reports the change and a diff, changes nothing.
	res := runPlay(t, dir, "check.yml", `
- hosts: all
  gather_facts: false
  tasks:
    - hostfix:
        command: synflood fix
        root: `+host+`
`, "--check", "--diff")
	r := res.task(t, 0)
	if r["changed"] != true || r["failed"] == true {
		t.Fatalf("check mode: want changed=true failed=false, got %v", r)
	}
	// The callback prints the module's diff list (and drops it from the result it shows).
	for _, want := range []string{"+++ after: /etc/sysctl.d/99-zz-hostfix-synflood.conf", "+net.ipv4.tcp_syncookies = 1",
		"--- before: /etc/sysctl.conf", "-net.ipv4.tcp_syncookies = 0", "--- before: sysctl net.ipv4.tcp_syncookies"} {
		if !strings.Contains(res.raw, want) {
			t.Fatalf("check mode: the diff lacks %q:\n%s", want, res.raw)
		}
	}
	if got := readTrim(t, filepath.Join(host, "proc/sys/net/ipv4/tcp_syncookies")); got != "0" {
		t.Fatalf("check mode changed /proc/sys/net/ipv4/tcp_syncookies to %q", got)
	}
	if _, err := os.Stat(filepath.Join(host, "etc/sysctl.d/99-zz-hostfix-synflood.conf")); err == nil {
		t.Fatal("check mode wrote the drop-in")
	}

	// 2. a real run changes the fixture, 3. a second run changes nothing.
	fix := `
- hosts: all
  gather_facts: false
  tasks:
    - hostfix:
        command: synflood fix
        root: ` + host + `
        backlog: 2048
`
	r = runPlay(t, dir, "fix.yml", fix).task(t, 0)
	if r["changed"] != true || r["failed"] == true {
		t.Fatalf("fix: want changed=true, got %v", r)
	}
	if got := readTrim(t, filepath.Join(host, "proc/sys/net/ipv4/tcp_syncookies")); got != "1" {
		t.Fatalf("fix: tcp_syncookies is %q, want 1", got)
	}
	if got := readTrim(t, filepath.Join(host, "proc/sys/net/ipv4/tcp_max_syn_backlog")); got != "2048" {
		t.Fatalf("fix: tcp_max_syn_backlog is %q, want 2048", got)
	}
	if b, err := os.ReadFile(filepath.Join(host, "etc/sysctl.d/99-zz-hostfix-synflood.conf")); err != nil || !bytes.Contains(b, []byte("net.ipv4.tcp_syncookies = 1")) {
		t.Fatalf("fix: drop-in missing or wrong (%v): %s", err, b)
	}
	r = runPlay(t, dir, "fix.yml", fix).task(t, 0)
	if r["changed"] != false || r["failed"] == true {
		t.Fatalf("second fix: want changed=false, got %v", r)
	}

	// 4. a check on a failing fixture fails the play; fail_on: never only registers it.
	q := filepath.Join(dir, "qhost")
	writeQueueFixture(t, q, 3)
	cfg := filepath.Join(dir, "crit.yaml")
	if err := os.WriteFile(cfg, []byte("mailq:\n  warn_messages: 1\n  crit_messages: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res = runPlayStatus(t, dir, "fail.yml", `
- hosts: all
  gather_facts: false
  tasks:
    - hostfix:
        command: mailq stats
        root: `+q+`
        config: `+cfg+`
`, 2)
	r = res.task(t, 0)
	if r["failed"] != true || r["status"] != "critical" || r["changed"] != false {
		t.Fatalf("critical check: want failed=true status=critical changed=false, got %v", r)
	}
	res = runPlay(t, dir, "register.yml", `
- hosts: all
  gather_facts: false
  tasks:
    - hostfix:
        command: mailq stats
        root: `+q+`
        config: `+cfg+`
        fail_on: never
      register: q
    - assert:
        that: [q.status == "critical", q.rc == 2, q.result.metrics.messages == 3]
`)
	if r := res.task(t, 0); r["failed"] == true || r["status"] != "critical" {
		t.Fatalf("fail_on never: want registered critical, not failed, got %v", r)
	}

	// 5. bad arguments: failed with a message naming the key.
	res = runPlayStatus(t, dir, "bad.yml", `
- hosts: all
  gather_facts: false
  tasks:
    - hostfix:
        command: synflood fix
        root: `+host+`
        backlogg: 10
`, 2)
	r = res.task(t, 0)
	if msg, _ := r["msg"].(string); r["failed"] != true || !strings.Contains(msg, "backlogg") {
		t.Fatalf("unknown key: want failed naming backlogg, got %v", r)
	}
	res = runPlayStatus(t, dir, "badtype.yml", `
- hosts: all
  gather_facts: false
  tasks:
    - hostfix:
        command: synflood fix
        root: `+host+`
        backlog: [1, 2]
`, 2)
	r = res.task(t, 0)
	if msg, _ := r["msg"].(string); r["failed"] != true || !strings.Contains(msg, "backlog") {
		t.Fatalf("wrong type: want failed naming backlog, got %v", r)
	}
}

func writeSynfloodFixture(t *testing.T, host string) {
	t.Helper()
	for path, content := range map[string]string{
		"proc/sys/net/ipv4/tcp_syncookies":      "0\n",
		"proc/sys/net/ipv4/tcp_max_syn_backlog": "128\n",
		"proc/sys/net/ipv4/tcp_synack_retries":  "5\n",
		"proc/sys/net/core/somaxconn":           "4096\n",
		"etc/sysctl.conf":                       "# local settings\nnet.ipv4.tcp_syncookies = 0\n",
	} {
		p := filepath.Join(host, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(host, "etc/sysctl.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../sysctl.conf", filepath.Join(host, "etc/sysctl.d/99-sysctl.conf")); err != nil {
		t.Fatal(err)
	}
}

func writeQueueFixture(t *testing.T, root string, n int) {
	t.Helper()
	dir := filepath.Join(root, "var/qmail/queue")
	if err := qmailgen.Skeleton(dir, qmailgen.Layout{}); err != nil {
		t.Fatal(err)
	}
	w := &qmailgen.Writer{Dir: dir, Now: time.Now()}
	for i := 0; i < n; i++ {
		m := &qmailgen.Message{Sender: "spam@example.net", Remote: []qmailgen.Rcpt{{Addr: "user@example.org"}},
			Preprocessed: true, Subject: "hello", Size: 500, Age: time.Hour}
		if _, err := w.Write(m); err != nil {
			t.Fatal(err)
		}
	}
}

// playResult holds the module results of a playbook run, task by task, read from the
// minimal stdout callback (in ansible-core; the json callback is not): each task prints
// "localhost | STATUS => {result}".
type playResult struct {
	tasks []map[string]any
	raw   string
}

var minimalLine = regexp.MustCompile(`(?m)^localhost \| ([A-Z!]+) => `)

func parseMinimal(out string) ([]map[string]any, error) {
	var tasks []map[string]any
	for _, loc := range minimalLine.FindAllStringSubmatchIndex(out, -1) {
		dec := json.NewDecoder(strings.NewReader(out[loc[1]:]))
		var r map[string]any
		if err := dec.Decode(&r); err != nil {
			return nil, err
		}
		// The callback drops "failed" from what it prints: the status word says it.
		if out[loc[2]:loc[3]] == "FAILED!" {
			r["failed"] = true
		}
		tasks = append(tasks, r)
	}
	return tasks, nil
}

// task returns the module result of the i-th task on localhost.
func (p *playResult) task(t *testing.T, i int) map[string]any {
	t.Helper()
	if len(p.tasks) <= i {
		t.Fatalf("no task %d in the playbook output:\n%s", i, p.raw)
	}
	return p.tasks[i]
}

func runPlay(t *testing.T, dir, name, play string, flags ...string) *playResult {
	t.Helper()
	return runPlayStatus(t, dir, name, play, 0, flags...)
}

// runPlayStatus runs a playbook and wants ansible-playbook's exit status (2: a task failed).
func runPlayStatus(t *testing.T, dir, name, play string, want int, flags ...string) *playResult {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(play), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-i", "localhost,", "-c", "local", path}, flags...)
	c := exec.Command("ansible-playbook", args...)
	c.Dir = dir
	c.Env = append(os.Environ(), "ANSIBLE_STDOUT_CALLBACK=minimal", "ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, ".ansible-tmp"),
		"ANSIBLE_REMOTE_TEMP="+filepath.Join(dir, ".ansible-tmp"), "ANSIBLE_NOCOLOR=1", "ANSIBLE_HOST_KEY_CHECKING=False",
		"ANSIBLE_PYTHON_INTERPRETER=auto_silent", "ANSIBLE_RETRY_FILES_ENABLED=0")
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("ansible-playbook %s: %v", name, err)
	}
	if code != want {
		t.Fatalf("ansible-playbook %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", name, code, want, stdout.String(), stderr.String())
	}
	tasks, err := parseMinimal(stdout.String())
	if err != nil {
		t.Fatalf("ansible-playbook %s: cannot read the minimal callback's output: %v\n%s", name, err, stdout.String())
	}
	return &playResult{tasks: tasks, raw: stdout.String()}
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
