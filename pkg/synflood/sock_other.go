//go:build !linux

package synflood

import (
	"errors"
	"time"

	"github.com/hostfix/hostfix/pkg/system"
)

// errNotLinux: sock_diag and /dev/kmsg exist only on Linux. hostfix still builds elsewhere
// so a snapshot taken on a Linux host can be analysed with --root (the /proc parsers).
var errNotLinux = errors.New("sock_diag: only on Linux (use --root with a /proc snapshot)")

func dumpBoth(*system.Host, []int) (*collector, error) { return nil, errNotLinux }

// ReadKmsg is Linux-only.
func ReadKmsg(time.Time) ([]FloodMessage, error) {
	return nil, errors.New("/dev/kmsg: only on Linux (use --log FILE)")
}
