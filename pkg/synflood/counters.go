package synflood

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// Sample is one reading of the TcpExt counters, kept in --state-file between cron runs.
type Sample struct {
	Time time.Time `json:"time"`
	// NetNS and BootID tie the sample to one namespace and one boot: counters of another
	// are not comparable.
	NetNS    string            `json:"netns"`
	BootID   string            `json:"boot_id,omitempty"`
	Counters map[string]uint64 `json:"counters"`
}

// ReadCounters reads the TcpExt counters check uses from /proc/net/netstat.
func ReadCounters(h *system.Host) (*Sample, error) {
	data, err := h.ReadFile("/proc/net/netstat")
	if err != nil {
		return nil, fmt.Errorf("counters: %w", err)
	}
	all, err := ParseNetstat(data)
	if err != nil {
		return nil, fmt.Errorf("counters: parse /proc/net/netstat: %w", err)
	}
	s := &Sample{Time: h.Now(), NetNS: NetNS(h), Counters: map[string]uint64{}}
	if b, err := h.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil {
		s.BootID = trimNL(b)
	}
	tcp := all["TcpExt"]
	for _, n := range CounterNames {
		if v, ok := tcp[n]; ok {
			s.Counters[n] = v
		}
	}
	return s, nil
}

// Rate is a counter's total and its rate per second since the previous sample.
type Rate struct {
	Total uint64 `json:"total"`
	// Delta and PerSecond are set when a comparable earlier sample exists.
	Delta     *uint64  `json:"delta,omitempty"`
	PerSecond *float64 `json:"per_second,omitempty"`
}

// Rates compares two samples; prev may be nil (totals only). A previous sample of another
// namespace or boot, or a counter that went down, gives no rate for it.
func Rates(prev, cur *Sample) (map[string]Rate, float64) {
	out := map[string]Rate{}
	var secs float64
	ok := prev != nil && prev.NetNS == cur.NetNS && prev.BootID == cur.BootID
	if ok {
		secs = cur.Time.Sub(prev.Time).Seconds()
		ok = secs > 0
	}
	for n, v := range cur.Counters {
		r := Rate{Total: v}
		if ok {
			if p, found := prev.Counters[n]; found && v >= p {
				d := v - p
				ps := float64(d) / secs
				r.Delta, r.PerSecond = &d, &ps
			}
		}
		out[n] = r
	}
	if !ok {
		secs = 0
	}
	return out, secs
}

// LoadState reads the previous sample from a --state-file; a missing file is no sample.
func LoadState(path string) (*Sample, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		if mode, dir := isDir(path); dir {
			return nil, usage.Errorf("state file %s: is a directory (%s): want a file such as /var/lib/hostfix/synflood.json", path, mode)
		}
		return nil, fmt.Errorf("state file %s: %w", path, pathReason(err))
	}
	var s Sample
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("state file %s: %w (delete it; the next run starts afresh)", path, err)
	}
	return &s, nil
}

// SaveState writes the sample atomically. It is the check's own cache, not host
// configuration, so it is written directly rather than through a plan.
func SaveState(path string, s *Sample) error {
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	// Atomic, so a cron run never reads half a sample.
	if err := check.WriteFileAtomic(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("state file %s: %w", path, err)
	}
	return nil
}

// isDir reports whether a user-given path is a directory, with its mode for the message.
func isDir(path string) (fs.FileMode, bool) {
	fi, err := os.Stat(path)
	if err != nil || !fi.IsDir() {
		return 0, false
	}
	return fi.Mode(), true
}

// pathReason drops Go's "open PATH:" from a file error whose path the message names
// already, keeping the reason (and errors.Is on it).
func pathReason(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
