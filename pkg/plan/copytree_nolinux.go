//go:build !linux

package plan

func renameNew(tmp, dst string) error { return renameChecked(tmp, dst) }

// canSyncFS: without syncfs every copy is fsynced on its own.
const canSyncFS = false

func syncFS(string) error { return nil }
