//go:build unix

package plan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hostfix/hostfix/internal/testenv"
	"github.com/hostfix/hostfix/pkg/system"
)

func TestEditFileRoundTrip(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/sysctl.conf", "# kernel\nnet.ipv4.tcp_syncookies = 0\n", 0o640)
	fix := func(old []byte, _ bool) ([]byte, error) {
		return []byte(strings.ReplaceAll(string(old), "syncookies = 0", "syncookies = 1")), nil
	}
	a := tr.must(EditFile(tr.h, "/etc/sysctl.conf", fix, EditOptions{Detail: "enable syncookies"}))
	p := New("synflood fix")
	p.Add(a)

	prev := Preview(p)
	if !prev.DryRun || !prev.Changed || len(prev.Actions) != 1 {
		t.Fatalf("preview: %+v", prev)
	}
	d := prev.Actions[0]
	if d.Kind != KindEditFile || d.Op != OpChange || d.Target != "/etc/sysctl.conf" {
		t.Errorf("preview action: %+v", d)
	}
	for _, want := range []string{"--- /etc/sysctl.conf\n", "+++ /etc/sysctl.conf\n", "-net.ipv4.tcp_syncookies = 0\n", "+net.ipv4.tcp_syncookies = 1\n"} {
		if !strings.Contains(d.Diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, d.Diff)
		}
	}
	out := text(prev)
	if !strings.Contains(out, "synflood fix (dry run, nothing changed): 0 to add, 1 to change, 0 to remove, 0 to run") {
		t.Errorf("dry-run text:\n%s", out)
	}
	if tr.read("/etc/sysctl.conf") != "# kernel\nnet.ipv4.tcp_syncookies = 0\n" {
		t.Fatal("preview changed the file")
	}

	rep := tr.mustApply(p)
	if !rep.Changed || rep.RunID == "" || !rep.Actions[0].Changed {
		t.Errorf("report: %+v", rep)
	}
	if got := tr.read("/etc/sysctl.conf"); got != "# kernel\nnet.ipv4.tcp_syncookies = 1\n" {
		t.Errorf("content %q", got)
	}
	if m := tr.mode("/etc/sysctl.conf"); m.Perm() != 0o640 {
		t.Errorf("mode %v, want 0640 kept", m)
	}
	noTempFiles(t, tr.root)

	// Idempotence: planning again gives nothing to do.
	a2, err := EditFile(tr.h, "/etc/sysctl.conf", fix, EditOptions{})
	if err != nil || a2 != nil {
		t.Fatalf("re-plan: %v %v", a2, err)
	}
	p2 := New("synflood fix")
	p2.Add(a2)
	if !p2.Empty() {
		t.Fatal("second plan not empty")
	}
}

func TestEditFileCreatesWithModeAndDirs(t *testing.T) {
	tr := newTree(t)
	a := tr.must(EditFile(tr.h, "/etc/hostfix/new.d/x.conf", replace("x=1\n"), EditOptions{Mode: 0o600}))
	d := a.Describe()
	if d.Op != OpAdd || !strings.Contains(d.Diff, "--- /dev/null") || !strings.Contains(d.Diff, "+x=1") {
		t.Errorf("describe: %+v", d)
	}
	p := New("t")
	p.Add(a)
	tr.mustApply(p)
	if tr.read("/etc/hostfix/new.d/x.conf") != "x=1\n" || tr.mode("/etc/hostfix/new.d/x.conf").Perm() != 0o600 {
		t.Errorf("created file wrong: %v", tr.mode("/etc/hostfix/new.d/x.conf"))
	}
	// Default mode 0644.
	a = tr.must(EditFile(tr.h, "/etc/y.conf", replace("y\n"), EditOptions{}))
	p = New("t")
	p.Add(a)
	tr.mustApply(p)
	if tr.mode("/etc/y.conf").Perm() != 0o644 {
		t.Errorf("default mode %v", tr.mode("/etc/y.conf"))
	}
	// Creating an empty file is a change too (exists=false).
	a, err := EditFile(tr.h, "/etc/empty", replace(""), EditOptions{})
	if err != nil || a == nil {
		t.Fatalf("empty new file: %v %v", a, err)
	}
}

func TestEditFileRefusesDirectory(t *testing.T) {
	tr := newTree(t)
	os.MkdirAll(tr.h.Path("/etc/dir"), 0o755)
	if _, err := EditFile(tr.h, "/etc/dir", replace("x"), EditOptions{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("err = %v", err)
	}
}

func TestEditFileTransformError(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/a", "a", 0o644)
	_, err := EditFile(tr.h, "/etc/a", func([]byte, bool) ([]byte, error) { return nil, errors.New("cannot parse line 3") }, EditOptions{})
	if err == nil || err.Error() != "edit /etc/a: cannot parse line 3" {
		t.Fatalf("err = %v", err)
	}
}

func TestEditFileSecretMasked(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/mail/passwd", "user:oldpassword\n", 0o600)
	a := tr.must(EditFile(tr.h, "/etc/mail/passwd", replace("user:s3cretNEW\n"), EditOptions{Secret: true}))
	p := New("t")
	p.Add(a)
	var js strings.Builder
	if err := WriteJSON(&js, Preview(p)); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{text(Preview(p)), js.String()} {
		if strings.Contains(s, "s3cretNEW") || strings.Contains(s, "oldpassword") {
			t.Errorf("secret leaked:\n%s", s)
		}
		if !strings.Contains(s, "secret content not shown") {
			t.Errorf("no masking note:\n%s", s)
		}
	}
	// Plan.Secrets masks strings in any detail as well.
	p.Secrets = []string{"hunter2"}
	p.Note("password hunter2 rotated")
	p.Add(Command(cf("chpasswd", "hunter2"), "set hunter2"))
	if s := text(Preview(p)); strings.Contains(s, "hunter2") {
		t.Errorf("Plan.Secrets not masked:\n%s", s)
	}
}

func TestEditFileThroughSymlinks(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/real/main.cf", "a=1\n", 0o644)
	// Absolute link target: it is a system path, resolved under --root, never the host's /etc.
	if err := os.Symlink("/etc/real/main.cf", tr.h.Path("/etc/abs.cf")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", tr.h.Path("/etc/reldir")); err != nil {
		t.Fatal(err)
	}
	a := tr.must(EditFile(tr.h, "/etc/abs.cf", replace("a=2\n"), EditOptions{}))
	if !strings.Contains(a.Describe().Detail, "symlink to /etc/real/main.cf") {
		t.Errorf("detail %q", a.Describe().Detail)
	}
	b := tr.must(EditFile(tr.h, "/etc/reldir/other.cf", replace("new\n"), EditOptions{}))
	p := New("t")
	p.Add(a, b)
	tr.mustApply(p)
	if tr.mode("/etc/abs.cf")&os.ModeSymlink == 0 {
		t.Fatal("the symlink was replaced by a file")
	}
	if tr.read("/etc/real/main.cf") != "a=2\n" {
		t.Errorf("target not written: %q", tr.read("/etc/real/main.cf"))
	}
	if tr.read("/etc/real/other.cf") != "new\n" {
		t.Error("file through a directory link not created in the real directory")
	}
	// A loop is an error, not a hang.
	os.Symlink("/etc/loop2", tr.h.Path("/etc/loop1"))
	os.Symlink("/etc/loop1", tr.h.Path("/etc/loop2"))
	if _, err := EditFile(tr.h, "/etc/loop1", replace("x"), EditOptions{}); err == nil || !strings.Contains(err.Error(), "too many levels") {
		t.Errorf("loop: %v", err)
	}
	// A link climbing with .. stays inside the root.
	os.Symlink("../../../../../../etc/passwd-in-root", tr.h.Path("/etc/climb"))
	c := tr.must(EditFile(tr.h, "/etc/climb", replace("inside\n"), EditOptions{}))
	p = New("t")
	p.Add(c)
	tr.mustApply(p)
	if tr.read("/etc/passwd-in-root") != "inside\n" {
		t.Error("climbing link escaped the root")
	}
}

func TestEditFileKeepsOwnerAndMode(t *testing.T) {
	testenv.NeedRoot(t) // chown; CI runs as root, so this cannot be skipped there
	tr := newTree(t)
	tr.write("/etc/qmail/control/x", "old\n", 0o640)
	os.Chown(tr.h.Path("/etc/qmail/control/x"), 1234, 5678)
	os.Chmod(tr.h.Path("/etc/qmail/control/x"), 0o2750|os.ModeSetgid)
	before := tr.mode("/etc/qmail/control/x")
	a := tr.must(EditFile(tr.h, "/etc/qmail/control/x", replace("new\n"), EditOptions{}))
	p := New("t")
	p.Add(a)
	tr.mustApply(p)
	if u, g := tr.owner("/etc/qmail/control/x"); u != 1234 || g != 5678 {
		t.Errorf("owner %d:%d, want 1234:5678", u, g)
	}
	if m := tr.mode("/etc/qmail/control/x"); m != before {
		t.Errorf("mode %v, want %v", m, before)
	}
}

func TestValidator(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/postfix/main.cf", "ok=1\n", 0o644)
	var seen string
	tr.rec.Func = func(c system.Cmd) (system.Result, error) {
		// The validator sees the new content at the temp path, next to the target.
		b, err := os.ReadFile(c.Argv[2])
		if err != nil {
			return system.Result{}, err
		}
		seen = c.Argv[2]
		if strings.Contains(string(b), "bad") {
			res := system.Result{ExitCode: 1, Stderr: []byte("main.cf line 1: syntax error")}
			return res, &system.ExitError{Cmd: c, Result: res}
		}
		return system.Result{}, nil
	}
	validate := []string{"postfix-check", "-c", "{}"}

	a := tr.must(EditFile(tr.h, "/etc/postfix/main.cf", replace("bad=\n"), EditOptions{Validate: validate}))
	p := New("t")
	p.Add(a)
	rep, err := tr.apply(p)
	if err == nil {
		t.Fatal("validator failure did not fail the apply")
	}
	if !strings.Contains(err.Error(), "validator rejected") || !strings.Contains(err.Error(), "syntax error") {
		t.Errorf("error %q", err)
	}
	if filepath.Dir(seen) != tr.h.Path("/etc/postfix") || !strings.HasPrefix(filepath.Base(seen), ".main.cf.hostfix-") {
		t.Errorf("validator ran on %q, want a temp file next to the target", seen)
	}
	if tr.read("/etc/postfix/main.cf") != "ok=1\n" {
		t.Error("file changed despite the validator")
	}
	if rep == nil || rep.Error == "" || rep.Actions[0].Error == "" {
		t.Errorf("report does not carry the error: %+v", rep)
	}
	noTempFiles(t, tr.root)

	a = tr.must(EditFile(tr.h, "/etc/postfix/main.cf", replace("good=1\n"), EditOptions{Validate: validate}))
	p = New("t")
	p.Add(a)
	tr.mustApply(p)
	if tr.read("/etc/postfix/main.cf") != "good=1\n" {
		t.Error("valid content not written")
	}
}

func TestSysctl(t *testing.T) {
	tr := newTree(t)
	tr.write("/proc/sys/net/ipv4/tcp_rmem", "4096\t87380\t6291456\n", 0o644)
	tr.write("/proc/sys/net/ipv4/tcp_syncookies", "0\n", 0o644)
	if a, err := SetSysctl(tr.h, "net.ipv4.tcp_rmem", "4096 87380  6291456"); err != nil || a != nil {
		t.Fatalf("equal multi-value must be no action: %v %v", a, err)
	}
	a := tr.must(SetSysctl(tr.h, "net.ipv4.tcp_syncookies", "1"))
	d := a.Describe()
	if d.Kind != KindSysctl || d.Target != "net.ipv4.tcp_syncookies" || !strings.Contains(d.Detail, "0 -> 1") {
		t.Errorf("describe %+v", d)
	}
	p := New("t")
	p.Add(a)
	rep := tr.mustApply(p)
	if tr.read("/proc/sys/net/ipv4/tcp_syncookies") != "1\n" {
		t.Error("not written")
	}
	if a, _ := SetSysctl(tr.h, "net.ipv4.tcp_syncookies", "1"); a != nil {
		t.Error("not idempotent")
	}
	// The manifest keeps the old value.
	ents, _, err := ReadManifest(filepath.Join(tr.h.Path(tr.cfg.BackupDir), rep.RunID, "manifest.jsonl"))
	if err != nil || len(ents) != 1 || ents[0].Old != "0" || ents[0].New != "1" {
		t.Fatalf("manifest %+v %v", ents, err)
	}
	for _, bad := range []string{"", "../etc/passwd", "net/ipv4", "a b"} {
		if _, err := SetSysctl(tr.h, bad, "1"); err == nil {
			t.Errorf("key %q accepted", bad)
		}
	}
	if _, err := SetSysctl(tr.h, "net.nope", "1"); err == nil {
		t.Error("missing parameter accepted")
	}
}

func makeQueue(tr *tree, n int) []File {
	var files []File
	for i := range n {
		p := fmt.Sprintf("/var/qmail/queue/mess/%d/%d", i%23, 1000+i)
		tr.write(p, strings.Repeat("m", i%50+1), 0o600)
		files = append(files, File{Path: p, Size: int64(i%50 + 1)})
	}
	return files
}

func TestRemoveFilesWithBackup(t *testing.T) {
	tr := newTree(t)
	files := makeQueue(tr, 200)
	var total int64
	for _, f := range files {
		total += f.Size
	}
	a := tr.must(RemoveFiles(tr.h, files, RemoveOptions{Within: "/var/qmail/queue", Label: "200 messages", Sample: 3, MissingOK: true}))
	d := a.Describe()
	if d.Count != 200 || d.Bytes != total || len(d.Sample) != 3 || d.Op != OpRemove {
		t.Errorf("describe %+v", d)
	}
	p := New("mailq purge")
	p.Add(a)
	out := text(Preview(p))
	if !strings.Contains(out, "200 messages") || !strings.Contains(out, "… and 197 more") || strings.Count(out, "/var/qmail/queue/mess/") != 3 {
		t.Errorf("dry-run text:\n%s", out)
	}
	// A file delivered meanwhile is skipped, not an error.
	os.Remove(tr.h.Path(files[5].Path))
	rep := tr.mustApply(p)
	r := rep.Actions[0]
	if !r.Changed || !strings.Contains(r.Detail, "199 files removed") || !strings.Contains(r.Detail, "1 already gone") {
		t.Errorf("result %+v", r)
	}
	for _, f := range files {
		if tr.exists(f.Path) {
			t.Fatalf("%s still there", f.Path)
		}
	}
	runDir := filepath.Join(tr.h.Path(tr.cfg.BackupDir), rep.RunID)
	if b, err := os.ReadFile(filepath.Join(runDir, "removed", files[0].Path)); err != nil || string(b) != "m" {
		t.Errorf("backup copy: %q %v", b, err)
	}
	ents, _, err := ReadManifest(filepath.Join(runDir, "manifest.jsonl"))
	if err != nil || len(ents) != 200 || ents[0].Action != EntryRemoveFiles || ents[1].Action != EntryRemove || ents[1].Mode != "0600" {
		t.Fatalf("manifest: %d entries %+v %v", len(ents), ents[:min(2, len(ents))], err)
	}

	// Undo moves them back.
	up, err := Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(up.Actions) != 1 || up.Actions[0].Describe().Count != 199 {
		t.Fatalf("undo plan:\n%s", text(Preview(up)))
	}
	tr.mustApply(up)
	for i, f := range files {
		if i == 5 {
			continue
		}
		if got := tr.read(f.Path); got != strings.Repeat("m", i%50+1) {
			t.Fatalf("%s: %q", f.Path, got)
		}
	}
}

func TestRemoveFilesNoBackup(t *testing.T) {
	tr := newTree(t)
	files := makeQueue(tr, 50)
	a := tr.must(RemoveFiles(tr.h, files, RemoveOptions{Within: "/var/qmail/queue"}))
	p := New("t")
	p.Add(a)
	o := tr.opts()
	o.NoBackup = true
	rep, err := Apply(context.Background(), p, o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rep.Actions[0].Detail, "deleted (--no-backup)") {
		t.Errorf("detail %q", rep.Actions[0].Detail)
	}
	if tr.exists(files[0].Path) || tr.exists(filepath.Join(tr.cfg.BackupDir, rep.RunID, "removed")) {
		t.Error("not deleted outright")
	}
	up, err := Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !up.Empty() || len(up.Notes) != 1 || !strings.Contains(up.Notes[0], "50 files deleted with --no-backup") {
		t.Errorf("undo of --no-backup: %+v", up)
	}
}

func TestRemoveFilesRefusals(t *testing.T) {
	tr := newTree(t)
	tr.write("/var/qmail/queue/mess/0/1", "x", 0o600)
	tr.write("/etc/passwd", "root", 0o644)
	if _, err := RemoveFiles(tr.h, []File{{Path: "/etc/passwd"}}, RemoveOptions{Within: "/var/qmail/queue"}); err == nil {
		t.Error("file outside Within accepted")
	}
	if _, err := RemoveFiles(tr.h, []File{{Path: "/var/qmail/queue/../../../etc/passwd"}}, RemoveOptions{Within: "/var/qmail/queue"}); err == nil {
		t.Error("unclean path accepted")
	}
	if _, err := RemoveFiles(tr.h, []File{{Path: "/etc/passwd"}}, RemoveOptions{Within: "/"}); err == nil {
		t.Error("Within / accepted")
	}
	if a, err := RemoveFiles(tr.h, nil, RemoveOptions{Within: "/x"}); a != nil || err != nil {
		t.Error("empty removal must be no action")
	}

	// A symlink among the files is refused at apply time and nothing stays removed.
	os.Symlink("/etc/passwd", tr.h.Path("/var/qmail/queue/mess/0/2"))
	a := tr.must(RemoveFiles(tr.h, []File{{Path: "/var/qmail/queue/mess/0/1"}, {Path: "/var/qmail/queue/mess/0/2"}}, RemoveOptions{Within: "/var/qmail/queue"}))
	p := New("t")
	p.Add(a)
	rep, err := tr.apply(p)
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("symlink: %v", err)
	}
	if tr.read("/var/qmail/queue/mess/0/1") != "x" || len(rep.Restored) != 1 {
		t.Errorf("first file not put back: restored %v", rep.Restored)
	}

	// A directory swapped for a link leading outside is refused.
	os.MkdirAll(tr.h.Path("/srv/elsewhere"), 0o755)
	tr.write("/srv/elsewhere/5", "precious", 0o600)
	os.Symlink("/srv/elsewhere", tr.h.Path("/var/qmail/queue/mess/9"))
	a = tr.must(RemoveFiles(tr.h, []File{{Path: "/var/qmail/queue/mess/9/5"}}, RemoveOptions{Within: "/var/qmail/queue"}))
	p = New("t")
	p.Add(a)
	if _, err := tr.apply(p); err == nil || !strings.Contains(err.Error(), "leads outside") {
		t.Fatalf("dir link: %v", err)
	}
	if tr.read("/srv/elsewhere/5") != "precious" {
		t.Error("file outside removed")
	}

	// Without MissingOK a vanished file is an error.
	a = tr.must(RemoveFiles(tr.h, []File{{Path: "/var/qmail/queue/mess/0/404"}}, RemoveOptions{Within: "/var/qmail/queue"}))
	p = New("t")
	p.Add(a)
	if _, err := tr.apply(p); err == nil {
		t.Error("missing file without MissingOK accepted")
	}
}

func TestMoveRoundTrip(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/xinetd.d/smtp_psa", "service smtp\n", 0o644)
	a := tr.must(Move(tr.h, "/etc/xinetd.d/smtp_psa", "/etc/xinetd.d/disabled/smtp_psa"))
	p := New("t")
	p.Add(a)
	rep := tr.mustApply(p)
	if tr.exists("/etc/xinetd.d/smtp_psa") || tr.read("/etc/xinetd.d/disabled/smtp_psa") != "service smtp\n" {
		t.Fatal("not moved")
	}
	if a, err := Move(tr.h, "/etc/xinetd.d/smtp_psa", "/etc/xinetd.d/disabled/smtp_psa"); a != nil || err != nil {
		t.Fatalf("not idempotent: %v %v", a, err)
	}
	tr.write("/etc/a", "a", 0o644)
	tr.write("/etc/b", "b", 0o644)
	if _, err := Move(tr.h, "/etc/a", "/etc/b"); err == nil {
		t.Error("move over an existing file accepted")
	}
	if _, err := Move(tr.h, "/etc/none", "/etc/none2"); err == nil {
		t.Error("move of a missing file accepted")
	}
	up, err := Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr.mustApply(up)
	if !tr.exists("/etc/xinetd.d/smtp_psa") || tr.exists("/etc/xinetd.d/disabled/smtp_psa") {
		t.Fatal("undo did not move back")
	}
}

func TestCommandsServicesPackages(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/a", "1", 0o644)
	p := New("mailq purge")
	p.Add(Service("qmail", "stop", cf("systemctl", "stop", "qmail")))
	p.Add(tr.must(EditFile(tr.h, "/etc/a", replace("2"), EditOptions{})))
	p.Add(InstallPackages(cf("apt-get", "install", "-y"), "conntrack", "nftables"))
	p.Add(Command(cf("qmail-tcpok"), "reset the remote-host cache"))
	p.Add(InstallPackages(cf("apt-get", "install", "-y"))) // nil: dropped
	p.AddFinally(Service("qmail", "start", cf("systemctl", "start", "qmail")))
	if len(p.Actions) != 4 {
		t.Fatalf("actions %d", len(p.Actions))
	}
	prev := Preview(p)
	out := text(prev)
	for _, want := range []string{"! service qmail: stop: systemctl stop qmail [cannot be previewed]",
		"! install_packages conntrack nftables", "! command qmail-tcpok: reset the remote-host cache [cannot be previewed]",
		"(always runs at the end)", "1 to change", "4 to run"} {
		if !strings.Contains(out, want) {
			t.Errorf("preview lacks %q:\n%s", want, out)
		}
	}
	if prev.Actions[0].Previewable {
		t.Error("service marked previewable")
	}
	tr.mustApply(p)
	want := []string{"systemctl stop qmail", "apt-get install -y conntrack nftables", "qmail-tcpok", "systemctl start qmail"}
	if got := tr.rec.Commands(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("commands %q, want %q", got, want)
	}
}

func TestHandlersAndFinally(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/a", "1", 0o644)
	tr.write("/etc/b", "1", 0o644)
	p := New("t")
	p.Handle("restart-xinetd", cf("systemctl", "restart", "xinetd"), "")
	p.Handle("restart-xinetd", cf("ignored"), "") // registered once
	p.Handle("reload-never", cf("systemctl", "reload", "never"), "")
	p.Add(tr.must(EditFile(tr.h, "/etc/a", replace("2"), EditOptions{Notify: []string{"restart-xinetd"}})))
	p.Add(tr.must(EditFile(tr.h, "/etc/b", replace("2"), EditOptions{Notify: []string{"restart-xinetd"}})))
	p.AddFinally(Service("qmail", "start", cf("svc", "-u", "/service/qmail-send")))
	prev := Preview(p)
	if n := len(prev.Actions); n != 4 || prev.Actions[2].Phase != "handler" || prev.Actions[3].Phase != "finally" {
		t.Fatalf("preview %+v", prev.Actions)
	}
	tr.mustApply(p)
	want := "systemctl restart xinetd|svc -u /service/qmail-send"
	if got := strings.Join(tr.rec.Commands(), "|"); got != want {
		t.Errorf("commands %q, want %q", got, want)
	}
}

func TestHandlerFailureRollsBackAndRestartsAgain(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/a", "1", 0o644)
	calls := 0
	tr.rec.Func = func(c system.Cmd) (system.Result, error) {
		calls++
		if calls == 1 {
			res := system.Result{ExitCode: 1, Stderr: []byte("job failed")}
			return res, &system.ExitError{Cmd: c, Result: res}
		}
		return system.Result{}, nil
	}
	p := New("t")
	p.Handle("restart", cf("systemctl", "restart", "x"), "")
	p.Add(tr.must(EditFile(tr.h, "/etc/a", replace("2"), EditOptions{Notify: []string{"restart"}})))
	rep, err := tr.apply(p)
	if err == nil || !strings.Contains(err.Error(), "handler restart failed") {
		t.Fatalf("err %v", err)
	}
	if tr.read("/etc/a") != "1" {
		t.Error("not rolled back")
	}
	if calls != 2 || !strings.Contains(strings.Join(rep.Restored, "|"), "re-run on the restored state") {
		t.Errorf("calls %d restored %v", calls, rep.Restored)
	}
}

func TestStalePlanRefused(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/a", "1\n", 0o644)
	tr.write("/etc/b", "1\n", 0o644)
	tr.write("/proc/sys/net/core/somaxconn", "128\n", 0o644)
	p := New("t")
	p.Add(tr.must(EditFile(tr.h, "/etc/a", replace("2\n"), EditOptions{})))
	p.Add(tr.must(EditFile(tr.h, "/etc/b", replace("2\n"), EditOptions{})))
	p.Add(tr.must(SetSysctl(tr.h, "net.core.somaxconn", "4096")))
	p.AddFinally(Service("qmail", "start", cf("start-qmail")))
	tr.write("/etc/b", "edited by someone else\n", 0o644) // after planning
	rep, err := tr.apply(p)
	var se *StaleError
	if !errors.As(err, &se) || se.Target != "/etc/b" {
		t.Fatalf("err = %v, want StaleError for /etc/b", err)
	}
	if !strings.Contains(err.Error(), "changed since planned") {
		t.Errorf("message %q", err)
	}
	if tr.read("/etc/a") != "1\n" || tr.read("/etc/b") != "edited by someone else\n" || tr.read("/proc/sys/net/core/somaxconn") != "128\n" {
		t.Error("stale apply changed something (or did not roll back /etc/a)")
	}
	if !rep.Actions[2].Skipped || rep.Actions[3].Phase != "finally" || !rep.Actions[3].Changed {
		t.Errorf("report %+v", rep.Actions)
	}
	if got := tr.rec.Commands(); len(got) != 1 || got[0] != "start-qmail" {
		t.Errorf("finally did not run: %v", got)
	}
	runs, _, _ := History(tr.h, tr.cfg)
	if len(runs) != 1 || runs[0].Result != ResultStale {
		t.Errorf("history %+v", runs)
	}
	// Other stale kinds: sysctl value and created file.
	tr2 := newTree(t)
	tr2.write("/proc/sys/x", "1\n", 0o644)
	s := tr2.must(SetSysctl(tr2.h, "x", "2"))
	c := tr2.must(EditFile(tr2.h, "/etc/new", replace("n"), EditOptions{}))
	tr2.write("/proc/sys/x", "3\n", 0o644)
	tr2.write("/etc/new", "someone", 0o644)
	for _, a := range []Action{s, c} {
		if err := a.Verify(context.Background(), nil); !errors.As(err, &se) {
			t.Errorf("%s: %v", a.Describe().Target, err)
		}
	}
}

// The 3rd of 4 actions fails: the first two are restored byte for byte, the 4th never runs.
func TestRollbackWhenThirdOfFourFails(t *testing.T) {
	tr := newTree(t)
	origA := "line1\nline2\n\x00binary\xff\n"
	tr.write("/etc/a.conf", origA, 0o600)
	tr.write("/proc/sys/net/ipv4/tcp_max_syn_backlog", "128\n", 0o644)
	tr.write("/etc/c.conf", "c\n", 0o644)
	tr.write("/etc/d.conf", "d\n", 0o644)
	tr.rec.Func = func(c system.Cmd) (system.Result, error) {
		res := system.Result{ExitCode: 2, Stderr: []byte("bad config")}
		return res, &system.ExitError{Cmd: c, Result: res}
	}
	p := New("t")
	p.Add(tr.must(EditFile(tr.h, "/etc/a.conf", replace("A\n"), EditOptions{})))
	p.Add(tr.must(SetSysctl(tr.h, "net.ipv4.tcp_max_syn_backlog", "4096")))
	p.Add(tr.must(EditFile(tr.h, "/etc/c.conf", replace("C\n"), EditOptions{Validate: []string{"check", "{}"}})))
	p.Add(tr.must(EditFile(tr.h, "/etc/d.conf", replace("D\n"), EditOptions{})))
	p.Add(tr.must(EditFile(tr.h, "/etc/new.conf", replace("N\n"), EditOptions{})))
	rep, err := tr.apply(p)
	if err == nil {
		t.Fatal("apply succeeded")
	}
	if tr.read("/etc/a.conf") != origA || tr.mode("/etc/a.conf").Perm() != 0o600 {
		t.Error("/etc/a.conf not restored byte for byte")
	}
	if tr.read("/proc/sys/net/ipv4/tcp_max_syn_backlog") != "128\n" {
		t.Error("sysctl not restored")
	}
	if tr.read("/etc/c.conf") != "c\n" || tr.read("/etc/d.conf") != "d\n" || tr.exists("/etc/new.conf") {
		t.Error("later actions ran")
	}
	if rep.Changed {
		t.Error("a fully rolled-back run reports changed=true")
	}
	if got := strings.Join(rep.Restored, "|"); got != "net.ipv4.tcp_max_syn_backlog = 128|/etc/a.conf" {
		t.Errorf("restored %q", got)
	}
	out := text(rep)
	for _, want := range []string{"FAILED", "bad config", "rolled back:", "not run: stopped before it"} {
		if !strings.Contains(out, want) {
			t.Errorf("report text lacks %q:\n%s", want, out)
		}
	}
	noTempFiles(t, tr.root)
}

func TestRollbackRemovesCreatedFile(t *testing.T) {
	tr := newTree(t)
	p := New("t")
	p.Add(tr.must(EditFile(tr.h, "/etc/new.conf", replace("N\n"), EditOptions{})))
	p.Add(Command(cf("false"), ""))
	tr.rec.Func = func(c system.Cmd) (system.Result, error) {
		return system.Result{ExitCode: 1}, &system.ExitError{Cmd: c, Result: system.Result{ExitCode: 1}}
	}
	rep, err := tr.apply(p)
	if err == nil || tr.exists("/etc/new.conf") {
		t.Fatalf("err %v, created file still there", err)
	}
	if !strings.Contains(strings.Join(rep.Restored, "|"), "/etc/new.conf (removed again and 1 directory it created)") || tr.exists("/etc") {
		t.Errorf("restored %v", rep.Restored)
	}
}

func TestWaitUnlock(t *testing.T) {
	tr := newTree(t)
	tr.write("/var/qmail/queue/lock/sendmutex", "", 0o600)
	f, err := os.Open(tr.h.Path("/var/qmail/queue/lock/sendmutex"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	a := WaitUnlock(tr.h, "/var/qmail/queue/lock/sendmutex", 150*time.Millisecond)
	if d := a.Describe(); d.Kind != KindWaitUnlock || !d.Previewable {
		t.Errorf("describe %+v", d)
	}
	r := &Run{Host: tr.h}
	if err := a.Apply(context.Background(), r); err == nil || !strings.Contains(err.Error(), "still held") {
		t.Fatalf("held lock: %v", err)
	}
	fd := int(f.Fd())
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(100 * time.Millisecond)
		unix.Flock(fd, unix.LOCK_UN)
	}()
	a = WaitUnlock(tr.h, "/var/qmail/queue/lock/sendmutex", 5*time.Second)
	err = a.Apply(context.Background(), r)
	<-done
	if err != nil {
		t.Fatalf("released lock: %v", err)
	}
	if err := WaitUnlock(tr.h, "/nope", time.Second).Apply(context.Background(), r); err != nil {
		t.Errorf("missing lock file: %v", err)
	}
}

// Two applies at once serialise on the lock; a run that cannot get it in time names the
// holder's pid and command.
func TestConcurrentAppliesSerialise(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/a", "0", 0o644)
	tr.write("/etc/b", "0", 0o644)
	var mu sync.Mutex
	active, maxActive := 0, 0
	tr.rec.Func = func(system.Cmd) (system.Result, error) { // a slow validator
		mu.Lock()
		active++
		maxActive = max(maxActive, active)
		mu.Unlock()
		time.Sleep(200 * time.Millisecond)
		mu.Lock()
		active--
		mu.Unlock()
		return system.Result{}, nil
	}
	mk := func(path string) *Plan {
		p := New("t")
		p.Add(tr.must(EditFile(tr.h, path, replace("1"), EditOptions{Validate: []string{"check", "{}"}})))
		return p
	}
	pa, pb := mk("/etc/a"), mk("/etc/b")
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, p := range []*Plan{pa, pb} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = Apply(context.Background(), p, tr.opts())
		}()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil || maxActive != 1 {
		t.Fatalf("errs %v, %d applies at once", errs, maxActive)
	}

	// Hold the lock and let a short-timeout run fail.
	lock, err := acquireLock(context.Background(), tr.h, tr.cfg, []string{"hostfix", "mailq", "purge"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := tr.cfg
	cfg.LockTimeout = 300 * time.Millisecond
	o := tr.opts()
	o.Config = cfg
	tr.write("/etc/c", "0", 0o644)
	start := time.Now()
	rep, err := Apply(context.Background(), mk("/etc/c"), o)
	var le *LockError
	if !errors.As(err, &le) || rep != nil {
		t.Fatalf("err %v rep %v", err, rep)
	}
	if time.Since(start) < 300*time.Millisecond {
		t.Error("did not wait for the lock")
	}
	want := fmt.Sprintf("pid %d: hostfix mailq purge", os.Getpid())
	if le.Holder != want || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "/run/hostfix.lock") {
		t.Errorf("lock error %q, want holder %q", err, want)
	}
	if tr.read("/etc/c") != "0" {
		t.Error("changed without the lock")
	}
	lock.release()
	if _, err := Apply(context.Background(), mk("/etc/c"), o); err != nil {
		t.Errorf("after release: %v", err)
	}
}

func TestReportJSONContract(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/a", "1\n", 0o644)
	p := New("synflood fix")
	p.Add(tr.must(EditFile(tr.h, "/etc/a", replace("2\n"), EditOptions{})))
	var b strings.Builder
	if err := WriteJSON(&b, Preview(p)); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(b.String()), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"command", "dry_run", "changed", "actions", "run_id", "backup_dir"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b.String())
		}
	}
	if m["dry_run"] != true || m["changed"] != true {
		t.Errorf("dry_run/changed: %s", b.String())
	}
}

func TestEmptyPlanApplyIsNothing(t *testing.T) {
	tr := newTree(t)
	rep, err := tr.apply(New("synflood fix"))
	if err != nil || rep.Changed || rep.RunID != "" {
		t.Fatalf("%+v %v", rep, err)
	}
	if !strings.Contains(text(rep), "synflood fix: nothing to do") {
		t.Errorf("text %q", text(rep))
	}
	if tr.exists("/run/hostfix.lock") || tr.exists("/var/log/hostfix/history.jsonl") {
		t.Error("an empty plan took the lock or wrote history")
	}
}

func TestEditFileKeepsXattrs(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/acl.conf", "old\n", 0o640)
	p := tr.h.Path("/etc/acl.conf")
	if err := unix.Lsetxattr(p, "user.hostfix-test", []byte("kept"), 0); err != nil {
		testenv.Skip(t, "no user xattrs on this filesystem: "+err.Error())
	}
	pl := New("t")
	pl.Add(tr.must(EditFile(tr.h, "/etc/acl.conf", replace("new\n"), EditOptions{})))
	tr.mustApply(pl)
	buf := make([]byte, 16)
	n, err := unix.Lgetxattr(p, "user.hostfix-test", buf)
	if err != nil || string(buf[:n]) != "kept" {
		t.Errorf("xattr lost: %q %v", buf[:n], err)
	}
}

// The mailq purge shape: stop, wait for the lock, remove, and start again whatever happens.
func TestPurgeShapeFailureStartsServiceAgain(t *testing.T) {
	tr := newTree(t)
	files := makeQueue(tr, 10)
	os.Symlink("/etc/passwd", tr.h.Path("/var/qmail/queue/mess/0/evil"))
	files = append(files, File{Path: "/var/qmail/queue/mess/0/evil"})
	p := New("mailq purge")
	p.Add(Service("qmail-send", "stop", cf("svc", "-d", "/service/qmail-send")))
	p.Add(WaitUnlock(tr.h, "/var/qmail/queue/lock/sendmutex", time.Second))
	p.Add(tr.must(RemoveFiles(tr.h, files, RemoveOptions{Within: "/var/qmail/queue", MissingOK: true})))
	p.AddFinally(Service("qmail-send", "start", cf("svc", "-u", "/service/qmail-send")))
	rep, err := tr.apply(p)
	if err == nil {
		t.Fatal("a symlink in the removal did not fail it")
	}
	if got := strings.Join(tr.rec.Commands(), "|"); got != "svc -d /service/qmail-send|svc -u /service/qmail-send" {
		t.Errorf("commands %q", got)
	}
	for _, f := range files[:10] {
		if !tr.exists(f.Path) {
			t.Fatalf("%s not put back", f.Path)
		}
	}
	if rep.Changed || strings.Contains(strings.Join(rep.Restored, "|"), "NOT restored") {
		t.Errorf("changed=%v restored=%v", rep.Changed, rep.Restored)
	}
}

// Ctrl-C mid-apply: the run stops before the next action, rolls back and still runs Finally.
func TestInterruptRollsBack(t *testing.T) {
	tr := newTree(t)
	for _, f := range []string{"/etc/a", "/etc/b", "/etc/c"} {
		tr.write(f, "old", 0o644)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	tr.rec.Func = func(c system.Cmd) (system.Result, error) {
		if c.Argv[0] == "check" {
			if n++; n == 2 {
				cancel() // the signal arrives while the 2nd file is validated
			}
		}
		return system.Result{}, nil
	}
	p := New("t")
	for _, f := range []string{"/etc/a", "/etc/b", "/etc/c"} {
		p.Add(tr.must(EditFile(tr.h, f, replace("new"), EditOptions{Validate: []string{"check", "{}"}})))
	}
	p.AddFinally(Service("x", "start", cf("start-x")))
	rep, err := Apply(ctx, p, tr.opts())
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("err %v", err)
	}
	for _, f := range []string{"/etc/a", "/etc/b", "/etc/c"} {
		if tr.read(f) != "old" {
			t.Errorf("%s not rolled back", f)
		}
	}
	if !rep.Actions[2].Skipped || rep.Actions[3].Phase != "finally" || rep.Actions[3].Error != "" {
		t.Errorf("report %+v", rep.Actions)
	}
	if got := tr.rec.Commands(); got[len(got)-1] != "start-x" {
		t.Errorf("finally did not run: %v", got)
	}
}

func TestFileDiffShapes(t *testing.T) {
	if d := fileDiff("/etc/x", []byte("a\nb"), []byte("a\nc"), true, false); !strings.Contains(d, "-b\n\\ No newline at end of file\n") {
		t.Errorf("no-newline marker:\n%s", d)
	}
	if d := fileDiff("/etc/x", []byte("a\n"), []byte("a"), true, false); !strings.Contains(d, "No newline") {
		t.Errorf("final newline change not shown:\n%s", d)
	}
	big := []byte(strings.Repeat("line\n", 60000))
	if d := fileDiff("/etc/x", big, append(big, 'x'), true, false); !strings.Contains(d, "too large to diff: 60000 lines") {
		t.Errorf("big diff: %.200s", d)
	}
}

type panicAction struct{}

func (panicAction) Describe() Description {
	return Description{Kind: KindCommand, Op: OpRun, Target: "boom"}
}
func (panicAction) Verify(context.Context, *Run) error { return nil }
func (panicAction) Apply(context.Context, *Run) error  { panic("nil map") }

func TestPanickingActionRollsBack(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/a", "old", 0o644)
	p := New("t")
	p.Add(tr.must(EditFile(tr.h, "/etc/a", replace("new"), EditOptions{})), panicAction{})
	_, err := tr.apply(p)
	if err == nil || !strings.Contains(err.Error(), "internal error in command boom: nil map") {
		t.Fatalf("err %v", err)
	}
	if tr.read("/etc/a") != "old" {
		t.Error("not rolled back")
	}
}

func TestPlanEditingAFileTwiceIsRefused(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/real", "x", 0o644)
	os.Symlink("real", tr.h.Path("/etc/link"))
	p := New("t")
	p.Add(tr.must(EditFile(tr.h, "/etc/real", replace("a"), EditOptions{})))
	p.Add(tr.must(EditFile(tr.h, "/etc/link", replace("b"), EditOptions{})))
	if _, err := tr.apply(p); err == nil || !strings.Contains(err.Error(), "edits /etc/real twice") {
		t.Fatalf("err %v", err)
	}
	if tr.read("/etc/real") != "x" || tr.exists("/var/backups/hostfix") {
		t.Error("something happened")
	}
}

// A fixture tree copied from a host has absolute links (/var/run -> /run): the lock, the
// backups, the audit log and moves must follow them inside --root, never onto this machine.
func TestInfrastructurePathsStayInsideRoot(t *testing.T) {
	tr := newTree(t)
	outside := "/hostfix-test-must-not-exist-" + filepath.Base(tr.root)
	t.Cleanup(func() { os.RemoveAll(outside) })
	os.MkdirAll(tr.h.Path("/var"), 0o755)
	os.MkdirAll(tr.h.Path("/srv"), 0o755)
	for _, l := range [][2]string{{"/run", outside + "/run"}, {"/var/backups", outside + "/backups"}, {"/var/log", outside + "/log"}, {"/srv/link", outside + "/srv"}} {
		if err := os.Symlink(l[1], tr.h.Path(l[0])); err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(tr.h.Path(l[1]), 0o755)
	}
	tr.write("/etc/a", "a", 0o644)
	tr.write(outside+"/srv/m", "m", 0o644) // inside the root, through the link
	p := New("t")
	p.Add(tr.must(EditFile(tr.h, "/etc/a", replace("b"), EditOptions{})))
	p.Add(tr.must(Move(tr.h, "/srv/link/m", "/srv/link/n")))
	rep := tr.mustApply(p)
	if _, err := os.Lstat(outside); err == nil {
		t.Fatalf("%s was created on the machine running the test", outside)
	}
	for _, p := range []string{outside + "/run/hostfix.lock", outside + "/log/hostfix/history.jsonl", outside + "/backups/hostfix/" + rep.RunID + "/manifest.jsonl", outside + "/srv/n"} {
		if !tr.exists(p) {
			t.Errorf("%s not inside the root", p)
		}
	}
	runs, _, err := History(tr.h, tr.cfg)
	if err != nil || len(runs) != 1 {
		t.Fatalf("history through links: %v %v", runs, err)
	}
	up, err := Undo(tr.h, tr.cfg, "", UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr.mustApply(up)
	if tr.read("/etc/a") != "a" || !tr.exists(outside+"/srv/m") {
		t.Error("undo through links failed")
	}
}
