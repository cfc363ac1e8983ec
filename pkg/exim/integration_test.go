package exim_test

// Integration test against a real Exim (Debian exim4-daemon-light): no daemon, no system
// config, no system log. `exim4 -C TESTCONF -bs -oMa IP.PORT` reads an SMTP session on
// stdin as if it came from IP (root is trusted to say so) and logs to the test's own
// log_file_path; AUTH attempts with wrong and right credentials from several IPv4 and IPv6
// sources write real "authenticator failed" and "<= … A=" lines, and auth-check on that
// log must count exactly those, per class, source and account.

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hostfix/hostfix/internal/testenv"
	"github.com/hostfix/hostfix/pkg/exim"
	"github.com/hostfix/hostfix/pkg/system"
)

const (
	testPassword = "Corr3ct-Horse"
	goodUser     = "user1@test.example"
	serviceGood  = "__cpanel__service__auth__exim__GOODKEY0123456789"
	serviceStale = "__cpanel__service__auth__exim__STALEKEY987654321"
)

// eximConf: plaintext authenticators in cPanel's naming, a fixed test password, the log
// and spool in dir. fixed_plain (PLAIN) and dovecot_login (LOGIN) set set_id; nosetid (an
// XNOSETID mechanism) does not, like an authenticator without server_set_id.
func eximConf(dir string) string {
	return fmt.Sprintf(`keep_environment =
spool_directory = %[1]s/spool
log_file_path = %[1]s/log/%%slog
log_selector = +pid +incoming_port +incoming_interface
primary_hostname = test.example
domainlist local_domains = test.example
acl_smtp_rcpt = acl_rcpt
begin acl
acl_rcpt:
  accept authenticated = *
  deny message = relay not permitted
begin routers
fail:
  driver = redirect
  data = :fail: test
begin transports
begin authenticators
fixed_plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = ${if and {{or {{eq{$auth2}{%[2]s}}{eq{$auth2}{%[3]s}}}}{eq{$auth3}{%[4]s}}}}
  server_set_id = $auth2
dovecot_login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = ${if and {{eq{$auth1}{%[2]s}}{eq{$auth2}{%[4]s}}}}
  server_set_id = $auth1
nosetid:
  driver = plaintext
  public_name = XNOSETID
  server_prompts = :
  server_condition = no
`, dir, goodUser, serviceGood, testPassword)
}

// attempt is one AUTH in a session.
type attempt struct {
	mech, user, pass string
	ok               bool
}

type session struct {
	ip, port, iface, host string
	ident                 bool
	attempts              []attempt
	send                  bool // after a successful AUTH, send a message (a "<= … A=" line)
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func (s session) script() string {
	var b strings.Builder
	b.WriteString("EHLO client.example\r\n")
	for _, a := range s.attempts {
		switch a.mech {
		case "PLAIN":
			fmt.Fprintf(&b, "AUTH PLAIN %s\r\n", b64("\x00"+a.user+"\x00"+a.pass))
		case "LOGIN":
			fmt.Fprintf(&b, "AUTH LOGIN\r\n%s\r\n%s\r\n", b64(a.user), b64(a.pass))
		case "XNOSETID":
			fmt.Fprintf(&b, "AUTH XNOSETID %s\r\n", b64("\x00"+a.user+"\x00"+a.pass))
		}
	}
	if s.send {
		b.WriteString("MAIL FROM:<a@b.example>\r\nRCPT TO:<x@test.example>\r\nDATA\r\nSubject: t\r\n\r\nhi\r\n.\r\n")
	}
	b.WriteString("QUIT\r\n")
	return b.String()
}

func TestIntegrationRealExim(t *testing.T) {
	testenv.Integration(t)
	testenv.NeedRoot(t)
	eximBin := testenv.NeedTool(t, "exim4")[0]
	u, err := user.Lookup("Debian-exim")
	if err != nil {
		testenv.Skip(t, "needs the Debian-exim user (exim4-daemon-light): "+err.Error())
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)

	dir := t.TempDir()
	// Exim drops to Debian-exim for a -C config: every parent must be searchable by it.
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, sub := range []string{"log", "spool"} {
		p := filepath.Join(dir, sub)
		if err := os.Mkdir(p, 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(dir, "exim.conf")
	if err := os.WriteFile(conf, []byte(eximConf(dir)), 0o644); err != nil {
		t.Fatal(err)
	}

	bad := func(mech, user string) attempt { return attempt{mech: mech, user: user, pass: "wrong"} }
	sessions := []session{
		// chkservd with a stale key, from 127.0.0.1, three rounds
		{ip: "127.0.0.1", port: "48454", host: "localhost.localdomain", attempts: []attempt{bad("PLAIN", serviceStale)}},
		{ip: "127.0.0.1", port: "48460", host: "localhost.localdomain", attempts: []attempt{bad("PLAIN", serviceStale)}},
		{ip: "::1", port: "48470", attempts: []attempt{bad("PLAIN", serviceStale)}},
		// a dictionary attack from one IPv4 address on the submission port
		{ip: "185.143.75.81", port: "28556", iface: "192.168.56.110.587", attempts: []attempt{
			bad("LOGIN", "info@example.com"), bad("LOGIN", "admin@example.com"), bad("LOGIN", "sales@example.com"), bad("PLAIN", "info@example.com"),
		}},
		// password guessing on one account from IPv6, with an ident
		{ip: "2001:db8::5", port: "40001", iface: "2001:db8::1.25", ident: true, attempts: []attempt{
			bad("PLAIN", "info@example.com"), bad("PLAIN", "info@example.com"),
		}},
		{ip: "2001:db8:0:1::77", port: "40002", attempts: []attempt{bad("LOGIN", "info@example.com"), bad("XNOSETID", "whoever")}},
		// a user who mistypes, then gets it right and sends
		{ip: "203.0.113.5", port: "51000", iface: "192.168.56.110.587", attempts: []attempt{
			bad("PLAIN", goodUser), {mech: "PLAIN", user: goodUser, pass: testPassword, ok: true},
		}, send: true},
		// chkservd with the right key: a success, not a failure
		{ip: "127.0.0.1", port: "48480", attempts: []attempt{{mech: "PLAIN", user: serviceGood, pass: testPassword, ok: true}}, send: true},
	}
	for _, s := range sessions {
		args := []string{"-C", conf, "-bs", "-odq", "-oMa", s.ip + "." + s.port}
		if s.iface != "" {
			args = append(args, "-oMi", s.iface)
		}
		if s.host != "" {
			args = append(args, "-oMs", s.host)
		}
		if !s.ident {
			args = append(args, "-oMt", "")
		}
		cmd := exec.Command(eximBin, args...)
		cmd.Stdin = strings.NewReader(s.script())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("exim4 %v: %v\n%s", args, err, out)
		}
		// the replies Exim gave must match what the test expects of each attempt
		n535 := strings.Count(string(out), "\n535 ")
		nfail := 0
		for _, a := range s.attempts {
			if !a.ok {
				nfail++
			}
		}
		if n535 != nfail || strings.Count(string(out), "\n235 ") != len(s.attempts)-nfail {
			t.Fatalf("session from %s: %d x 535 for %d bad attempts:\n%s", s.ip, n535, nfail, out)
		}
	}
	logPath := filepath.Join(dir, "log", "mainlog")
	raw, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("real Exim log:\n%s", raw)

	h, err := system.NewHost("/", nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := exim.DefaultConfig()
	cfg.Logs = []string{logPath}
	cfg.Since = 0
	cfg.ChkservdLog = ""
	rep, err := exim.AuthCheck(context.Background(), h, exim.CheckOptions{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	tl := rep.Tally
	check := func(what string, got, want int) {
		t.Helper()
		if got != want {
			t.Errorf("%s: %d, want %d", what, got, want)
		}
	}
	check("failures", tl.Failures, 12)
	check("service-auth failures", tl.ServiceAuth, 3)
	check("account failures", tl.Account, 9)
	check("logins", tl.Logins, 2)
	check("fixed_plain service auth", tl.ByAuth["fixed_plain"].ServiceAuth, 3)
	check("fixed_plain accounts", tl.ByAuth["fixed_plain"].Account, 4)
	check("dovecot_login accounts", tl.ByAuth["dovecot_login"].Account, 4)
	check("nosetid accounts", tl.ByAuth["nosetid"].Account, 1)
	check("services[exim]", tl.Services["exim"], 3)
	ips := map[string]int{"127.0.0.1": 2, "::1": 1, "185.143.75.81": 4, "2001:db8::5": 2, "2001:db8:0:1::77": 2, "203.0.113.5": 1}
	check("distinct IPs", len(tl.IPs), len(ips))
	for ip, n := range ips {
		if s := tl.Source(tl.IPs, ip); s == nil {
			t.Errorf("no IP %s", ip)
		} else {
			check("IP "+ip, s.Count, n)
		}
	}
	check("185.143.75.81 distinct accounts", tl.Source(tl.IPs, "185.143.75.81").Distinct, 3)
	accounts := map[string]int{"__cpanel__service__auth__exim__…": 3, "info@example.com": 5, "admin@example.com": 1, "sales@example.com": 1, goodUser: 1, "(no set_id)": 1}
	check("distinct accounts", len(tl.Accounts), len(accounts))
	for a, n := range accounts {
		if s := tl.Source(tl.Accounts, a); s == nil {
			t.Errorf("no account %s", a)
		} else {
			check("account "+a, s.Count, n)
		}
	}
	check("info@example.com distinct IPs", tl.Source(tl.Accounts, "info@example.com").Distinct, 3)
	check("logins of "+goodUser, tl.Source(tl.LoginAccounts, goodUser).Count, 1)
	check("logins of service auth", tl.Source(tl.LoginAccounts, "__cpanel__service__auth__exim__…").Count, 1)

	res := rep.Check(cfg)
	if res.Status.String() != "critical" {
		t.Errorf("status %s, want critical (3 service-auth failures)", res.Status)
	}
	for _, f := range res.Findings {
		if strings.Contains(f.Message, "STALEKEY") || strings.Contains(f.Message, "GOODKEY") {
			t.Errorf("a key leaked into a finding: %s", f.Message)
		}
	}
	for _, d := range res.Details {
		if strings.Contains(d, "STALEKEY") || strings.Contains(d, "GOODKEY") {
			t.Errorf("a key leaked into the report: %s", d)
		}
	}
}
