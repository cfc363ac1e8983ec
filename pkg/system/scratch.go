package system

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Scratch writes files into a new private temp directory (never under --root, never on
// the host's configuration) for a validator that needs them under fixed names, such as
// `postconf -c DIR -M` reading DIR/main.cf and DIR/master.cf. Every file is dated a minute
// back (Postfix waits for a configuration file younger than a second). The returned
// cleanup removes the directory; call it when the validator is done.
func Scratch(prefix string, files map[string][]byte) (dir string, cleanup func(), err error) {
	dir, err = os.MkdirTemp("", prefix)
	if err != nil {
		return "", nil, fmt.Errorf("scratch directory: %w", err)
	}
	cleanup = func() { _ = os.RemoveAll(dir) }
	past := time.Now().Add(-time.Minute)
	for name, data := range files {
		p := filepath.Join(dir, filepath.Base(name))
		if err := os.WriteFile(p, data, 0o600); err != nil {
			cleanup()
			return "", nil, fmt.Errorf("scratch file %s: %w", name, err)
		}
		if err := os.Chtimes(p, past, past); err != nil {
			cleanup()
			return "", nil, fmt.Errorf("scratch file %s: %w", name, err)
		}
	}
	return dir, cleanup, nil
}
