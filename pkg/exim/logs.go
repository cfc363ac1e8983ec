package exim

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// DefaultLogs are the main logs looked for when none is configured, in this order.
var DefaultLogs = []string{
	"/var/log/exim_mainlog",  // cPanel
	"/var/log/exim4/mainlog", // Debian, Ubuntu
	"/var/log/exim/main.log", // RHEL, Fedora (EPEL exim)
}

// Stdin names standard input in Config.Logs.
const Stdin = "-"

// LogFile is one log to read.
type LogFile struct {
	Path    string    `json:"path"` // system path, or "-"
	ModTime time.Time `json:"-"`
	Size    int64     `json:"size"`
	Rotated bool      `json:"rotated"`
}

// FindLogs returns the logs to read and the paths it tried. Configured paths are read
// exactly as given (a missing one is an error); detected logs bring their rotated
// siblings (NAME.1, NAME.2.gz, NAME-20261130, NAME-20261130.gz) modified at or after
// since (zero: all of them), newest first. No log at all is an error naming the paths.
func FindLogs(h *system.Host, configured []string, since time.Time) ([]LogFile, []string, error) {
	if len(configured) > 0 {
		var out []LogFile
		seen := map[string]bool{} // real paths (and "-"): a log named twice is read once
		for _, p := range configured {
			if p == Stdin {
				if !seen[Stdin] {
					seen[Stdin] = true
					out = append(out, LogFile{Path: Stdin})
				}
				continue
			}
			if strings.TrimSpace(p) == "" {
				return nil, configured, usage.Errorf("exim: an empty log path was given: give the Exim main log's path to --log (or - for stdin), or fix exim.logs")
			}
			fi, err := h.Stat(p)
			if err != nil {
				if system.IsNotExist(err) {
					return nil, configured, usage.Errorf("exim: log %s does not exist (fix --log or exim.logs)", usage.ClipPath(p))
				}
				// once the path as given, then why (not Go's "P: lstat /real/P: …")
				var pe *fs.PathError
				for errors.As(err, &pe) {
					err = pe.Err
				}
				if errors.Is(err, syscall.ENAMETOOLONG) {
					return nil, configured, usage.Errorf("exim: log %s: file name too long (fix --log or exim.logs)", usage.ClipPath(p))
				}
				return nil, configured, fmt.Errorf("exim: log %s: %w", usage.ClipPath(p), err)
			}
			if fi.IsDir() {
				return nil, configured, usage.Errorf("exim: log %s is a directory, not a file (fix --log or exim.logs)", usage.ClipPath(p))
			}
			if real, err := h.Resolve(p); err == nil {
				if seen[real] {
					continue
				}
				seen[real] = true
			}
			out = append(out, LogFile{Path: p, ModTime: fi.ModTime(), Size: fi.Size()})
		}
		return out, configured, nil
	}
	var out []LogFile
	seen := map[string]bool{}
	for _, base := range DefaultLogs {
		fi, err := h.Stat(base)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if real, err := h.Resolve(base); err == nil {
			if seen[real] {
				continue // one is a symlink to another: read it once
			}
			seen[real] = true
		}
		out = append(out, LogFile{Path: base, ModTime: fi.ModTime(), Size: fi.Size()})
		out = append(out, rotated(h, base, since)...)
	}
	if len(out) == 0 {
		return nil, DefaultLogs, &NoLogError{Tried: DefaultLogs}
	}
	return out, DefaultLogs, nil
}

// NoLogError is "no Exim main log found": auth-check reports it as UNKNOWN.
type NoLogError struct{ Tried []string }

func (e *NoLogError) Error() string {
	return "exim: no Exim main log found (tried " + strings.Join(e.Tried, ", ") + "): give its path with --log or set exim.logs"
}

// rotated lists base's rotated siblings modified at or after since, newest first: a
// rotated file's mtime is the time of its last line, so once one is older than since, it
// and every older one hold nothing in the window.
func rotated(h *system.Host, base string, since time.Time) []LogFile {
	var cands []LogFile
	for _, pat := range []string{base + ".*", base + "-*"} {
		m, err := h.Glob(pat)
		if err != nil {
			continue
		}
		for _, p := range m {
			if !rotatedName(strings.TrimPrefix(p, base)) {
				continue
			}
			fi, err := h.Stat(p)
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			cands = append(cands, LogFile{Path: p, ModTime: fi.ModTime(), Size: fi.Size(), Rotated: true})
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		if !cands[i].ModTime.Equal(cands[j].ModTime) {
			return cands[i].ModTime.After(cands[j].ModTime)
		}
		return cands[i].Path < cands[j].Path
	})
	var out []LogFile
	for _, c := range cands {
		if !since.IsZero() && c.ModTime.Before(since) {
			break
		}
		out = append(out, c)
	}
	return out
}

// rotatedName accepts the suffixes logrotate and exicyclog write: .N, -YYYYMMDD (and
// -YYYYMMDDHH…), each optionally .gz.
func rotatedName(suffix string) bool {
	suffix = strings.TrimSuffix(suffix, ".gz")
	if len(suffix) < 2 || (suffix[0] != '.' && suffix[0] != '-') {
		return false
	}
	for _, c := range suffix[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return suffix[0] == '.' || len(suffix) >= 9
}

// openLog opens a log for reading, decompressing gzip (recognised by its magic bytes,
// so a compressed file on stdin works too).
func openLog(h *system.Host, lf LogFile, stdin io.Reader) (io.Reader, func() error, error) {
	var r io.Reader
	closer := func() error { return nil }
	if lf.Path == Stdin {
		if stdin == nil {
			return nil, nil, usage.Errorf("exim: log - (stdin) given but there is no standard input")
		}
		r = stdin
	} else {
		f, err := h.Open(lf.Path)
		if err != nil {
			return nil, nil, fmt.Errorf("exim: open %s: %w", lf.Path, err)
		}
		r, closer = f, f.Close
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		z, err := gzip.NewReader(br)
		if err != nil {
			closer()
			return nil, nil, fmt.Errorf("exim: %s: %w", lf.Path, err)
		}
		return gzipLog{z, lf.Path}, func() error { z.Close(); return closer() }, nil
	}
	return br, closer, nil
}

// gzipLog words a damaged compressed stream: one cut short (io.ErrUnexpectedEOF, which
// Scan would otherwise take for the end of the log) or with a bad checksum.
type gzipLog struct {
	z    *gzip.Reader
	path string
}

func (g gzipLog) Read(p []byte) (int, error) {
	n, err := g.z.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("compressed log is damaged or cut short (%v): read it with zcat to see how far it goes", strings.TrimPrefix(err.Error(), "gzip: "))
	}
	return n, err
}

// scanPlain scans an uncompressed regular file in place (mmap) when it can; false means
// read it through openLog.
func scanPlain(ctx context.Context, h *system.Host, t *Tally, lf LogFile) (bool, error) {
	if lf.Path == Stdin {
		return false, nil
	}
	f, err := h.Open(lf.Path)
	if err != nil {
		return false, nil // openLog reports it
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return false, nil
	}
	var magic [2]byte
	if n, _ := f.ReadAt(magic[:], 0); n == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		return false, nil
	}
	return t.scanFile(ctx, f, fi.Size())
}
