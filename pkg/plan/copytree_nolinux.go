//go:build !linux

package plan

import "os"

func renameNew(tmp, dst string) error { return renameChecked(tmp, dst) }

// canSyncFS: without syncfs every copy is fsynced on its own.
const canSyncFS = false

func syncFS(string) error { return nil }

// openUnnamed: only Linux has O_TMPFILE; copies use named temp files.
func openUnnamed(string) (*os.File, bool) { return nil, false }

func unnamedPath(f *os.File) string { return f.Name() }

func linkUnnamed(f *os.File, dst string) error { panic("plan: linkUnnamed without openUnnamed") }

func unnamedLimit() int64 { return 0 }
