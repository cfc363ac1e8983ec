package plan

// Fault injection as root: a full and a read-only filesystem (tmpfs mounted by the test)
// and an apply killed with SIGKILL. Each must leave every file either old or new.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hostfix/hostfix/internal/testenv"
	"github.com/hostfix/hostfix/pkg/system"
)

// mountTmpfs mounts a tmpfs of the given size at dir and unmounts it when the test ends,
// also on failure.
func mountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0755"); err != nil {
		testenv.Skip(t, "cannot mount tmpfs: "+err.Error())
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
}

// fill leaves about free bytes on the filesystem holding dir.
func fill(t *testing.T, dir string, free int64) {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	avail := int64(st.Bavail) * int64(st.Bsize)
	if avail > free {
		if err := os.WriteFile(filepath.Join(dir, "filler"), make([]byte, avail-free), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func oldOrNew(t *testing.T, tr *tree, path, old, new string) string {
	t.Helper()
	got := tr.read(path)
	switch got {
	case old:
		return "old"
	case new:
		return "new"
	}
	t.Fatalf("%s is neither old nor new (partial write?): %d bytes", path, len(got))
	return ""
}

func TestIntegrationFullFilesystem(t *testing.T) {
	testenv.Integration(t)
	testenv.NeedRoot(t)
	tr := newTree(t)
	mountTmpfs(t, tr.h.Path("/etc"), "64k")
	oldA, oldB := strings.Repeat("a", 1000)+"\n", strings.Repeat("b", 1000)+"\n"
	newA, newB := "A\n", strings.Repeat("B", 48<<10)+"\n"
	tr.write("/etc/a.conf", oldA, 0o644)
	tr.write("/etc/b.conf", oldB, 0o644)
	fill(t, tr.h.Path("/etc"), 16<<10)

	p := New("t")
	p.Add(tr.must(EditFile(tr.h, "/etc/a.conf", replace(newA), EditOptions{})))
	p.Add(tr.must(EditFile(tr.h, "/etc/b.conf", replace(newB), EditOptions{})))
	rep, err := tr.apply(p)
	if err == nil {
		t.Fatal("apply on a full filesystem succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, "no space left on device") || !strings.HasPrefix(msg, "edit /etc/b.conf: ") || strings.Contains(msg, tr.root) {
		t.Errorf("unclear error: %q", msg)
	}
	if oldOrNew(t, tr, "/etc/a.conf", oldA, newA) != "old" || oldOrNew(t, tr, "/etc/b.conf", oldB, newB) != "old" {
		t.Error("not rolled back to the old state")
	}
	if len(rep.Restored) != 1 {
		t.Errorf("restored %v", rep.Restored)
	}
	noTempFiles(t, tr.root)

	// A full backup filesystem: the edit never starts.
	tr2 := newTree(t)
	tr2.write("/etc/c.conf", oldA, 0o644)
	mountTmpfs(t, tr2.h.Path("/var/backups"), "64k")
	fill(t, tr2.h.Path("/var/backups"), 0)
	p = New("t")
	p.Add(tr2.must(EditFile(tr2.h, "/etc/c.conf", replace(newA), EditOptions{})))
	_, err = tr2.apply(p)
	if err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("full backup fs: %v", err)
	}
	if tr2.read("/etc/c.conf") != oldA {
		t.Error("file changed although its backup failed")
	}
}

func TestIntegrationReadOnlyFilesystem(t *testing.T) {
	testenv.Integration(t)
	testenv.NeedRoot(t)
	tr := newTree(t)
	tr.write("/srv/site.conf", "old site\n", 0o644)
	mountTmpfs(t, tr.h.Path("/etc/ro"), "64k")
	tr.write("/etc/ro/a.conf", "old a\n", 0o644)
	if err := unix.Mount("", tr.h.Path("/etc/ro"), "", unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Fatal(err)
	}
	p := New("t")
	p.Add(tr.must(EditFile(tr.h, "/srv/site.conf", replace("new site\n"), EditOptions{})))
	p.Add(tr.must(EditFile(tr.h, "/etc/ro/a.conf", replace("new a\n"), EditOptions{})))
	rep, err := tr.apply(p)
	if err == nil || !strings.Contains(err.Error(), "read-only file system") || !strings.HasPrefix(err.Error(), "edit /etc/ro/a.conf: ") {
		t.Fatalf("err = %v", err)
	}
	if oldOrNew(t, tr, "/srv/site.conf", "old site\n", "new site\n") != "old" || tr.read("/etc/ro/a.conf") != "old a\n" {
		t.Error("not rolled back")
	}
	if !strings.Contains(text(rep), "/srv/site.conf") {
		t.Errorf("report does not say what was restored:\n%s", text(rep))
	}
}

const helperEnv = "HOSTFIX_PLAN_KILL_HELPER_ROOT"

// killHelper is the child of TestIntegrationKilledMidApply (run by TestMain when
// helperEnv is set): it applies a bulk removal and 30 slowly validated edits until the
// parent kills it.
func killHelper(root string) {
	rec := &system.Recorder{Func: func(system.Cmd) (system.Result, error) {
		time.Sleep(40 * time.Millisecond) // a slow validator: the kill lands mid-apply
		return system.Result{}, nil
	}}
	h, err := system.NewHost(root, rec)
	if err != nil {
		panic(err)
	}
	must := func(a Action, err error) Action {
		if err != nil || a == nil {
			panic(fmt.Sprint("plan: ", a, err))
		}
		return a
	}
	p := New("kill test")
	var files []File
	for i := range 500 {
		files = append(files, File{Path: fmt.Sprintf("/var/q/%d/%d", i%7, i), Size: 3})
	}
	p.Add(must(RemoveFiles(h, files, RemoveOptions{Within: "/var/q"})))
	for i := range 30 {
		p.Add(must(EditFile(h, fmt.Sprintf("/etc/f%02d.conf", i), replace(fmt.Sprintf("new %02d\n", i)+strings.Repeat("n", 4096)),
			EditOptions{Validate: []string{"slow-check", "{}"}})))
	}
	_, err = Apply(context.Background(), p, Options{Host: h, Config: DefaultConfig(), CommandLine: []string{"hostfix", "kill", "test"}})
	fmt.Fprintf(os.Stderr, "helper was not killed (apply returned %v)\n", err)
}

func TestIntegrationKilledMidApply(t *testing.T) {
	testenv.Integration(t)
	tr := newTree(t)
	for i := range 500 {
		tr.write(fmt.Sprintf("/var/q/%d/%d", i%7, i), "msg", 0o600)
	}
	for i := range 30 {
		tr.write(fmt.Sprintf("/etc/f%02d.conf", i), fmt.Sprintf("old %02d\n", i), 0o640)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"="+tr.root)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	// Kill it once a few edits are done (their manifest entries are synced before each).
	deadline := time.Now().Add(30 * time.Second)
	for {
		m, _ := filepath.Glob(tr.h.Path("/var/backups/hostfix/*/manifest.jsonl"))
		if len(m) == 1 {
			b, _ := os.ReadFile(m[0])
			if strings.Count(string(b), `"action":"edit"`) >= 6 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("helper made no progress:\n%s", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	changed := 0
	for i := range 30 {
		p := fmt.Sprintf("/etc/f%02d.conf", i)
		if oldOrNew(t, tr, p, fmt.Sprintf("old %02d\n", i), fmt.Sprintf("new %02d\n", i)+strings.Repeat("n", 4096)) == "new" {
			changed++
			if m := tr.mode(p).Perm(); m != 0o640 {
				t.Errorf("%s mode %v", p, m)
			}
		}
	}
	if changed < 5 || changed == 30 {
		t.Fatalf("%d files changed before the kill; want a run interrupted mid-way", changed)
	}
	if tr.exists("/var/q/0/0") {
		t.Fatal("the removal did not run before the kill")
	}

	runs, _, err := History(tr.h, tr.cfg)
	if err != nil || len(runs) != 1 || runs[0].Result != ResultIncomplete || runs[0].Command != "kill test" {
		t.Fatalf("history after kill: %+v %v", runs, err)
	}
	up, err := Undo(tr.h, tr.cfg, "", UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rep := tr.mustApply(up)
	for i := range 30 {
		if got := tr.read(fmt.Sprintf("/etc/f%02d.conf", i)); got != fmt.Sprintf("old %02d\n", i) {
			t.Errorf("f%02d not restored: %q", i, got)
		}
	}
	for i := range 500 {
		if got := tr.read(fmt.Sprintf("/var/q/%d/%d", i%7, i)); got != "msg" {
			t.Fatalf("queue file %d not restored", i)
		}
	}
	noTempFiles(t, tr.h.Path("/etc"))
	if !rep.Changed {
		t.Error("undo changed nothing")
	}
}

// The queue on another filesystem than the backup: files are copied (mode and owner kept),
// fsynced and deleted, the report says so, and undo copies them back.
func TestIntegrationRemoveAcrossFilesystems(t *testing.T) {
	testenv.Integration(t)
	testenv.NeedRoot(t)
	tr := newTree(t)
	mountTmpfs(t, tr.h.Path("/var/q"), "1m")
	var files []File
	for i := range 20 {
		p := fmt.Sprintf("/var/q/mess/%d", i)
		tr.write(p, strings.Repeat("x", i+1), 0o640)
		os.Chown(tr.h.Path(p), 89, 82)
		files = append(files, File{Path: p, Size: int64(i + 1)})
	}
	p := New("t")
	p.Add(tr.must(RemoveFiles(tr.h, files, RemoveOptions{Within: "/var/q"})))
	rep := tr.mustApply(p)
	if d := rep.Actions[0].Detail; !strings.Contains(d, "20 files removed") || !strings.Contains(d, "copied") {
		t.Errorf("detail %q", d)
	}
	saved := filepath.Join(tr.h.Path(tr.cfg.BackupDir), rep.RunID, "removed/var/q/mess/3")
	fi, err := os.Stat(saved)
	if err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("backup copy: %v %v", fi, err)
	}
	if tr.exists("/var/q/mess/3") {
		t.Fatal("not removed")
	}
	up, err := Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr.mustApply(up)
	for i := range 20 {
		p := fmt.Sprintf("/var/q/mess/%d", i)
		if tr.read(p) != strings.Repeat("x", i+1) || tr.mode(p).Perm() != 0o640 {
			t.Fatalf("%s not restored", p)
		}
		if u, g := tr.owner(p); u != 89 || g != 82 {
			t.Fatalf("%s owner %d:%d", p, u, g)
		}
	}
}

// Issue 8 item 6: the data on another filesystem than the backup. An undo restores removed
// files, a removed directory and removes a created file, all across filesystems; a later
// step fails; the rollback must move everything back across filesystems again (a bare
// rename fails with EXDEV), so the undo can be run again.
func TestIntegrationRollbackAfterCrossFilesystemRestore(t *testing.T) {
	testenv.Integration(t)
	testenv.NeedRoot(t)
	tr := newTree(t)
	mountTmpfs(t, tr.h.Path("/var/q"), "1m")
	mountTmpfs(t, tr.h.Path("/etc/x"), "1m")
	var files []File
	for i := range 10 {
		p := fmt.Sprintf("/var/q/mess/%d", i)
		tr.write(p, strings.Repeat("m", i+1), 0o640)
		files = append(files, File{Path: p, Size: int64(i + 1)})
	}
	tr.write("/var/q/keys/k1", "secret", 0o600)
	p := New("t")
	p.Add(tr.must(RemoveFiles(tr.h, files, RemoveOptions{Within: "/var/q/mess"})))
	p.Add(tr.must(RemoveDir(tr.h, "/var/q/keys", RemoveDirOptions{Secret: true})))
	p.Add(tr.must(EditFile(tr.h, "/etc/x/new.conf", replace("created"), EditOptions{})))
	run := tr.mustApply(p)
	if tr.exists("/var/q/mess/3") || tr.exists("/var/q/keys") || tr.read("/etc/x/new.conf") != "created" {
		t.Fatal("run 1 did not apply")
	}

	up, err := Undo(tr.h, tr.cfg, run.RunID, UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(up.Actions) != 3 {
		t.Fatalf("undo plan: %s", text(Preview(up)))
	}
	up.Add(Command(cf("fail-at-the-end"), ""))
	tr.rec.Func = func(c system.Cmd) (system.Result, error) {
		res := system.Result{ExitCode: 1}
		return res, &system.ExitError{Cmd: c, Result: res}
	}
	rep, err := tr.apply(up)
	if err == nil {
		t.Fatal("the failing step did not fail the undo")
	}
	for _, r := range rep.Restored {
		if strings.HasPrefix(r, "NOT restored") && !strings.Contains(r, "command fail-at-the-end") {
			t.Errorf("rollback across filesystems: %s", r)
		}
	}
	if tr.exists("/var/q/mess/3") || tr.exists("/var/q/keys") || !tr.exists("/etc/x/new.conf") || tr.read("/etc/x/new.conf") != "created" {
		t.Fatalf("rollback did not put the undo's changes back:\n%s", text(rep))
	}
	// Everything is back where run 1 left it: the undo works on a second try.
	tr.rec.Func = nil
	up, err = Undo(tr.h, tr.cfg, run.RunID, UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr.mustApply(up)
	for i := range 10 {
		if p := fmt.Sprintf("/var/q/mess/%d", i); tr.read(p) != strings.Repeat("m", i+1) || tr.mode(p).Perm() != 0o640 {
			t.Fatalf("%s not restored", p)
		}
	}
	if tr.read("/var/q/keys/k1") != "secret" || tr.exists("/etc/x/new.conf") {
		t.Error("second undo incomplete")
	}
}

// A Move across filesystems (rename gives EXDEV) is copied, and rolled back the same way.
func TestIntegrationMoveAcrossFilesystems(t *testing.T) {
	testenv.Integration(t)
	testenv.NeedRoot(t)
	tr := newTree(t)
	mountTmpfs(t, tr.h.Path("/srv/other"), "1m")
	tr.write("/etc/xinetd.d/smtp_psa", "service smtp\n", 0o640)
	p := New("t")
	p.Add(tr.must(Move(tr.h, "/etc/xinetd.d/smtp_psa", "/srv/other/smtp_psa")))
	p.Add(Command(cf("fail"), ""))
	tr.rec.Func = func(c system.Cmd) (system.Result, error) {
		res := system.Result{ExitCode: 1}
		return res, &system.ExitError{Cmd: c, Result: res}
	}
	rep, err := tr.apply(p)
	if err == nil || rep.Actions[0].Error != "" {
		t.Fatalf("move across filesystems: %v\n%s", err, text(rep))
	}
	if tr.read("/etc/xinetd.d/smtp_psa") != "service smtp\n" || tr.exists("/srv/other/smtp_psa") || tr.mode("/etc/xinetd.d/smtp_psa").Perm() != 0o640 {
		t.Errorf("rollback of a cross-filesystem move:\n%s", text(rep))
	}
}

// privateMountNamespace moves the calling test's thread into a new mount namespace whose
// mounts do not propagate to the host. The thread stays locked and dies with the test.
func privateMountNamespace(t *testing.T) {
	t.Helper()
	runtime.LockOSThread() // never unlocked: the thread exits with the test goroutine
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		testenv.Skip(t, "cannot unshare the mount namespace: "+err.Error())
	}
	if err := unix.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
		t.Fatalf("make mounts private: %v", err)
	}
}

// Issue 8 item 7: a file that is a mount point (a bind-mounted /etc/services, as in a test
// namespace or a container's /etc/resolv.conf) cannot be renamed over (EBUSY): EditFile
// writes it in place after the backup and says so; rollback and undo write it back the
// same way.
func TestIntegrationEditBindMountedFile(t *testing.T) {
	testenv.Integration(t)
	testenv.NeedRoot(t)
	privateMountNamespace(t)
	tr := newTree(t)
	tr.write("/etc/services", "smtp 25/tcp\n", 0o644)
	src := filepath.Join(t.TempDir(), "services")
	if err := os.WriteFile(src, []byte("smtp 25/tcp mail\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	target := tr.h.Path("/etc/services")
	if err := unix.Mount(src, target, "", unix.MS_BIND, ""); err != nil {
		testenv.Skip(t, "cannot bind-mount a file: "+err.Error())
	}
	t.Cleanup(func() { unix.Unmount(target, unix.MNT_DETACH) })
	if err := os.Rename(src, target); err == nil || !strings.Contains(err.Error(), "busy") {
		t.Fatalf("rename onto the mount point should be EBUSY, got %v", err)
	}
	edit := func() Action {
		return tr.must(EditFile(tr.h, "/etc/services", replace("smtp 2525/tcp mail\n"), EditOptions{Detail: "move smtp"}))
	}
	// A later failure: the in-place write is rolled back in place.
	p := New("t")
	p.Add(edit(), Command(cf("fail"), ""))
	tr.rec.Func = func(c system.Cmd) (system.Result, error) {
		res := system.Result{ExitCode: 1}
		return res, &system.ExitError{Cmd: c, Result: res}
	}
	rep, err := tr.apply(p)
	if err == nil || rep.Actions[0].Error != "" || tr.read("/etc/services") != "smtp 25/tcp mail\n" {
		t.Fatalf("rollback of an in-place write: %v %q\n%s", err, tr.read("/etc/services"), text(rep))
	}
	tr.rec.Func = nil
	rep = tr.mustApply(&Plan{Command: "t", Actions: []Action{edit()}})
	if got, _ := os.ReadFile(src); string(got) != "smtp 2525/tcp mail\n" {
		t.Errorf("the bind-mounted file has %q", got)
	}
	if d := rep.Actions[0].Detail; !strings.Contains(d, "mount point (rename gives EBUSY): written in place after the backup") {
		t.Errorf("the report does not say so: %q", d)
	}
	noTempFiles(t, tr.h.Path("/etc"))
	up, err := Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr.mustApply(up)
	if got, _ := os.ReadFile(src); string(got) != "smtp 25/tcp mail\n" {
		t.Errorf("undo wrote %q", got)
	}
}
