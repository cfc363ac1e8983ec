//go:build !linux

package plan

func renameNew(tmp, dst string) error { return renameChecked(tmp, dst) }
