// Package postfixtest holds what the tests that run a test-owned, unpacked Postfix share
// (the mailq and smtpport integration tests): the main.cf such a Postfix needs to run from
// the directory Debian's package was unpacked into (see .ci/run and the facts file's
// notes), and postconf's default import_environment. Test-only; it changes nothing.
package postfixtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Lib is the directory of Postfix's shared libraries under the unpacked pf; the tools need
// LD_LIBRARY_PATH set to it.
func Lib(pf string) string { return filepath.Join(pf, "usr/lib/postfix") }

// ImportEnvironment is `postconf -dh import_environment` of the unpacked pf, without
// postconf's warning about the missing /etc/postfix. main.cf must add LD_LIBRARY_PATH to it,
// or postfix strips the variable from its children.
func ImportEnvironment(pf string) (string, error) {
	c := exec.Command(filepath.Join(pf, "usr/sbin/postconf"), "-dh", "import_environment")
	c.Env = append(os.Environ(), "LD_LIBRARY_PATH="+Lib(pf))
	out, err := c.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("postconf -dh import_environment: %v: %s", err, out)
	}
	var imp string
	for _, l := range strings.Split(string(out), "\n") {
		if l != "" && !strings.Contains(l, "warning:") {
			imp = l
		}
	}
	return strings.TrimSpace(imp), nil
}

// MainCf is a main.cf for a Postfix unpacked at pf with its queue in queue, its data
// directory (owned by the postfix user) in data and its log in logDir/maillog, answering
// on loopback only for test.example; extra lines are appended (a test's own settings).
func MainCf(pf, queue, data, logDir, importEnv string, extra ...string) string {
	lib := Lib(pf)
	s := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s
command_directory = %[2]s/usr/sbin
daemon_directory = %[2]s/usr/lib/postfix/sbin
meta_directory = %[2]s/etc/postfix
shlib_directory = %[3]s
data_directory = %[4]s
mail_owner = postfix
setgid_group = postdrop
maillog_file = %[5]s/maillog
maillog_file_prefixes = %[5]s
import_environment = %[6]s LD_LIBRARY_PATH=%[3]s
myhostname = test.example
mydomain = test.example
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
alias_maps =
alias_database =
`, queue, pf, lib, data, logDir, importEnv)
	for _, l := range extra {
		s += l + "\n"
	}
	return s
}
