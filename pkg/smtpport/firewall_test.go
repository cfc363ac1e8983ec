package smtpport

import (
	"context"
	"strings"
	"testing"
)

const csfSample = `###############################################################################
# SECTION:IPv4 Port Settings
###############################################################################
# Allow incoming TCP ports
TCP_IN = "20,21,22,25,53,80,110,143,443,465,587,993,995,30000:35000"

# Allow outgoing TCP ports
TCP_OUT = "20,21,22,25,53,80,110,113,443"

# Allow incoming IPv6 TCP ports
TCP6_IN = "20,21,22,25,53,80,110,143,443,465,587,993,995"
`

const apfSample = `# Common ingress (inbound) TCP ports
IG_TCP_CPORTS="21,22,25,53,80,110,143,443,465,993,995,30000_35000"

# Common ingress (inbound) UDP ports
IG_UDP_CPORTS="53"
`

func TestFirewallVerdicts(t *testing.T) {
	ctx := context.Background()
	cfg := cfgWith(nil)
	tests := []struct {
		name  string
		files map[string]string
		port  int
		fw    string
		allow string
	}{
		{"csf blocks", map[string]string{csfConf: csfSample}, 26, FwCSF, AllowNo},
		{"csf allows", map[string]string{csfConf: csfSample}, 587, FwCSF, AllowYes},
		{"csf range", map[string]string{csfConf: csfSample}, 31000, FwCSF, AllowYes},
		{"apf blocks", map[string]string{apfConf: apfSample}, 26, FwAPF, AllowNo},
		{"apf range", map[string]string{apfConf: apfSample}, 30001, FwAPF, AllowYes},
		{"ufw blocks", map[string]string{"/etc/ufw/ufw.conf": "ENABLED=yes\n", "/etc/default/ufw": "DEFAULT_INPUT_POLICY=\"DROP\"\n",
			"/etc/ufw/user.rules": "### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp --dport 22 -j ACCEPT\n"}, 26, FwUfw, AllowNo},
		{"ufw allows", map[string]string{"/etc/ufw/ufw.conf": "ENABLED=yes\n",
			"/etc/ufw/user.rules": "### tuple ### allow tcp 26 0.0.0.0/0 any 0.0.0.0/0 in comment=686f737466697820736d7470706f7274\n"}, 26, FwUfw, AllowYes},
		{"ufw disabled", map[string]string{"/etc/ufw/ufw.conf": "ENABLED=no\n"}, 26, "", ""},
		{"firewalld blocks", map[string]string{"/etc/firewalld/firewalld.conf": "DefaultZone=public\n",
			"/usr/lib/firewalld/zones/public.xml":  `<?xml version="1.0" encoding="utf-8"?><zone><short>Public</short><service name="ssh"/><service name="smtp"/></zone>`,
			"/usr/lib/firewalld/services/smtp.xml": `<service><port protocol="tcp" port="25"/></service>`}, 26, FwFirewalld, AllowNo},
		{"firewalld port", map[string]string{"/etc/firewalld/firewalld.conf": "DefaultZone=public\n",
			"/etc/firewalld/zones/public.xml": `<zone><port port="20-30" protocol="tcp"/></zone>`}, 26, FwFirewalld, AllowYes},
		{"firewalld service", map[string]string{"/etc/firewalld/firewalld.conf": "DefaultZone=public\n",
			"/etc/firewalld/zones/public.xml":      `<zone><service name="smtp"/></zone>`,
			"/usr/lib/firewalld/services/smtp.xml": `<service><port protocol="tcp" port="25"/></service>`}, 25, FwFirewalld, AllowYes},
		{"nft drop", map[string]string{"/etc/nftables.conf": "table inet filter {\n chain input {\n  type filter hook input priority 0; policy drop;\n  tcp dport { 22, 25 } accept\n }\n}\n"}, 26, FwNftables, AllowNo},
		{"nft accept set", map[string]string{"/etc/nftables.conf": "table inet filter {\n chain input {\n  type filter hook input priority 0; policy drop;\n  tcp dport { 22, 25, 26 } accept\n }\n}\n"}, 26, FwNftables, AllowYes},
		{"nft Debian default accepts", map[string]string{"/etc/nftables.conf": "#!/usr/sbin/nft -f\nflush ruleset\ntable inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter;\n\t}\n}\n"}, 26, FwNftables, AllowYes},
		{"iptables policy drop", map[string]string{"/etc/iptables/rules.v4": "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n"}, 26, FwIptables, AllowNo},
		{"iptables multiport", map[string]string{"/etc/iptables/rules.v4": "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp -m multiport --dports 25,26 -j ACCEPT\nCOMMIT\n"}, 26, FwIptables, AllowYes},
		{"iptables reject all", map[string]string{"/etc/iptables/rules.v4": "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\n-A INPUT -j REJECT --reject-with icmp-host-prohibited\n-A INPUT -p tcp --dport 26 -j ACCEPT\nCOMMIT\n"}, 26, FwIptables, AllowNo},
		{"no firewall", map[string]string{}, 26, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fws := DetectFirewalls(ctx, fixture(t, tt.files), cfg, tt.port)
			if tt.fw == "" {
				if len(fws) != 0 {
					t.Fatalf("found %+v", fws)
				}
				return
			}
			if len(fws) != 1 || fws[0].Name != tt.fw || fws[0].Allowed != tt.allow {
				t.Fatalf("got %+v, want %s %s", fws, tt.fw, tt.allow)
			}
		})
	}
}

func TestOpenFirewallCSFAndAPF(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name, file, content, reload string
		want                        []string
	}{
		{"csf", csfConf, csfSample, "/usr/sbin/csf -r", []string{`TCP_IN = "20,21,22,25,53,80,110,143,443,465,587,993,995,30000:35000,26"`, `TCP6_IN = "20,21,22,25,53,80,110,143,443,465,587,993,995,26"`, `TCP_OUT = "20,21,22,25,53,80,110,113,443"`}},
		{"apf", apfConf, apfSample, "/usr/local/sbin/apf -r", []string{`IG_TCP_CPORTS="21,22,25,53,80,110,143,443,465,993,995,30000_35000,26"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := qmailHost(t, map[string]string{tt.file: tt.content, strings.Fields(tt.reload)[0]: ""})
			cfg := cfgWith(func(c *Config) { c.CsfReloadCommand, c.ApfReloadCommand = nil, nil })
			p, err := PlanAdd(ctx, h, AddOptions{Config: cfg, OpenFirewall: true})
			if err != nil {
				t.Fatal(err)
			}
			var reload bool
			for _, hd := range p.Handlers {
				if strings.Join(hd.Command.Args, " ") == tt.reload && hd.Command.Detected {
					reload = true
				}
			}
			if !reload {
				t.Fatalf("no detected %s handler: %+v", tt.reload, p.Handlers)
			}
			if p, err = PlanAdd(ctx, h, AddOptions{Config: cfgWith(nil), OpenFirewall: true}); err != nil {
				t.Fatal(err)
			}
			applyPlan(t, h, p)
			got := read(t, h, tt.file)
			for _, w := range tt.want {
				if !strings.Contains(got, w+"\n") {
					t.Fatalf("%s lacks %q:\n%s", tt.file, w, got)
				}
			}
			if !strings.Contains(got, csfAPFMarker(26)+"\n") {
				t.Fatalf("no marker:\n%s", got)
			}
			fws := DetectFirewalls(ctx, h, cfgWith(nil), 26)
			if fws[0].Allowed != AllowYes || !fws[0].ByHostfix {
				t.Fatalf("after open: %+v", fws)
			}
			p, err = PlanAdd(ctx, h, AddOptions{Config: cfgWith(nil), OpenFirewall: true})
			if err != nil || !p.Empty() {
				t.Fatalf("second add: %v", err)
			}
			p, err = PlanRemove(ctx, h, RemoveOptions{Config: cfgWith(nil)})
			if err != nil {
				t.Fatal(err)
			}
			applyPlan(t, h, p)
			if got := read(t, h, tt.file); got != tt.content {
				t.Fatalf("%s not back:\n%s", tt.file, got)
			}
		})
	}
}

func TestOpenFirewallCommands(t *testing.T) {
	ctx := context.Background()
	h := qmailHost(t, map[string]string{"/etc/ufw/ufw.conf": "ENABLED=yes\n", "/etc/ufw/user.rules": "", "/usr/sbin/ufw": ""})
	p, err := PlanAdd(ctx, h, AddOptions{Config: cfgWith(nil), OpenFirewall: true})
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	for _, a := range p.Actions {
		if d := a.Describe(); d.Kind == "command" {
			cmds = append(cmds, d.Target)
		}
	}
	if strings.Join(cmds, "|") != "/usr/sbin/ufw allow 26/tcp comment 'hostfix smtpport'" {
		t.Fatalf("commands %q", cmds)
	}
	h = qmailHost(t, map[string]string{"/etc/firewalld/firewalld.conf": "DefaultZone=public\n", "/etc/firewalld/zones/public.xml": "<zone/>"})
	cfg := cfgWith(func(c *Config) { c.FirewalldCommand = []string{"firewall-cmd"} })
	p, err = PlanAdd(ctx, h, AddOptions{Config: cfg, OpenFirewall: true})
	if err != nil {
		t.Fatal(err)
	}
	cmds = nil
	for _, a := range p.Actions {
		if d := a.Describe(); d.Kind == "command" {
			cmds = append(cmds, d.Target)
		}
	}
	if strings.Join(cmds, "|") != "firewall-cmd --permanent --add-port=26/tcp|firewall-cmd --reload" {
		t.Fatalf("commands %q", cmds)
	}
	// Without --open-firewall the block is a note.
	p, err = PlanAdd(ctx, h, AddOptions{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(p.Notes, "\n"), "firewall firewalld blocks port 26") {
		t.Fatalf("notes %q", p.Notes)
	}
}

func FuzzFirewallConfigs(f *testing.F) {
	f.Add([]byte(csfSample), 26)
	f.Add([]byte(apfSample), 31000)
	f.Add([]byte("*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp -m multiport --dports 25,26 -j ACCEPT\nCOMMIT\n"), 26)
	f.Add([]byte("table inet filter {\n chain input {\n  type filter hook input priority 0; policy drop;\n  tcp dport { 22, 25 } accept\n }\n}\n"), 25)
	f.Add([]byte("### tuple ### allow tcp 26 0.0.0.0/0 any 0.0.0.0/0 in comment=6869\n"), 26)
	f.Fuzz(func(t *testing.T, data []byte, port int) {
		if port < 1 || port > 65535 {
			return
		}
		for _, v := range []string{firstOf(NftAllows(string(data), port)), firstOf(IptablesAllows(string(data), port))} {
			if v != "" && v != AllowYes && v != AllowNo {
				t.Fatalf("verdict %q", v)
			}
		}
		ufwTuples(data)
		for fw, keys := range listKeys {
			sep := ":"
			if fw == FwAPF {
				sep = "_"
			}
			vars := shellVars(data)
			added := addPortToLists(data, keys, port)
			// After adding, every list that was set holds the port…
			for _, k := range keys {
				if v, ok := vars[k]; ok && strings.ContainsAny(v.Value, "\"'") {
					return // a quote inside the value: shell semantics hostfix does not model
				}
			}
			for _, k := range keys {
				if _, ok := vars[k]; ok {
					if nv, ok := shellVars(added)[k]; !ok || !portListHas(nv.Value, port, sep) {
						t.Fatalf("%s %s lacks %d after add:\n%s", fw, k, port, added)
					}
				}
			}
			// …and adding again changes nothing.
			if again := addPortToLists(added, keys, port); string(again) != string(added) {
				t.Fatalf("%s: add not idempotent:\n%s\n---\n%s", fw, added, again)
			}
		}
	})
}

func firstOf(a, _ string) string { return a }
