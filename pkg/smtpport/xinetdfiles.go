package smtpport

import (
	"path"
	"sort"

	"github.com/hostfix/hostfix/pkg/system"
)

// XinetdFiles lists the files xinetd reads, in order: xinetd.conf, then what its include
// and includedir lines name (includedir: the names without a dot or trailing ~, sorted),
// recursively. The service directory (cfg.XinetdDir) is listed as well even when
// xinetd.conf is missing or does not include it, so check still reports what is there;
// included reports whether xinetd.conf reaches it.
func XinetdFiles(h *system.Host, cfg Config) (files []string, included bool) {
	seen := map[string]bool{}
	var visit func(f string, depth int)
	addDir := func(dir string, depth int) {
		ents, err := h.ReadDir(dir)
		if err != nil {
			return
		}
		names := make([]string, 0, len(ents))
		for _, de := range ents {
			if !de.IsDir() && XinetdIncluded(de.Name()) {
				names = append(names, de.Name())
			}
		}
		sort.Strings(names)
		for _, n := range names {
			visit(path.Join(dir, n), depth+1)
		}
	}
	visit = func(f string, depth int) {
		if seen[f] || depth > 8 {
			return
		}
		b, err := h.ReadFile(f)
		if err != nil {
			return
		}
		seen[f] = true
		files = append(files, f)
		xf, err := ParseXinetd(b)
		if err != nil {
			return
		}
		for _, inc := range xf.Includes {
			if inc.Dir {
				if path.Clean(inc.Path) == path.Clean(cfg.XinetdDir) {
					included = true
				}
				addDir(inc.Path, depth)
			} else {
				visit(inc.Path, depth+1)
			}
		}
	}
	if cfg.XinetdConf != "" {
		visit(cfg.XinetdConf, 0)
	}
	if !seen[cfg.XinetdConf] {
		included = true // no xinetd.conf to tell: assume the distribution default
	}
	addDir(cfg.XinetdDir, 0)
	return files, included
}
