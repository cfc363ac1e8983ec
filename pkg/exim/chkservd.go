package exim

import (
	"bufio"
	"bytes"
	"context"
	"time"

	"github.com/hostfix/hostfix/pkg/system"
)

// Chkservd is what cPanel's service monitor log says about Exim in the window.
type Chkservd struct {
	Path     string `json:"path"`
	Found    bool   `json:"found"`
	Restarts int    `json:"exim_restarts"`
	Last     int64  `json:"-"`
}

// ReadChkservd counts Exim restarts in /var/log/chkservd.log since the given time.
//
// chkservd writes a bracketed timestamp line, `[2026-11-30 10:15:02 -0600] …`, at the
// start of each check round, then one line per service; a failed Exim check ends with
// "Restarting exim" (older builds: "exim … restarting"). A restart is counted once per
// line that names exim and restarting, dated by the last timestamp before it. The wording
// varies between cPanel versions: this is a heuristic, and docs/exim.md says so.
func ReadChkservd(ctx context.Context, h *system.Host, path string, since time.Time, loc *time.Location) (Chkservd, error) {
	c := Chkservd{Path: path}
	f, err := h.Open(path)
	if err != nil {
		if system.IsNotExist(err) {
			return c, nil
		}
		return c, err
	}
	defer f.Close()
	c.Found = true
	z := NewZone(loc)
	var cur int64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 0; sc.Scan(); n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return c, ctx.Err()
		}
		line := sc.Bytes()
		if len(line) > 20 && line[0] == '[' {
			if t := z.lineTime(line[1:]); t != 0 {
				cur = t
			}
		}
		if !containsFold(line, "restarting") || !containsFold(line, "exim") {
			continue
		}
		if !since.IsZero() && cur != 0 && cur < since.Unix() {
			continue
		}
		c.Restarts++
		c.Last = cur
	}
	return c, sc.Err()
}

func containsFold(s []byte, lower string) bool {
	return bytes.Contains(bytes.ToLower(s), []byte(lower))
}
