package smtpport

import (
	"context"
	"encoding/hex"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/hostfix/hostfix/pkg/system"
)

// Firewall tool names.
const (
	FwFirewalld = "firewalld"
	FwUfw       = "ufw"
	FwNftables  = "nftables"
	FwIptables  = "iptables"
	FwAPF       = "apf"
	FwCSF       = "csf"
)

// Allowed states.
const (
	AllowYes     = "yes"
	AllowNo      = "no"
	AllowUnknown = "unknown"
)

// Firewall is one firewall found on the host and its verdict for the port.
type Firewall struct {
	Name    string `json:"name"`
	Allowed string `json:"allowed"` // yes, no, unknown
	// Source is where the verdict comes from (file and setting, or command).
	Source string `json:"source"`
	Detail string `json:"detail,omitempty"`
	// ByHostfix: the rule allowing the port was added by hostfix smtpport add.
	ByHostfix bool `json:"by_hostfix,omitempty"`
}

// ufwComment is the comment hostfix gives the ufw rule it adds; ufw stores it hex-encoded.
const ufwComment = "hostfix smtpport"

// csfAPFMarker is the comment line add writes above the CSF/APF setting it extends.
func csfAPFMarker(port int) string {
	return fmt.Sprintf("# hostfix smtpport add: opened port %d in the next line", port)
}

// DetectFirewalls finds the firewalls configured on the host and says whether each
// allows TCP port. The front ends (CSF, APF, ufw, firewalld) are read from their own
// configuration; raw nftables/iptables rules are only looked at when none of them is
// present (the front ends generate those rules).
func DetectFirewalls(ctx context.Context, h *system.Host, cfg Config, port int) []Firewall {
	var out []Firewall
	if fw, ok := csfFirewall(h, port); ok {
		out = append(out, fw)
	}
	if fw, ok := apfFirewall(h, port); ok {
		out = append(out, fw)
	}
	if fw, ok := ufwFirewall(h, port); ok {
		out = append(out, fw)
	}
	if fw, ok := firewalldFirewall(h, port); ok {
		out = append(out, fw)
	}
	if len(out) > 0 {
		return out
	}
	if fw, ok := nftFirewall(ctx, h, cfg, port); ok {
		out = append(out, fw)
	}
	if fw, ok := iptablesFirewall(ctx, h, cfg, port); ok {
		out = append(out, fw)
	}
	return out
}

// shellVars reads KEY = "value" / KEY="value" settings (csf.conf, conf.apf, ufw.conf).
func shellVars(data []byte) map[string]shellVar {
	out := map[string]shellVar{}
	for i, l := range splitLines(data) {
		t := strings.TrimSpace(l)
		if t == "" || t[0] == '#' {
			continue
		}
		eq := strings.IndexByte(t, '=')
		if eq <= 0 {
			continue
		}
		k := strings.TrimSpace(t[:eq])
		v := strings.TrimSpace(t[eq+1:])
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') {
			if j := strings.IndexByte(v[1:], v[0]); j >= 0 {
				v = v[1 : 1+j]
			}
		} else if j := strings.IndexByte(v, '#'); j >= 0 {
			v = strings.TrimSpace(v[:j])
		}
		out[k] = shellVar{Value: v, Line: i + 1}
	}
	return out
}

type shellVar struct {
	Value string
	Line  int
}

// portListHas reports whether a comma-separated port list holds port; rangeSep is the
// range separator (":" for CSF, "_" for APF, "-" for firewalld, ":" for iptables).
func portListHas(list string, port int, rangeSep string) bool {
	for _, item := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		lo, hi, ok := strings.Cut(item, rangeSep)
		a, err := strconv.Atoi(strings.TrimSpace(lo))
		if err != nil {
			continue
		}
		b := a
		if ok {
			if b, err = strconv.Atoi(strings.TrimSpace(hi)); err != nil {
				continue
			}
		}
		if a <= port && port <= b {
			return true
		}
	}
	return false
}

const (
	csfConf = "/etc/csf/csf.conf"
	apfConf = "/etc/apf/conf.apf"
)

func csfFirewall(h *system.Host, port int) (Firewall, bool) {
	return listFirewall(h, FwCSF, csfConf, "TCP_IN", ":", port)
}

func apfFirewall(h *system.Host, port int) (Firewall, bool) {
	return listFirewall(h, FwAPF, apfConf, "IG_TCP_CPORTS", "_", port)
}

func listFirewall(h *system.Host, name, file, key, sep string, port int) (Firewall, bool) {
	b, err := h.ReadFile(file)
	if err != nil {
		return Firewall{}, false
	}
	fw := Firewall{Name: name, Allowed: AllowNo, Source: file + ": " + key}
	v, ok := shellVars(b)[key]
	if !ok {
		fw.Allowed, fw.Detail = AllowUnknown, key+" not set"
		return fw, true
	}
	fw.Source = fmt.Sprintf("%s:%d %s", file, v.Line, key)
	if portListHas(v.Value, port, sep) {
		fw.Allowed = AllowYes
	}
	fw.ByHostfix = strings.Contains(string(b), csfAPFMarker(port))
	return fw, true
}

// ufw: enabled in /etc/ufw/ufw.conf; rules in /etc/ufw/user.rules as "### tuple ###" lines;
// the default input policy in /etc/default/ufw.
func ufwFirewall(h *system.Host, port int) (Firewall, bool) {
	b, err := h.ReadFile("/etc/ufw/ufw.conf")
	if err != nil {
		return Firewall{}, false
	}
	if !strings.EqualFold(shellVars(b)["ENABLED"].Value, "yes") {
		return Firewall{}, false
	}
	fw := Firewall{Name: FwUfw, Allowed: AllowNo, Source: "/etc/ufw/user.rules"}
	if d, err := h.ReadFile("/etc/default/ufw"); err == nil {
		if strings.EqualFold(shellVars(d)["DEFAULT_INPUT_POLICY"].Value, "ACCEPT") {
			fw.Allowed, fw.Source = AllowYes, "/etc/default/ufw DEFAULT_INPUT_POLICY=ACCEPT"
		}
	}
	for _, f := range []string{"/etc/ufw/user.rules", "/etc/ufw/user6.rules"} {
		rb, err := h.ReadFile(f)
		if err != nil {
			continue
		}
		for _, t := range ufwTuples(rb) {
			if t.Action == "allow" && t.Direction == "in" && (t.Proto == "tcp" || t.Proto == "any") && portListHas(t.Ports, port, ":") {
				fw.Allowed, fw.Source = AllowYes, f
				if t.Comment == ufwComment {
					fw.ByHostfix = true
				}
			}
		}
	}
	return fw, true
}

type ufwTuple struct {
	Action, Proto, Ports, Direction, Comment string
}

// ufwTuples reads "### tuple ### allow tcp 26 0.0.0.0/0 any 0.0.0.0/0 in comment=HEX".
func ufwTuples(data []byte) []ufwTuple {
	var out []ufwTuple
	for _, l := range splitLines(data) {
		rest, ok := strings.CutPrefix(strings.TrimSpace(l), "### tuple ###")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 6 {
			continue
		}
		t := ufwTuple{Action: f[0], Proto: f[1], Ports: f[2], Direction: "in"}
		for _, x := range f[6:] {
			switch {
			case x == "in" || x == "out" || x == "fwd":
				t.Direction = x
			case strings.HasPrefix(x, "comment="):
				if c, err := hex.DecodeString(strings.TrimPrefix(x, "comment=")); err == nil {
					t.Comment = string(c)
				}
			}
		}
		// "allow_in"/"limit" spellings of newer ufw
		t.Action = strings.TrimSuffix(strings.TrimSuffix(t.Action, "_in"), "_out")
		if t.Action == "limit" {
			t.Action = "allow"
		}
		out = append(out, t)
	}
	return out
}

var (
	fwZoneRe    = regexp.MustCompile(`(?m)^\s*DefaultZone\s*=\s*(\S+)`)
	fwPortRe    = regexp.MustCompile(`<port\s[^>]*>`)
	fwServiceRe = regexp.MustCompile(`<service\s+name="([^"]+)"`)
	fwAttrRe    = regexp.MustCompile(`(\w+)="([^"]*)"`)
)

// firewalld: the default zone's XML (/etc/firewalld/zones over /usr/lib/firewalld/zones),
// its <port> elements and the ports of its <service> elements.
func firewalldFirewall(h *system.Host, port int) (Firewall, bool) {
	conf, err := h.ReadFile("/etc/firewalld/firewalld.conf")
	if err != nil {
		return Firewall{}, false
	}
	zone := "public"
	if m := fwZoneRe.FindSubmatch(conf); m != nil {
		zone = string(m[1])
	}
	fw := Firewall{Name: FwFirewalld, Allowed: AllowUnknown, Detail: "zone " + zone}
	var zb []byte
	for _, d := range []string{"/etc/firewalld/zones", "/usr/lib/firewalld/zones"} {
		if b, err := h.ReadFile(path.Join(d, zone+".xml")); err == nil {
			zb, fw.Source = b, path.Join(d, zone+".xml")
			break
		}
	}
	if zb == nil {
		fw.Source = "/etc/firewalld/firewalld.conf"
		fw.Detail = "zone file for " + zone + " not found"
		return fw, true
	}
	fw.Allowed = AllowNo
	if strings.Contains(string(zb), `target="ACCEPT"`) {
		fw.Allowed = AllowYes
		return fw, true
	}
	if fwXMLPortsHas(zb, port) {
		fw.Allowed = AllowYes
		return fw, true
	}
	for _, m := range fwServiceRe.FindAllSubmatch(zb, -1) {
		svc := string(m[1])
		for _, d := range []string{"/etc/firewalld/services", "/usr/lib/firewalld/services"} {
			if b, err := h.ReadFile(path.Join(d, svc+".xml")); err == nil {
				if fwXMLPortsHas(b, port) {
					fw.Allowed, fw.Detail = AllowYes, fw.Detail+", service "+svc
					return fw, true
				}
				break
			}
		}
	}
	return fw, true
}

func fwXMLPortsHas(b []byte, port int) bool {
	for _, el := range fwPortRe.FindAll(b, -1) {
		attrs := map[string]string{}
		for _, a := range fwAttrRe.FindAllSubmatch(el, -1) {
			attrs[string(a[1])] = string(a[2])
		}
		if attrs["protocol"] == "tcp" && portListHas(attrs["port"], port, "-") {
			return true
		}
	}
	return false
}

// nftables: the live ruleset (nft list ruleset) or, under --root, /etc/nftables.conf. The
// verdict is a reading of the input-hook chains: accept policy, or a "tcp dport" rule
// naming the port with accept, before a drop policy. Anything cleverer (jumps, maps, sets
// by name) makes it "unknown" rather than a guess.
func nftFirewall(ctx context.Context, h *system.Host, cfg Config, port int) (Firewall, bool) {
	text, src, ok := liveOrFile(ctx, h, pick(keyNft, cfg.NftCommand, func() []string {
		if h.Exists("/usr/sbin/nft") {
			return []string{"/usr/sbin/nft", "list", "ruleset"}
		}
		return nil
	}), "/etc/nftables.conf")
	if !ok {
		return Firewall{}, false
	}
	fw := Firewall{Name: FwNftables, Source: src}
	fw.Allowed, fw.Detail = NftAllows(text, port)
	if fw.Allowed == "" {
		return Firewall{}, false
	}
	return fw, true
}

// liveOrFile runs the reading command on a live host, else reads the saved file.
func liveOrFile(ctx context.Context, h *system.Host, a argv, file string) (string, string, bool) {
	if h.Live() && len(a.Args) > 0 {
		res, err := h.Runner.Run(ctx, system.Cmd{Argv: a.Args})
		if err == nil {
			return string(res.Stdout), system.FormatArgv(a.Args), true
		}
	}
	b, err := h.ReadFile(file)
	if err != nil {
		return "", "", false
	}
	return string(b), file, true
}

var nftPortsRe = regexp.MustCompile(`tcp dport (\{[^}]*\}|\S+)`)

// NftAllows reads an nft ruleset text: "" when it has no input-hook chain (no firewall).
func NftAllows(text string, port int) (allowed, detail string) {
	lines := strings.Split(text, "\n")
	inInput, found := false, false
	policyDrop := false
	accepted := false
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "chain ") {
			inInput = false
		}
		if strings.Contains(t, "hook input") {
			inInput, found = true, true
			if strings.Contains(t, "policy drop") || strings.Contains(t, "policy reject") {
				policyDrop = true
			}
			continue
		}
		if !inInput {
			continue
		}
		if strings.HasPrefix(t, "policy drop") {
			policyDrop = true
		}
		if m := nftPortsRe.FindStringSubmatch(t); m != nil && strings.Contains(t, "accept") {
			set := strings.Trim(m[1], "{} ")
			if portListHas(set, port, "-") {
				accepted = true
			}
		}
		if !accepted && (t == "drop" || t == "reject" || strings.HasPrefix(t, "reject with")) {
			policyDrop = true
		}
	}
	switch {
	case !found:
		return "", ""
	case accepted:
		return AllowYes, "a tcp dport rule accepts it"
	case policyDrop:
		return AllowNo, "input chain drops it (no tcp dport rule accepts it)"
	}
	return AllowYes, "input policy accept"
}

// iptables: iptables-save output (live) or /etc/iptables/rules.v4, /etc/sysconfig/iptables.
func iptablesFirewall(ctx context.Context, h *system.Host, cfg Config, port int) (Firewall, bool) {
	a := pick(keyIptablesSave, cfg.IptablesSaveCommand, func() []string {
		for _, p := range []string{"/usr/sbin/iptables-save", "/sbin/iptables-save"} {
			if h.Exists(p) {
				return []string{p}
			}
		}
		return nil
	})
	file := "/etc/iptables/rules.v4"
	if !h.Exists(file) {
		file = "/etc/sysconfig/iptables"
	}
	text, src, ok := liveOrFile(ctx, h, a, file)
	if !ok {
		return Firewall{}, false
	}
	allowed, detail := IptablesAllows(text, port)
	if allowed == "" {
		return Firewall{}, false
	}
	return Firewall{Name: FwIptables, Allowed: allowed, Source: src, Detail: detail}, true
}

// IptablesAllows reads iptables-save text for the filter table's INPUT chain, in order:
// the first rule that accepts the TCP port or drops/rejects everything decides; else the
// chain policy. "" when there is no filter table (no firewall).
func IptablesAllows(text string, port int) (allowed, detail string) {
	inFilter, found := false, false
	policy := "ACCEPT"
	for _, l := range strings.Split(text, "\n") {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "*"):
			inFilter = t == "*filter"
			continue
		case !inFilter:
			continue
		case strings.HasPrefix(t, ":INPUT "):
			found = true
			policy = strings.Fields(t)[1]
			continue
		case !strings.HasPrefix(t, "-A INPUT "):
			continue
		}
		found = true
		f := strings.Fields(t)
		target, proto, dports, other := "", "", "", false
		for i := 2; i < len(f); i++ {
			switch f[i] {
			case "-j":
				if i+1 < len(f) {
					target = f[i+1]
				}
				i = len(f) // the rest are the target's options (--reject-with …)
			case "-p":
				if i+1 < len(f) {
					proto = f[i+1]
					i++
				}
			case "--dport", "--dports", "--destination-port", "--destination-ports":
				if i+1 < len(f) {
					dports = f[i+1]
					i++
				}
			case "-m":
				i++
			default:
				if strings.HasPrefix(f[i], "-") && f[i] != "--tcp-flags" {
					other = true
				}
			}
		}
		switch {
		case target == "ACCEPT" && (proto == "tcp" || proto == "6") && dports != "" && portListHas(dports, port, ":"):
			if other {
				return AllowYes, "accepted by: " + t + " (with conditions)"
			}
			return AllowYes, "accepted by: " + t
		case (target == "DROP" || target == "REJECT") && proto == "" && dports == "" && !other:
			return AllowNo, "dropped by: " + t
		}
	}
	if !found {
		return "", ""
	}
	if policy == "ACCEPT" {
		return AllowYes, "INPUT policy ACCEPT"
	}
	return AllowNo, "INPUT policy " + policy + " and no rule accepts it"
}
