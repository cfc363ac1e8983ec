//go:build !unix

package plan

import (
	"errors"
	"io/fs"
	"os"
)

// hostfix changes Unix hosts; on other systems it builds (for --root work on fixtures) but
// cannot read owners or test flocks.

func ownerOf(fs.FileInfo) (int, int) { return -1, -1 }

func tryFlock(*os.File) (bool, error) { return false, errors.ErrUnsupported }
