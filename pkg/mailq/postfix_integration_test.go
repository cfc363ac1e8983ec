//go:build unix

package mailq_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hostfix/hostfix/internal/postfixtest"
	"github.com/hostfix/hostfix/internal/testenv"
)

// The Postfix integration test runs a whole Postfix of its own: the Debian package unpacked
// at $HOSTFIX_POSTFIX_DIR (default /opt/hostfix-ci/postfix, see COMMON.md: Debian's postfix
// and exim4 conflict), with a config_directory and queue_directory in the test directory,
// smtpd on a free 127.0.0.1 port, started by the test and stopped after it.
// defer_transports = smtp keeps every message in the deferred queue; postqueue -f still
// tries such mail, so relayhost is a closed loopback port (and no DNS): the attempt fails
// with a temporary error, and no test traffic leaves the machine. hostfix is pointed at
// it with mailq.postqueue_command etc. and checked against postqueue -j.
//
// Postfix needs the users postfix and postdrop: the test creates them (useradd/groupadd)
// when they are missing, and says so in its log.

type postfixRig struct {
	pf, conf, dir, root, config, port string
	env                               []string
}

func postfixDir() string {
	if d := os.Getenv("HOSTFIX_POSTFIX_DIR"); d != "" {
		return d
	}
	return "/opt/hostfix-ci/postfix"
}

func ensureUser(t *testing.T, name string, group bool) {
	t.Helper()
	var err error
	if group {
		_, err = user.LookupGroup(name)
	} else {
		_, err = user.Lookup(name)
	}
	if err == nil {
		return
	}
	var c *exec.Cmd
	if group {
		c = exec.Command("groupadd", "--system", name)
	} else {
		c = exec.Command("useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", "--user-group", name)
	}
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", c, err, out)
	}
	t.Logf("created the missing %s %s (%s)", map[bool]string{true: "group", false: "user"}[group], name, c)
}

func newPostfixRig(t *testing.T) *postfixRig {
	t.Helper()
	testenv.Integration(t)
	testenv.NeedRoot(t)
	r := &postfixRig{pf: postfixDir()}
	if _, err := os.Stat(filepath.Join(r.pf, "usr/sbin/postfix")); err != nil {
		testenv.Skip(t, "needs an unpacked Postfix at "+r.pf+" (HOSTFIX_POSTFIX_DIR)")
	}
	ensureUser(t, "postdrop", true)
	ensureUser(t, "postfix", false)
	u, _ := user.Lookup("postfix")
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	r.dir = t.TempDir()
	for d := r.dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	r.conf = filepath.Join(r.dir, "etc")
	queue := filepath.Join(r.dir, "queue")
	data := filepath.Join(r.dir, "data")
	r.root = filepath.Join(r.dir, "root")
	for _, d := range []string{r.conf, queue, data, r.root} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Chown(data, uid, gid)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.port = strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	lib := postfixtest.Lib(r.pf)
	r.env = append(os.Environ(), "LD_LIBRARY_PATH="+lib)
	imp, err := postfixtest.ImportEnvironment(r.pf)
	if err != nil {
		t.Fatal(err)
	}
	// Deliveries defer to a closed loopback port, with DNS off: nothing leaves the machine.
	mainCf := postfixtest.MainCf(r.pf, queue, data, r.dir, imp,
		"myorigin = test.example", "mynetworks = 127.0.0.0/8", "defer_transports = smtp",
		"relayhost = [127.0.0.1]:1", "smtp_dns_support_level = disabled", "smtputf8_enable = no")
	masterCf := "127.0.0.1:" + r.port + ` inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`
	if err := os.WriteFile(filepath.Join(r.conf, "main.cf"), []byte(mainCf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.conf, "master.cf"), []byte(masterCf), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.run(t, "postfix", "-c", r.conf, "stop")
		// Whatever is left of this instance (never any other process).
		if b, err := os.ReadFile(filepath.Join(queue, "pid/master.pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
				syscall.Kill(-pid, syscall.SIGKILL)
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	if out, err := r.run(t, "postfix", "-c", r.conf, "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(r.dir, "maillog"))
		chk, _ := r.run(t, "postfix", "-c", r.conf, "check")
		pc, _ := r.run(t, "postconf", "-c", r.conf, "-n")
		t.Fatalf("postfix start: %v\n%s\n%s\ncheck: %s\n%s", err, out, log, chk, pc)
	}
	r.config = filepath.Join(r.dir, "hostfix.yaml")
	cmd := func(n string) string { return fmt.Sprintf("[%q, -c, %q]", filepath.Join(r.pf, "usr/sbin", n), r.conf) }
	cfg := fmt.Sprintf("mailq:\n  mta: postfix\n  exim_batch: 2\n  postqueue_command: %s\n  postsuper_command: %s\n  postcat_command: %s\n", cmd("postqueue"), cmd("postsuper"), cmd("postcat"))
	if err := os.WriteFile(r.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *postfixRig) run(t *testing.T, tool string, args ...string) (string, error) {
	c := exec.Command(filepath.Join(r.pf, "usr/sbin", tool), args...)
	c.Env = r.env
	out, err := c.CombinedOutput()
	return string(out), err
}

// submit sends a message over SMTP to the test instance.
func (r *postfixRig) submit(t *testing.T, from string, rcpts []string, msg string) {
	t.Helper()
	var err error
	for i := 0; i < 50; i++ { // smtpd may take a moment to listen after start
		if err = smtp.SendMail("127.0.0.1:"+r.port, nil, from, rcpts, []byte(strings.ReplaceAll(msg, "\n", "\r\n"))); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("smtp to 127.0.0.1:%s: %v", r.port, err)
}

type pqLine struct {
	Queue  string `json:"queue_name"`
	ID     string `json:"queue_id"`
	Size   int64  `json:"message_size"`
	Sender string `json:"sender"`
}

// queue is postqueue -j: id -> "queue size sender".
func (r *postfixRig) queue(t *testing.T) map[string]string {
	t.Helper()
	out, err := r.run(t, "postqueue", "-c", r.conf, "-j")
	if err != nil {
		t.Fatalf("postqueue -j: %v\n%s", err, out)
	}
	got := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var l pqLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("postqueue -j line %q: %v", sc.Text(), err)
		}
		got[l.ID] = fmt.Sprintf("%s %d %s", l.Queue, l.Size, l.Sender)
	}
	return got
}

func (r *postfixRig) hostfix(t *testing.T, args ...string) (string, int) {
	t.Helper()
	return runHostfix(t, r.env, r.root, r.config, args...)
}

func (r *postfixRig) listed(t *testing.T, args ...string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, m := range listJSON(t, r.env, r.root, r.config, args...) {
		if m.Sender == nil || m.MTA != "postfix" {
			t.Fatalf("list line %+v", m)
		}
		got[m.ID] = fmt.Sprintf("%s %d %s", m.State, m.Size, *m.Sender)
	}
	return got
}

// settle waits until every message is in the deferred (or hold) queue.
func (r *postfixRig) settle(t *testing.T, n int) map[string]string {
	t.Helper()
	var q map[string]string
	for i := 0; i < 200; i++ {
		q = r.queue(t)
		done := len(q) == n
		for _, v := range q {
			if !strings.HasPrefix(v, "deferred ") && !strings.HasPrefix(v, "hold ") {
				done = false
			}
		}
		if done {
			return q
		}
		time.Sleep(100 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(r.dir, "maillog"))
	t.Fatalf("queue did not settle to %d deferred messages: %v\n%s", n, q, log)
	return nil
}

func TestIntegrationPostfix(t *testing.T) {
	r := newPostfixRig(t)
	for i := 0; i < 4; i++ {
		r.submit(t, "spam@bad.example", []string{fmt.Sprintf("victim%d@dest.example", i)},
			fmt.Sprintf("Subject: win %d\nX-Mailer: EvilMailer 1.0\n\nclick here\n", i))
	}
	r.submit(t, "news@good.example", []string{"a@dest.example", "b@dest.example"}, "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\n\nhello\nsecret marker\n")
	q := r.settle(t, 5)
	// list agrees with postqueue -j.
	if got := r.listed(t); fmt.Sprint(got) != fmt.Sprint(q) {
		t.Fatalf("list:\n%v\npostqueue -j:\n%v", got, q)
	}
	if got := r.listed(t, "--header", "^x-mailer: evil"); len(got) != 4 {
		t.Errorf("--header selects %d", len(got))
	}
	if got := r.listed(t, "--body", "secret marker"); len(got) != 1 {
		t.Errorf("--body selects %d", len(got))
	}
	var good string
	for id, v := range q {
		if strings.HasSuffix(v, " news@good.example") {
			good = id
		}
	}
	out, code := r.hostfix(t, "mailq", "show", good)
	if code != 0 || !strings.Contains(out, "Subject: Grüße") || !strings.Contains(out, "secret marker") {
		t.Errorf("show exit %d:\n%s", code, out)
	}
	out, code = r.hostfix(t, "mailq", "stats", "-o", "nagios")
	if code != 0 || !strings.Contains(out, "5 messages in the postfix queue") {
		t.Errorf("stats exit %d:\n%s", code, out)
	}

	// --hold puts the spam on hold (postsuper -h -).
	out, code = r.hostfix(t, "mailq", "purge", "--sender", `@bad\.example$`, "--hold", "--yes")
	t.Logf("purge --hold:\n%s", out)
	holdOut := out
	if code != 0 {
		t.Fatalf("purge --hold exit %d", code)
	}
	q = r.queue(t)
	held := 0
	for _, v := range q {
		if strings.HasPrefix(v, "hold ") {
			held++
		}
	}
	if held != 4 || len(q) != 5 {
		t.Fatalf("after --hold: %v", q)
	}
	if got := r.listed(t); fmt.Sprint(got) != fmt.Sprint(q) {
		t.Errorf("list after --hold:\n%v\npostqueue -j:\n%v", got, q)
	}

	// Meanwhile the admin released one of them by hand and deleted another: the undo's
	// postsuper -H - then names one id no longer on hold and one gone from the queue, which
	// real postsuper must take without failing the undo.
	var heldIDs []string
	for id, v := range q {
		if strings.HasPrefix(v, "hold ") {
			heldIDs = append(heldIDs, id)
		}
	}
	sort.Strings(heldIDs)
	if out, err := r.run(t, "postsuper", "-c", r.conf, "-H", heldIDs[0]); err != nil {
		t.Fatalf("postsuper -H %s: %v\n%s", heldIDs[0], err, out)
	}
	if out, err := r.run(t, "postsuper", "-c", r.conf, "-d", heldIDs[1]); err != nil {
		t.Fatalf("postsuper -d %s: %v\n%s", heldIDs[1], err, out)
	}
	if q = r.queue(t); len(q) != 4 || strings.HasPrefix(q[heldIDs[0]], "hold ") {
		t.Fatalf("after the hand release and delete: %v", q)
	}

	// hostfix undo releases them: the run recorded postsuper -H - with the held ids (two
	// batches of mailq.exim_batch 2, one command), run under --root because
	// mailq.postsuper_command is configured.
	out, code = r.hostfix(t, "undo", "--dry-run")
	if code != 0 || !strings.Contains(out, "release the messages put on hold (postsuper -H -, ids on stdin)") || strings.Contains(out, "cannot be undone") {
		t.Fatalf("undo --dry-run exit %d:\n%s", code, out)
	}
	out, code = r.hostfix(t, "undo")
	t.Logf("undo:\n%s", out)
	if code != 0 {
		t.Fatalf("undo exit %d", code)
	}
	q = r.queue(t)
	for id, v := range q {
		if strings.HasPrefix(v, "hold ") {
			t.Errorf("%s still on hold after undo: %v", id, q)
		}
	}
	if len(q) != 4 {
		t.Fatalf("after undo: %v", q)
	}
	// Undone once, the recorded command is not run again.
	m := regexp.MustCompile(`run (\S+); backup in`).FindStringSubmatch(holdOut)
	if m == nil {
		t.Fatalf("no run id in the --hold output:\n%s", holdOut)
	}
	out, code = r.hostfix(t, "undo", m[1], "--dry-run")
	if code != 0 || !strings.Contains(out, "were run by") || strings.Contains(out, "postsuper -H") {
		t.Errorf("second undo of %s exit %d:\n%s", m[1], code, out)
	}

	// A plain purge warns that undo is impossible, then deletes (postsuper -d -).
	out, code = r.hostfix(t, "mailq", "purge", "--sender", `@bad\.example$`, "--dry-run")
	if code != 0 || !strings.Contains(out, "undo is not possible") || len(r.queue(t)) != 4 {
		t.Fatalf("dry-run exit %d:\n%s", code, out)
	}
	out, code = r.hostfix(t, "mailq", "purge", "--sender", `@bad\.example$`, "--yes")
	if code != 0 {
		t.Fatalf("purge exit %d:\n%s", code, out)
	}
	q = r.queue(t)
	var left []string
	for id := range q {
		left = append(left, id)
	}
	sort.Strings(left)
	if len(q) != 1 || q[good] == "" {
		t.Fatalf("after purge: %v\n%s", q, out)
	}
	// flush of one id (postqueue -i) and of everything (postqueue -f).
	if out, code = r.hostfix(t, "mailq", "flush", "--id", good, "--yes"); code != 0 {
		t.Fatalf("flush --id exit %d:\n%s", code, out)
	}
	// The flush made Postfix try the message now: its (loopback, closed) relayhost refused.
	var log []byte
	for i := 0; i < 100; i++ {
		log, _ = os.ReadFile(filepath.Join(r.dir, "maillog"))
		if strings.Contains(string(log), good+": to=<a@dest.example>, relay=none") && strings.Contains(string(log), "127.0.0.1[127.0.0.1]:1") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(string(log), "127.0.0.1[127.0.0.1]:1") {
		t.Errorf("no delivery attempt after flush --id:\n%s", log)
	}
	if out, code = r.hostfix(t, "mailq", "flush", "--yes"); code != 0 {
		t.Fatalf("flush exit %d:\n%s", code, out)
	}
	r.settle(t, 1)
}
