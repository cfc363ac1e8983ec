package mailq

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// Queue is a validated qmail queue directory.
type Queue struct {
	// Dir is the queue as a system path (/var/qmail/queue).
	Dir string
	// Split is conf-split: the number of hashed subdirectories of mess/, info/, local/ and
	// remote/, detected from disk.
	Split int
	// BigTodo is set when todo/ (and intd/) are split too (big-todo / ext-todo patches).
	BigTodo bool
	// IntdSplit is set when intd/ is split (it follows todo/ on patched hosts).
	IntdSplit bool

	host *system.Host
	root string // Dir resolved under --root
}

// queueDirs are the directories qmail-send and qmail-queue need; a directory missing any of
// them is not a queue hostfix may change.
var queueDirs = []string{"mess", "info", "local", "remote", "todo", "intd", "bounce", "lock", "pid"}

// splitDirs are hashed by id mod split.
var splitDirs = []string{"mess", "info", "local", "remote"}

// Open validates dir (a system path) as a qmail queue and detects its layout. Anything that
// is not a queue is a usage error naming what is missing.
func Open(h *system.Host, dir string) (*Queue, error) {
	if dir == "" {
		return nil, usage.Errorf("mailq: no queue directory: set mailq.queue or pass --queue DIR")
	}
	// The queue directory is resolved inside --root once (a /var/qmail link in the tree
	// must not lead to the real host's queue); below it nothing follows a link.
	root, err := h.RealPath(dir)
	if err != nil {
		return nil, usage.Errorf("queue %s: %w", dir, err)
	}
	q := &Queue{Dir: dir, host: h, root: root}
	fi, err := os.Stat(q.root)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, usage.Errorf("queue %s: no such directory (set mailq.queue or --queue to the qmail queue, usually /var/qmail/queue)", dir)
	case err != nil:
		return nil, usage.Errorf("queue %s: %w", dir, err)
	case !fi.IsDir():
		return nil, usage.Errorf("queue %s: not a directory (set mailq.queue or --queue to the qmail queue directory)", dir)
	}
	var missing []string
	for _, d := range queueDirs {
		fi, err := os.Lstat(q.root + "/" + d)
		if err != nil || !fi.IsDir() {
			missing = append(missing, d+"/")
		}
	}
	if len(missing) > 0 {
		return nil, usage.Errorf("queue %s is not a qmail queue: missing %s (point mailq.queue or --queue at the directory holding mess/, info/, local/, remote/, todo/ …)",
			dir, strings.Join(missing, ", "))
	}
	counts := map[string]int{}
	for _, d := range splitDirs {
		n, err := q.countSplit(d)
		if err != nil {
			return nil, err
		}
		counts[d] = n
	}
	q.Split = counts["mess"]
	if q.Split == 0 {
		return nil, usage.Errorf("queue %s is not a qmail queue: mess/ has no numbered subdirectories 0, 1, …", dir)
	}
	for _, d := range splitDirs[1:] {
		if counts[d] != q.Split {
			return nil, usage.Errorf("queue %s: inconsistent layout: mess/ has %d split subdirectories but %s/ has %d (repair the queue, e.g. with queue-repair, before using hostfix)",
				dir, q.Split, d, counts[d])
		}
	}
	q.BigTodo = q.isDir("todo/0")
	q.IntdSplit = q.isDir("intd/0")
	if q.BigTodo {
		if n, err := q.countSplit("todo"); err != nil || n != q.Split {
			return nil, usage.Errorf("queue %s: inconsistent layout: todo/ is split (big-todo) but has %d subdirectories, mess/ has %d", dir, n, q.Split)
		}
	}
	if q.IntdSplit {
		if n, err := q.countSplit("intd"); err != nil || n != q.Split {
			return nil, usage.Errorf("queue %s: inconsistent layout: intd/ is split but has %d subdirectories, mess/ has %d", dir, n, q.Split)
		}
	}
	return q, nil
}

func (q *Queue) isDir(rel string) bool {
	fi, err := os.Lstat(q.root + "/" + rel)
	return err == nil && fi.IsDir()
}

// countSplit counts the numeric subdirectories of d and checks they are 0..n-1.
func (q *Queue) countSplit(d string) (int, error) {
	ents, err := os.ReadDir(q.root + "/" + d)
	if err != nil {
		return 0, usage.Errorf("queue %s: read %s/: %w", q.Dir, d, err)
	}
	var nums []int
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		n, err := strconv.Atoi(e.Name())
		if err != nil || n < 0 || strconv.Itoa(n) != e.Name() {
			continue
		}
		nums = append(nums, n)
	}
	sort.Ints(nums)
	for i, n := range nums {
		if n != i {
			return 0, usage.Errorf("queue %s: %s/ split subdirectories are not 0..%d (missing %d)", q.Dir, d, len(nums)-1, i)
		}
	}
	return len(nums), nil
}

// Path is the system path of a file given relative to the queue ("mess/3/1234").
func (q *Queue) Path(rel string) string { return q.Dir + "/" + rel }

// String describes the layout for notes and stats.
func (q *Queue) String() string {
	s := fmt.Sprintf("%s (split %d", q.Dir, q.Split)
	if q.BigTodo {
		s += ", big-todo"
	}
	return s + ")"
}
