package plan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/hostfix/hostfix/pkg/system"
)

// realPath resolves every symlink of the system path p inside the host's root and returns
// the system path of the real file (system.Host.Resolve: the one resolver).
func realPath(h *system.Host, p string) (string, error) { return h.Resolve(p) }

// fileMeta is what an atomic write must keep of the file it replaces.
type fileMeta struct {
	Mode fs.FileMode // permission and setuid/setgid/sticky bits
	UID  int
	GID  int
}

func metaOf(fi fs.FileInfo) fileMeta {
	m := fileMeta{Mode: fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)}
	m.UID, m.GID = ownerOf(fi)
	return m
}

func checksum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// tempName is the name of the temp file a run writes next to path. It is derived from the
// run id, so an interrupted run's leftover can be found and removed by undo.
func tempName(path, runID string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".hostfix-"+runID)
}

// writeAtomic replaces the resolved path real with data: a temp file in the same directory
// gets the content, the owner and then the mode (chown clears setuid bits, so chown
// first), is fsynced, optionally validated, renamed over the target and the directory is
// fsynced. The target is therefore always either the old or the new file, never a partial
// one. meta.UID/GID of -1 leave the owner as created.
//
// A target that is a mount point (a file bind-mounted over it: a container's
// /etc/resolv.conf or /etc/hosts, a test namespace's /etc/services) cannot be renamed
// over (EBUSY): then, and only then, the validated content is written into the file in
// place (truncate, write, fsync; not atomic, the caller's backup is already made) and
// inPlace is true, for the report to say so.
func writeAtomic(ctx context.Context, h *system.Host, real, tmp string, data []byte, meta fileMeta, validate []string) (inPlace bool, err error) {
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return false, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return false, err
	}
	if meta.UID >= 0 || meta.GID >= 0 {
		if err = f.Chown(meta.UID, meta.GID); err != nil {
			return false, fmt.Errorf("keep owner %d:%d: %w", meta.UID, meta.GID, err)
		}
	}
	if err = f.Chmod(meta.Mode); err != nil {
		return false, fmt.Errorf("keep mode %#o: %w", meta.Mode.Perm(), err)
	}
	if _, serr := os.Lstat(real); serr == nil {
		if err = copyXattrs(real, f); err != nil {
			return false, fmt.Errorf("keep extended attributes: %w", err)
		}
	}
	if err = f.Sync(); err != nil {
		return false, err
	}
	if err = f.Close(); err != nil {
		return false, err
	}
	if len(validate) > 0 {
		argv := make([]string, len(validate))
		for i, a := range validate {
			argv[i] = strings.ReplaceAll(a, "{}", tmp)
		}
		if _, verr := h.Runner.Run(ctx, system.Cmd{Argv: argv}); verr != nil {
			err = fmt.Errorf("validator rejected the new content, file left untouched: %w", verr)
			return false, err
		}
	}
	if err = os.Rename(tmp, real); err != nil {
		if !errors.Is(err, syscall.EBUSY) {
			return false, err
		}
		os.Remove(tmp)
		err = nil
		return true, writeInPlace(real, data, meta)
	}
	if serr := syncDir(filepath.Dir(real)); serr != nil {
		// The new file is in place (only its durability is in doubt): say so, so the
		// caller treats it as applied and a rollback puts the old one back.
		return false, &renamedError{serr}
	}
	return false, nil
}

// writeInPlace overwrites the file real (a mount point: it cannot be renamed over) with
// data, keeping its inode; mode and owner are set to meta. Any failure after the truncate
// is a *renamedError: the file may be partly written, so the caller rolls it back.
func writeInPlace(real string, data []byte, meta fileMeta) error {
	f, err := os.OpenFile(real, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("write in place (the file is a mount point): %w", err)
	}
	fail := func(err error) error {
		f.Close()
		return &renamedError{fmt.Errorf("write in place (the file is a mount point): %w", err)}
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if meta.UID >= 0 || meta.GID >= 0 {
		if err := f.Chown(meta.UID, meta.GID); err != nil {
			return fail(fmt.Errorf("keep owner %d:%d: %w", meta.UID, meta.GID, err))
		}
	}
	if err := f.Chmod(meta.Mode); err != nil {
		return fail(fmt.Errorf("keep mode %#o: %w", meta.Mode.Perm(), err))
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return &renamedError{err}
	}
	return nil
}

// renamedError is a failure after the target was already replaced.
type renamedError struct{ error }

func (e *renamedError) Unwrap() error { return e.error }

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}

// copyFile copies src to dst (created, mode and owner of meta), fsynced. It is the slow
// path for backups across filesystems.
func copyFile(src, dst string, meta fileMeta) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if meta.UID >= 0 {
		if err := out.Chown(meta.UID, meta.GID); err != nil {
			out.Close()
			return err
		}
	}
	if err := out.Chmod(meta.Mode); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// writeNew writes a small file (a backup copy) durably with mode and owner of meta.
func writeNew(path string, data []byte, meta fileMeta) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if meta.UID >= 0 {
		// Best effort: the manifest records the owner, which is what restores use.
		_ = f.Chown(meta.UID, meta.GID)
	}
	_ = f.Chmod(meta.Mode)
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// isEXDEV reports a rename across filesystems.
func isEXDEV(err error) bool { return errors.Is(err, syscall.EXDEV) }

// unixMode converts a Go file mode to the octal st_mode permission bits (04755 style).
func unixMode(m fs.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		u |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		u |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		u |= 0o1000
	}
	return u
}

// goMode is the inverse of unixMode.
func goMode(u uint32) fs.FileMode {
	m := fs.FileMode(u & 0o777)
	if u&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if u&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if u&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// sysError is an error whose message shows system paths (as on the host, not under
// --root) while errors.Is/As still see the original.
type sysError struct {
	msg string
	err error
}

func (e *sysError) Error() string { return e.msg }
func (e *sysError) Unwrap() error { return e.err }

// opErr says "verb target: reason", turning the resolved paths of a *fs.PathError or
// *os.LinkError back into system paths and not repeating the target.
func opErr(h *system.Host, verb, target string, err error) error {
	msg := err.Error()
	switch e := err.(type) {
	case *fs.PathError:
		if p := h.Unroot(e.Path); p == target {
			msg = e.Err.Error()
		} else {
			msg = e.Op + " " + p + ": " + e.Err.Error()
		}
	case *os.LinkError:
		msg = e.Op + " " + h.Unroot(e.Old) + " " + h.Unroot(e.New) + ": " + e.Err.Error()
	}
	return &sysError{msg: verb + " " + target + ": " + msg, err: err}
}

// hostPath is the path to open for the system path p, every symlink resolved inside the
// root (system.Host.RealPath): h.Path alone would let a link such as /var/run -> /run in a
// fixture tree lead outside --root. A path that cannot be resolved (a loop) is an error,
// never a fallback to the unresolved path.
func hostPath(h *system.Host, p string) (string, error) {
	rp, err := h.RealPath(p)
	if err != nil {
		return "", fmt.Errorf("%s: %w", filepath.Clean("/"+p), err)
	}
	return rp, nil
}

// parentResolver resolves the directories of many paths, once per directory, leaving the
// final component alone (a rename moves a link, not its target).
type parentResolver struct {
	h    *system.Host
	dirs map[string]resolvedDir
}

func newParentResolver(h *system.Host) *parentResolver {
	return &parentResolver{h: h, dirs: map[string]resolvedDir{}}
}

// path is the path to open for p with its directory resolved inside the root.
func (r *parentResolver) path(p string) (string, error) {
	dir := filepath.Dir(p)
	d, ok := r.dirs[dir]
	if !ok {
		d.path, d.err = hostPath(r.h, dir)
		r.dirs[dir] = d
	}
	if d.err != nil {
		return "", d.err
	}
	return filepath.Join(d.path, filepath.Base(p)), nil
}

// parentPath resolves the directory of one path (see parentResolver).
func parentPath(h *system.Host, p string) (string, error) { return newParentResolver(h).path(p) }
