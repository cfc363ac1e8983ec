package smtpport

import (
	"fmt"
	"net/netip"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/hostfix/hostfix/pkg/synflood"
	"github.com/hostfix/hostfix/pkg/system"
)

// Listen is one listening TCP socket and, when found, its process.
type Listen struct {
	Addr  netip.AddrPort
	Inode uint64
	PID   int
	Comm  string
}

// ProcessName is comm[pid], or "" when unknown.
func (l Listen) ProcessName() string {
	if l.PID == 0 {
		return ""
	}
	return fmt.Sprintf("%s[%d]", l.Comm, l.PID)
}

// String is address:port and the process, as a report line shows it.
func (l Listen) String() string {
	s := l.Addr.String()
	if l.Addr.Addr().IsUnspecified() {
		if l.Addr.Addr().Is4() {
			s = fmt.Sprintf("0.0.0.0:%d", l.Addr.Port())
		} else {
			s = fmt.Sprintf("[::]:%d", l.Addr.Port())
		}
	}
	if p := l.ProcessName(); p != "" {
		s += " " + p
	}
	return s
}

// Listeners reads the LISTEN sockets from /proc/net/tcp and /proc/net/tcp6 (of the live
// host or the --root tree) and names their processes from /proc/PID/fd.
func Listeners(h *system.Host) ([]Listen, error) {
	var out []Listen
	read := 0
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		fh, err := h.Open(f)
		if err != nil {
			if system.IsNotExist(err) {
				continue
			}
			return nil, err
		}
		read++
		err = synflood.ParseProcNetTCP(fh, nil, func(s *synflood.Socket) error {
			if s.State == synflood.StateListen {
				out = append(out, Listen{Addr: s.Local, Inode: s.Inode})
			}
			return nil
		})
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
	}
	if read == 0 {
		return nil, fmt.Errorf("/proc/net/tcp: %w", os.ErrNotExist)
	}
	owners(h, out)
	return out, nil
}

// ListenersOn returns the sockets listening on exactly that port.
func ListenersOn(ls []Listen, port int) []Listen {
	var out []Listen
	for _, l := range ls {
		if int(l.Addr.Port()) == port {
			out = append(out, l)
		}
	}
	return out
}

// owners fills PID and Comm by matching socket inodes with /proc/PID/fd links
// ("socket:[INODE]"). Processes that vanish or cannot be read are skipped.
func owners(h *system.Host, ls []Listen) {
	if len(ls) == 0 {
		return
	}
	want := map[uint64][]int{}
	for i, l := range ls {
		if l.Inode != 0 {
			want[l.Inode] = append(want[l.Inode], i)
		}
	}
	procs, err := h.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid <= 0 {
			continue
		}
		dir := path.Join("/proc", p.Name(), "fd")
		fds, err := h.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			target, err := h.Readlink(path.Join(dir, fd.Name()))
			if err != nil || !strings.HasPrefix(target, "socket:[") {
				continue
			}
			ino, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]"), 10, 64)
			if err != nil {
				continue
			}
			idx, ok := want[ino]
			if !ok {
				continue
			}
			comm := ""
			if b, err := h.ReadFile(path.Join("/proc", p.Name(), "comm")); err == nil {
				comm = strings.TrimSpace(string(b))
			}
			for _, i := range idx {
				if ls[i].PID == 0 {
					ls[i].PID, ls[i].Comm = pid, comm
				}
			}
			delete(want, ino)
			if len(want) == 0 {
				return
			}
		}
	}
}
