package synflood

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// ReadKmsg reads the kernel ring buffer from /dev/kmsg without blocking (O_NONBLOCK: the
// read that would wait for new records returns EAGAIN and ends it) and returns the SYN flood
// warnings, with wall times from the boot time. It needs CAP_SYSLOG or
// kernel.dmesg_restrict=0; the error says so.
func ReadKmsg(now time.Time) ([]FloodMessage, error) {
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/kmsg: %w", err)
	}
	defer unix.Close(fd)
	var ts unix.Timespec
	boot := time.Time{}
	// printk stamps records with local_clock(), which tracks CLOCK_MONOTONIC.
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) == nil {
		boot = now.Add(-time.Duration(ts.Nano()))
	}
	var out []FloodMessage
	buf := make([]byte, 16<<10)
	for i := 0; i < 1<<20; i++ {
		n, err := unix.Read(fd, buf)
		switch {
		case errors.Is(err, unix.EAGAIN):
			return out, nil
		case errors.Is(err, unix.EPIPE):
			continue // records were overwritten while we read: go on with the next
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return out, fmt.Errorf("read /dev/kmsg: %w", err)
		case n == 0:
			return out, nil
		}
		if m, ok := ParseKernelLogLine(buf[:n], boot, now.Year()); ok {
			out = append(out, m)
		}
	}
	return out, nil
}
