package smtpport

import (
	"path"
	"strings"

	"github.com/hostfix/hostfix/pkg/system"
)

// MTA kinds.
const (
	MTAXinetd  = "xinetd-qmail"
	MTAPostfix = "postfix"
	MTAOther   = "other"
	MTANone    = "none"
)

// Server is what runs SMTP on this host.
type Server struct {
	// Kind is xinetd-qmail, postfix, other or none.
	Kind string `json:"kind"`
	// XinetdSource is smtp_psa when it exists; MasterCF is master.cf when Postfix is there.
	XinetdSource bool `json:"xinetd_source"`
	Postfix      bool `json:"postfix"`
	// Port25 is the process listening on port 25, when known ("xinetd[812]").
	Port25 string `json:"port25,omitempty"`
	// PleskVersion is the first line of /usr/local/psa/version, "" without Plesk.
	PleskVersion string `json:"plesk_version,omitempty"`
}

// DetectServer looks at the files and the port-25 listener.
func DetectServer(h *system.Host, cfg Config, socks []Listen) Server {
	s := Server{Kind: MTANone}
	s.XinetdSource = h.Exists(cfg.XinetdSource)
	s.Postfix = postfixPresent(h, cfg)
	if b, err := h.ReadFile("/usr/local/psa/version"); err == nil {
		s.PleskVersion = strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
	}
	var comm string
	for _, l := range socks {
		if l.Addr.Port() == 25 {
			s.Port25 = l.ProcessName()
			comm = l.Comm
			break
		}
	}
	switch {
	case comm == "xinetd" || (comm == "" && s.XinetdSource && !s.Postfix):
		if s.XinetdSource {
			s.Kind = MTAXinetd
		} else {
			s.Kind = MTAOther
		}
	case comm == "master" || (comm == "" && s.Postfix && !s.XinetdSource):
		s.Kind = MTAPostfix
	case comm != "":
		s.Kind = MTAOther
	case s.XinetdSource && s.Postfix:
		s.Kind = MTAOther // both configured, nothing on 25 tells which
	}
	return s
}

// postfixPresent: master.cf and the postfix program both exist (a master.cf left behind
// by a removed package does not make Postfix the MTA).
func postfixPresent(h *system.Host, cfg Config) bool {
	if !h.Exists(path.Join(cfg.PostfixDir, "master.cf")) {
		return false
	}
	for _, p := range []string{"/usr/sbin/postfix", "/usr/lib/postfix/sbin/master", "/usr/libexec/postfix/master"} {
		if h.Exists(p) {
			return true
		}
	}
	return false
}
