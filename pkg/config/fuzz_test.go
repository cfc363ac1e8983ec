package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzConfigFile: any file content either loads or fails with one line naming the file;
// it never panics, and a file that loads gives every key a source.
func FuzzConfigFile(f *testing.F) {
	f.Add(string(Example(nil, false)))
	f.Add("synflood:\n  interval: 2s\n  backlog: 4096\nmailq:\n  stop_command: [svc, -d, /service/qmail-send]\n")
	f.Add("synflood:\n  interval: [\n")
	f.Add("Synflood: {Interval: 1m}\nsynflood: {}\n")
	f.Add("mailq:\n  warn_age: 30\n  crit_messages: 1e3\n")
	f.Add("a: &x 1\nb: *x\n")
	f.Add("- 1\n- 2\n")
	f.Add("")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data string) {
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		l, err := Load(Options{File: p, Getenv: func(string) string { return "" }})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config "+p) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error does not name the file on one line: %q", err)
			}
			return
		}
		for _, k := range l.Keys {
			if l.Sources[k].Kind == "" {
				t.Fatalf("%s has no source", k)
			}
		}
	})
}
