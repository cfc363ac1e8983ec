package plan

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/hostfix/hostfix/pkg/system"
)

// benchQueue creates n small files in 23 directories, like a qmail queue's split dirs.
func benchQueue(b *testing.B, root string, n int) []File {
	b.Helper()
	files := make([]File, n)
	for d := range 23 {
		os.MkdirAll(filepath.Join(root, "var/q/mess", fmt.Sprint(d)), 0o755)
	}
	for i := range n {
		p := fmt.Sprintf("/var/q/mess/%d/%d", i%23, i)
		if err := os.WriteFile(filepath.Join(root, p), []byte("x"), 0o600); err != nil {
			b.Fatal(err)
		}
		files[i] = File{Path: p, Size: 1}
	}
	return files
}

// BenchmarkRemoveFiles measures Apply of a 10,000-file removal (ns/op is per removal of
// all files; divide by 10,000 for the per-file cost). Compare with
// `find DIR -type f -delete` on the same tree (scripts/bench-mailq.sh does, end to end).
func BenchmarkRemoveFiles(b *testing.B) {
	for _, noBackup := range []bool{true, false} {
		b.Run(fmt.Sprintf("no-backup=%v", noBackup), func(b *testing.B) {
			const n = 10000
			for b.Loop() {
				b.StopTimer()
				root := b.TempDir()
				h, _ := system.NewHost(root, &system.Recorder{})
				files := benchQueue(b, root, n)
				a, err := RemoveFiles(h, files, RemoveOptions{Within: "/var/q"})
				if err != nil {
					b.Fatal(err)
				}
				p := New("bench")
				p.Add(a)
				b.StartTimer()
				if _, err := Apply(context.Background(), p, Options{Host: h, NoBackup: noBackup}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFindDelete is the reference for BenchmarkRemoveFiles: `find DIR -type f -delete`
// on the same 10,000-file tree, in the same run (process start included, ~1 ms).
func BenchmarkFindDelete(b *testing.B) {
	find, err := exec.LookPath("find")
	if err != nil {
		b.Skip("no find")
	}
	for b.Loop() {
		b.StopTimer()
		root := b.TempDir()
		benchQueue(b, root, 10000)
		b.StartTimer()
		if out, err := exec.Command(find, filepath.Join(root, "var/q"), "-type", "f", "-delete").CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	}
}
