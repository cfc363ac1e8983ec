package plan

// The one rename-or-copy logic: every move between the host and a backup (removals,
// rollbacks, undo restores, Move) goes through moveFile, linkOrCopy or moveTree, whose
// cross-filesystem (EXDEV) path is copyAside/copyTree, so a backup directory on another
// filesystem works the same way everywhere. (A bulk removal renames relative to open
// directories for speed, and falls back to copyAside too.)

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// moveFile renames src to dst; across filesystems it copies (content, mode, owner, under
// a partial name renamed into place), fsyncs and removes src. copied reports the slow path.
// dst's directory must exist. It replaces dst if present, as rename does.
func moveFile(src, dst string) (copied bool, err error) {
	err = os.Rename(src, dst)
	if err == nil || !isEXDEV(err) {
		return false, err
	}
	fi, err := os.Lstat(src)
	if err != nil {
		return true, err
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		t, err := os.Readlink(src)
		if err != nil {
			return true, err
		}
		tmp := dst + partialSuffix
		os.Remove(tmp)
		if err := os.Symlink(t, tmp); err != nil {
			return true, err
		}
		if m := metaOf(fi); m.UID >= 0 {
			_ = os.Lchown(tmp, m.UID, m.GID)
		}
		if err := os.Rename(tmp, dst); err != nil {
			os.Remove(tmp)
			return true, err
		}
	case !fi.Mode().IsRegular():
		return true, fmt.Errorf("move %s across filesystems: not a regular file (%s)", src, fi.Mode().Type())
	default:
		if err := copyAside(src, dst, metaOf(fi)); err != nil {
			return true, err
		}
	}
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return true, err
	}
	return true, os.Remove(src)
}

// copyAside is the slow path of every move across filesystems: src is copied (content,
// mode, owner, fsynced) under a partial name next to dst and renamed into place, so a copy
// cut short by a kill is never taken for a complete one (undo skips partialSuffix names).
func copyAside(src, dst string, meta fileMeta) error {
	tmp := dst + partialSuffix
	os.Remove(tmp) // a leftover of a killed run
	if err := copyFile(src, tmp, meta); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// linkOrCopy puts src at dst without ever replacing a file at dst (link(2) fails with
// EEXIST), copying across filesystems, then removes src.
func linkOrCopy(src, dst string) (copied bool, err error) {
	err = os.Link(src, dst)
	if err != nil && !isEXDEV(err) {
		return false, err
	}
	if err != nil {
		copied = true
		fi, serr := os.Lstat(src)
		if serr != nil {
			return true, serr
		}
		if err := copyFile(src, dst, metaOf(fi)); err != nil { // O_EXCL: never replaces
			return true, err
		}
	}
	return copied, os.Remove(src)
}

// movePath moves a file, link or directory tree (moveTree for a directory, else moveFile).
func movePath(src, dst string) (bool, error) {
	fi, err := os.Lstat(src)
	if err != nil {
		return false, err
	}
	if fi.IsDir() {
		return moveTree(src, dst)
	}
	return moveFile(src, dst)
}

// moveTree renames the directory src to dst (which must not exist); across filesystems it
// copies the tree (directories, regular files and symlinks with mode and owner), fsyncs
// the files and removes src.
func moveTree(src, dst string) (copied bool, err error) {
	err = os.Rename(src, dst)
	if err == nil || !isEXDEV(err) {
		return false, err
	}
	if err := copyTree(src, dst); err != nil {
		os.RemoveAll(dst)
		return true, err
	}
	return true, os.RemoveAll(src)
}

// copyTree copies the directory tree src to dst (created).
func copyTree(src, dst string) error {
	type dirMode struct {
		path string
		meta fileMeta
	}
	var dirs []dirMode
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		meta := metaOf(fi)
		switch {
		case d.IsDir():
			if err := os.Mkdir(to, 0o700); err != nil {
				return err
			}
			dirs = append(dirs, dirMode{to, meta})
		case fi.Mode().IsRegular():
			return copyFile(p, to, meta)
		case fi.Mode()&fs.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := os.Symlink(t, to); err != nil {
				return err
			}
			if meta.UID >= 0 {
				_ = os.Lchown(to, meta.UID, meta.GID)
			}
		default:
			return fmt.Errorf("copy %s: cannot copy a %s", p, fi.Mode().Type())
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Modes last, deepest first: a read-only directory must not stop its own copy.
	for i := len(dirs) - 1; i >= 0; i-- {
		d := dirs[i]
		if d.meta.UID >= 0 {
			if err := os.Lchown(d.path, d.meta.UID, d.meta.GID); err != nil && !errors.Is(err, fs.ErrPermission) {
				return err
			}
		}
		if err := os.Chmod(d.path, d.meta.Mode); err != nil {
			return err
		}
		if err := syncDir(d.path); err != nil {
			return err
		}
	}
	return nil
}
