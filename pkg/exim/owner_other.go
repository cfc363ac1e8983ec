//go:build !unix

package exim

import "io/fs"

// owner is unknown on systems without Unix ownership.
func owner(fs.FileInfo) (int, int) { return -1, -1 }
