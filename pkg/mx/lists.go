package mx

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// The MTAs whose local-domain lists hostfix reads and edits.
const (
	CPanel   = "cpanel"   // cPanel's Exim: /etc/localdomains, /etc/remotedomains, /etc/secondarymx
	Sendmail = "sendmail" // /etc/mail/local-host-names
	Postfix  = "postfix"  // mydestination, virtual_mailbox_domains in main.cf
	Exim4    = "exim4"    // Debian's exim4: dc_other_hostnames in update-exim4.conf.conf
)

// The files each MTA keeps its lists in.
const (
	LocalDomainsFile   = "/etc/localdomains"
	RemoteDomainsFile  = "/etc/remotedomains"
	SecondaryMXFile    = "/etc/secondarymx"
	CPanelUsersGlob    = "/var/cpanel/users/*"
	LocalHostNamesFile = "/etc/mail/local-host-names"
	Exim4ConfFile      = "/etc/exim4/update-exim4.conf.conf"
)

// Lists is an MTA's view of which domains are local (delivered here), remote (sent on by
// MX) and, on cPanel, secondary (this host is a backup MX).
type Lists struct {
	MTA string
	// Local maps a domain to where it is made local: a file, or "mydestination" etc.
	Local     map[string]string
	Remote    map[string]bool
	Secondary map[string]bool
	// MXCheck is cPanel's MXCHECK per domain (auto, local, secondary, remote) and the user
	// file it is in; a domain of no user file is absent.
	MXCheck map[string]MXCheck
	// All is every domain the lists name, in file order, for --all.
	All []string
	// Skipped are list entries that are not domain names (wildcards, junk), for a warning.
	Skipped []string
	// Hostname is this host's name as the MTA sees it (made local implicitly).
	Hostname string

	postfix *PostfixConf
}

// MXCheck is cPanel's per-domain mail routing setting.
type MXCheck struct {
	Value string // auto, local, secondary, remote
	File  string // /var/cpanel/users/<user>
}

// DetectMTA names the MTA whose configuration is on the host: mx.mta when set, else the one
// whose files are present. Two candidates are an error (say which with mx.mta).
func DetectMTA(h *system.Host, cfg Config) (string, error) {
	switch cfg.MTA {
	case CPanel, Sendmail, Postfix, Exim4:
		return cfg.MTA, nil
	case "":
	default:
		return "", usage.Errorf("mx.mta %q: want cpanel, sendmail, postfix or exim4 (or empty to detect)", cfg.MTA)
	}
	var found []string
	if h.Exists(LocalDomainsFile) || h.Exists("/usr/local/cpanel/cpanel") {
		found = append(found, CPanel)
	}
	if h.Exists(Exim4ConfFile) {
		found = append(found, Exim4)
	}
	if h.Exists(path.Join(cfg.PostfixConfigDir, "main.cf")) {
		found = append(found, Postfix)
	}
	if h.Exists(LocalHostNamesFile) || h.Exists("/etc/mail/sendmail.cf") {
		found = append(found, Sendmail)
	}
	switch len(found) {
	case 0:
		return "", usage.Errorf("no MTA configuration found (%s, %s, %s/main.cf or %s): set mx.mta (--mta) if the MTA keeps it elsewhere", LocalDomainsFile, Exim4ConfFile, cfg.PostfixConfigDir, LocalHostNamesFile)
	case 1:
		return found[0], nil
	}
	return "", usage.Errorf("configuration of several MTAs found (%s): say which one receives mail with mx.mta (--mta)", strings.Join(found, ", "))
}

// ReadLists detects the MTA and reads its local-domain lists.
func ReadLists(h *system.Host, cfg Config) (*Lists, error) {
	mta, err := DetectMTA(h, cfg)
	if err != nil {
		return nil, err
	}
	l := &Lists{MTA: mta, Local: map[string]string{}, Remote: map[string]bool{}, Secondary: map[string]bool{}, MXCheck: map[string]MXCheck{}}
	l.Hostname = readHostname(h)
	seen := map[string]bool{}
	add := func(names []string) {
		for _, n := range names {
			if !seen[n] {
				seen[n] = true
				l.All = append(l.All, n)
			}
		}
	}
	readList := func(file string, optional bool) ([]string, error) {
		data, err := h.ReadFile(file)
		if err != nil {
			if optional && errors.Is(err, fs.ErrNotExist) {
				return nil, nil
			}
			return nil, readError(h, file, err)
		}
		names, skipped := ParseList(data)
		for _, s := range skipped {
			l.Skipped = append(l.Skipped, file+": "+s)
		}
		return names, nil
	}
	switch mta {
	case CPanel:
		local, err := readList(LocalDomainsFile, true)
		if err != nil {
			return nil, err
		}
		for _, n := range local {
			l.Local[n] = LocalDomainsFile
		}
		remote, err := readList(RemoteDomainsFile, true)
		if err != nil {
			return nil, err
		}
		for _, n := range remote {
			l.Remote[n] = true
		}
		sec, err := readList(SecondaryMXFile, true)
		if err != nil {
			return nil, err
		}
		for _, n := range sec {
			l.Secondary[n] = true
		}
		add(local)
		add(remote)
		add(sec)
		if err := readMXChecks(h, l); err != nil {
			return nil, err
		}
	case Sendmail:
		local, err := readList(LocalHostNamesFile, true)
		if err != nil {
			return nil, err
		}
		for _, n := range local {
			l.Local[n] = LocalHostNamesFile
		}
		add(local)
		l.addHostname()
	case Exim4:
		data, err := h.ReadFile(Exim4ConfFile)
		if err != nil {
			return nil, readError(h, Exim4ConfFile, err)
		}
		c := ParseExim4Conf(data)
		names, skipped := splitExim4List(c.Values["dc_other_hostnames"])
		for _, s := range skipped {
			l.Skipped = append(l.Skipped, Exim4ConfFile+": "+s)
		}
		for _, n := range names {
			l.Local[n] = "dc_other_hostnames"
		}
		add(names)
		l.addHostname()
	case Postfix:
		file := path.Join(cfg.PostfixConfigDir, "main.cf")
		data, err := h.ReadFile(file)
		if err != nil {
			return nil, readError(h, file, err)
		}
		pc := ParsePostfixConf(data)
		pc.File = file
		pc.Hostname = l.Hostname
		l.postfix = pc
		for _, param := range []string{"mydestination", "virtual_mailbox_domains"} {
			names, skipped := pc.Domains(h, param)
			for _, s := range skipped {
				l.Skipped = append(l.Skipped, param+": "+s)
			}
			for _, n := range names {
				if _, ok := l.Local[n]; !ok {
					l.Local[n] = param
				}
			}
			add(names)
		}
	}
	return l, nil
}

func (l *Lists) addHostname() {
	if l.Hostname == "" {
		return
	}
	if _, ok := l.Local[l.Hostname]; !ok {
		l.Local[l.Hostname] = "primary hostname"
	}
}

// readHostname is the host's name from /etc/hostname (under --root: the tree's).
func readHostname(h *system.Host) string {
	data, err := h.ReadFile("/etc/hostname")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if n, err := NormalizeDomain(line); err == nil {
			return n
		}
		return ""
	}
	return ""
}

// ParseList reads a one-domain-per-line file (/etc/localdomains, local-host-names):
// blank lines and # comments ignored, names lower-cased and converted to their A-label.
// Lines that are not domain names are returned apart.
func ParseList(data []byte) (names, skipped []string) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	seen := map[string]bool{}
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		n, err := NormalizeDomain(line)
		if err != nil {
			skipped = append(skipped, line)
			continue
		}
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return names, skipped
}

// readMXChecks reads MXCHECK-<domain>=<value> from every cPanel user file.
func readMXChecks(h *system.Host, l *Lists) error {
	files, err := h.Glob(CPanelUsersGlob)
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		fi, err := h.Stat(f)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		data, err := h.ReadFile(f)
		if err != nil {
			return readError(h, f, err)
		}
		for d, v := range ParseCPanelUser(data) {
			l.MXCheck[d] = MXCheck{Value: v, File: f}
		}
	}
	return nil
}

// ParseCPanelUser returns the mail routing of each domain of a /var/cpanel/users/<user>
// file: MXCHECK-<domain>=<value> lines, and "auto" for a domain listed (DNS=, XDNS…=) with
// no MXCHECK line (absent means auto).
func ParseCPanelUser(data []byte) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(k, "MXCHECK-"):
			if d, err := NormalizeDomain(strings.TrimPrefix(k, "MXCHECK-")); err == nil {
				v = strings.ToLower(strings.TrimSpace(v))
				switch v {
				case "", "0":
					v = "auto"
				}
				out[d] = v
			}
		case k == "DNS" || strings.HasPrefix(k, "DNS") && strings.TrimLeft(k[3:], "0123456789") == "" || strings.HasPrefix(k, "XDNS"):
			if d, err := NormalizeDomain(v); err == nil {
				if _, ok := out[d]; !ok {
					out[d] = "auto"
				}
			}
		}
	}
	return out
}

// readError words a failed read of a system file: once its system path, without Go's
// "read /real/path/under/root:" and, for a directory, its mode (bad input: 2, 3 for a check).
func readError(h *system.Host, file string, err error) error {
	if fi, serr := h.Stat(file); serr == nil && fi.IsDir() {
		return usage.Errorf("read %s: is a directory (%s): want a file", file, fi.Mode())
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("read %s: %w", file, err)
}
