//go:build unix

package mailq_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/hostfix/hostfix/internal/testenv"
)

// The Exim integration test runs the real Exim (Debian exim4-daemon-light) on a spool of
// its own: a test configuration whose spool_directory is inside the test's --root tree,
// messages queued for real with `exim4 -C CONF -odq`, and every change hostfix makes
// checked against `exim4 -C CONF -bp`. The system's Exim, its configuration and its spool
// are never touched (nothing but -C CONF is ever run).

type eximRig struct {
	exim, conf, root, spool, log, config string
}

func newEximRig(t *testing.T) *eximRig {
	t.Helper()
	testenv.Integration(t)
	testenv.NeedRoot(t)
	r := &eximRig{exim: testenv.NeedTool(t, "exim4")[0]}
	dir := t.TempDir()
	// Exim drops to its own user for parts of the work: every parent must be searchable.
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	u, err := user.Lookup("Debian-exim")
	if err != nil {
		testenv.Skip(t, "needs the Debian-exim user (exim4-base)")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	r.root = filepath.Join(dir, "root")
	r.spool = filepath.Join(r.root, "var/spool/exim4")
	r.log = filepath.Join(dir, "log")
	for _, d := range []string{r.spool, r.log} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chown(d, uid, gid)
	}
	os.Chmod(r.root, 0o755)
	os.Chmod(filepath.Join(r.root, "var"), 0o755)
	os.Chmod(filepath.Join(r.root, "var/spool"), 0o755)
	r.conf = filepath.Join(dir, "exim.conf")
	conf := fmt.Sprintf(`primary_hostname = test.example
qualify_domain = test.example
spool_directory = %s
log_file_path = %s/%%slog
keep_environment =
split_spool_directory = true
begin routers
defer_all:
  driver = redirect
  allow_defer
  data = :defer: held for hostfix tests
begin transports
begin retry
* * F,4d,1h
`, r.spool, r.log)
	if err := os.WriteFile(r.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	r.config = filepath.Join(dir, "hostfix.yaml")
	cfg := fmt.Sprintf("mailq:\n  mta: exim\n  exim_batch: 2\n  exim_command: [%q, -C, %q]\n", r.exim, r.conf)
	if err := os.WriteFile(r.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return r
}

// queue submits a message with exim -odq (queued, no delivery attempt).
func (r *eximRig) queue(t *testing.T, sender, headers, body string, rcpts ...string) {
	t.Helper()
	c := exec.Command(r.exim, append([]string{"-C", r.conf, "-odq", "-f", sender}, rcpts...)...)
	c.Stdin = strings.NewReader(headers + "\n" + body)
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("exim -odq: %v\n%s", err, out)
	}
}

// bp is exim -bp: id -> "sender frozen?" and the recipients.
func (r *eximRig) bp(t *testing.T) map[string]string {
	t.Helper()
	out, err := exec.Command(r.exim, "-C", r.conf, "-bp").Output()
	if err != nil {
		t.Fatalf("exim -bp: %v", err)
	}
	got := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) >= 4 && strings.HasPrefix(f[3], "<") {
			v := f[1] + " " + f[3]
			if strings.Contains(l, "*** frozen ***") {
				v += " frozen"
			}
			got[f[2]] = v
		}
	}
	return got
}

func (r *eximRig) hostfix(t *testing.T, args ...string) (string, int) {
	t.Helper()
	return runHostfix(t, nil, r.root, r.config, args...)
}

// listed is hostfix mailq list -o json in the same form as bp.
func (r *eximRig) listed(t *testing.T, args ...string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, m := range listJSON(t, nil, r.root, r.config, args...) {
		if m.MTA != "exim" || m.Sender == nil {
			t.Errorf("list line %+v", m)
			continue
		}
		v := fmt.Sprintf("%d <%s>", m.Size, *m.Sender)
		if m.State == "frozen" {
			v += " frozen"
		}
		got[m.ID] = v
	}
	return got
}

func ids(m map[string]string, pred func(string) bool) []string {
	var out []string
	for id, v := range m {
		if pred(v) {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

func TestIntegrationExim(t *testing.T) {
	r := newEximRig(t)
	for i := 0; i < 5; i++ {
		r.queue(t, "spam@bad.example", fmt.Sprintf("Subject: win %d\nX-Mailer: EvilMailer 1.0\n", i), "click here\n", fmt.Sprintf("victim%d@dest.example", i))
	}
	r.queue(t, "news@good.example", "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\n", "hello\nsecret marker\n", "a@dest.example", "b@dest.example")
	r.queue(t, "", "Subject: bounce\n", "returned\n", "postmaster@dest.example")

	bp := r.bp(t)
	if len(bp) != 7 {
		t.Fatalf("exim -bp lists %d messages: %v", len(bp), bp)
	}
	// list agrees with exim -bp: ids, sizes, senders.
	if got := r.listed(t); fmt.Sprint(got) != fmt.Sprint(bp) {
		t.Errorf("list:\n%v\nexim -bp:\n%v", got, bp)
	}
	// Content filters.
	if got := r.listed(t, "--header", "^x-mailer: evilmailer"); len(got) != 5 {
		t.Errorf("--header selects %d", len(got))
	}
	if got := r.listed(t, "--body", "secret MARKER"); len(got) != 1 {
		t.Errorf("--body selects %d", len(got))
	}
	if got := r.listed(t, "--body", "secret MARKER", "--case-sensitive"); len(got) != 0 {
		t.Errorf("--body --case-sensitive selects %d", len(got))
	}
	// stats as a check.
	out, code := r.hostfix(t, "mailq", "stats", "-o", "json")
	var st struct {
		Status  string
		Metrics struct {
			MTA      string
			Messages int
		}
	}
	if err := json.Unmarshal([]byte(out), &st); code != 0 || err != nil || st.Metrics.Messages != 7 || st.Metrics.MTA != "exim" {
		t.Errorf("stats exit %d (%v):\n%s", code, err, out)
	}
	// show decodes the subject; an unknown id exits 2.
	good := ids(bp, func(v string) bool { return strings.Contains(v, "good.example") })[0]
	out, code = r.hostfix(t, "mailq", "show", good)
	if code != 0 || !strings.Contains(out, "Subject: Grüße") || !strings.Contains(out, "secret marker") {
		t.Errorf("show exit %d:\n%s", code, out)
	}
	if out, code = r.hostfix(t, "mailq", "show", "1xYJxi-0005hB-0f"); code != 2 || !strings.Contains(out, "is not in") {
		t.Errorf("show unknown: exit %d:\n%s", code, out)
	}

	// --hold freezes the spam (three exim -Mf calls of at most 2 ids), undo thaws it.
	out, code = r.hostfix(t, "mailq", "purge", "--header", "^X-Mailer: EvilMailer", "--hold", "--yes")
	if code != 0 {
		t.Fatalf("purge --hold exit %d:\n%s", code, out)
	}
	t.Logf("purge --hold:\n%s", out)
	bp = r.bp(t)
	if n := len(ids(bp, func(v string) bool { return strings.HasSuffix(v, " frozen") })); n != 5 {
		t.Fatalf("%d frozen after --hold:\n%v\n%s", n, bp, out)
	}
	if got := r.listed(t); fmt.Sprint(got) != fmt.Sprint(bp) {
		t.Errorf("list after --hold:\n%v\nexim -bp:\n%v", got, bp)
	}
	if out, code := r.hostfix(t, "mailq", "purge", "--header", "^X-Mailer: EvilMailer", "--hold", "--yes"); code != 0 || !strings.Contains(strings.ToLower(out), "nothing to do") {
		t.Errorf("second --hold exit %d:\n%s", code, out)
	}
	// Meanwhile the admin thawed one by hand and removed another: the undo's exim -Mt then
	// names one message not frozen and one gone, which must not fail the undo.
	frozen := ids(bp, func(v string) bool { return strings.HasSuffix(v, " frozen") })
	sort.Strings(frozen)
	for _, hand := range [][]string{{"-Mt", frozen[0]}, {"-Mrm", frozen[1]}} {
		if out, err := exec.Command(r.exim, append([]string{"-C", r.conf}, hand...)...).CombinedOutput(); err != nil {
			t.Fatalf("exim %v: %v\n%s", hand, err, out)
		}
	}
	if bp = r.bp(t); len(bp) != 6 || strings.HasSuffix(bp[frozen[0]], " frozen") {
		t.Fatalf("after the hand thaw and remove: %v", bp)
	}
	out, code = r.hostfix(t, "undo", "--yes")
	t.Logf("undo:\n%s", out)
	if code != 0 {
		t.Fatalf("undo exit %d:\n%s", code, out)
	}
	bp = r.bp(t)
	if n := len(ids(bp, func(v string) bool { return strings.HasSuffix(v, " frozen") })); n != 0 || len(bp) != 6 {
		t.Fatalf("after undo: %v", bp)
	}

	// A plain purge says undo is impossible, and removes with exim -Mrm.
	out, code = r.hostfix(t, "mailq", "purge", "--sender", `@bad\.example$`, "--dry-run")
	t.Logf("purge --dry-run:\n%s", out)
	if code != 0 || !strings.Contains(out, "undo is not possible") || len(r.bp(t)) != 6 {
		t.Fatalf("dry-run exit %d:\n%s", code, out)
	}
	out, code = r.hostfix(t, "mailq", "purge", "--sender", `@bad\.example$`, "--yes")
	if code != 0 {
		t.Fatalf("purge exit %d:\n%s", code, out)
	}
	bp = r.bp(t)
	if len(bp) != 2 || len(ids(bp, func(v string) bool { return strings.Contains(v, "bad.example") })) != 0 {
		t.Fatalf("after purge: %v\n%s", bp, out)
	}
	if out, code = r.hostfix(t, "mailq", "purge", "--sender", `@bad\.example$`, "--yes"); code != 0 || !strings.Contains(strings.ToLower(out), "nothing to do") {
		t.Errorf("second purge exit %d:\n%s", code, out)
	}

	// flush of selected ids runs exim -M: a delivery attempt (deferred by the test router).
	out, code = r.hostfix(t, "mailq", "flush", "--sender", `^news@`, "--yes")
	if code != 0 {
		t.Fatalf("flush exit %d:\n%s", code, out)
	}
	mainlog, _ := os.ReadFile(filepath.Join(r.log, "mainlog"))
	if !strings.Contains(string(mainlog), good+" == a@dest.example R=defer_all defer") {
		t.Errorf("no delivery attempt for %s in the mainlog:\n%s", good, mainlog)
	}
	// flush of everything is exim -qff.
	if out, code = r.hostfix(t, "mailq", "flush", "--yes"); code != 0 {
		t.Fatalf("flush all exit %d:\n%s", code, out)
	}
	mainlog, _ = os.ReadFile(filepath.Join(r.log, "mainlog"))
	if !strings.Contains(string(mainlog), "Start queue run: pid=") || !strings.Contains(string(mainlog), "-qff") {
		t.Errorf("no -qff queue run in the mainlog:\n%s", mainlog)
	}
	if len(r.bp(t)) != 2 {
		t.Errorf("flush changed the queue: %v", r.bp(t))
	}
}
