//go:build !unix

package exim

import (
	"context"
	"os"
)

// scanFile: no mmap here; the caller reads the file.
func (t *Tally) scanFile(context.Context, *os.File, int64) (bool, error) { return false, nil }
