package smtpport_test

// End-to-end tests of `hostfix smtpport` as a real process: testscript scenarios on
// fixture trees (testdata/script, all with --root) and, in integration_linux_test.go,
// the live command against a test-owned xinetd in a private namespace.

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hostfix/hostfix/cmd"
	"github.com/hostfix/hostfix/internal/scripttest"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"hostfix":       func() { os.Exit(cmd.Execute()) },
		"banner-server": func() { os.Exit(bannerMain(os.Args[1:])) },
	})
}

// TestScripts runs testdata/script/*.txtar. $SAMPLES is testdata/samples (real files:
// Debian's /etc/services, Postfix's master.cf.dist, a Plesk smtp_psa).
func TestScripts(t *testing.T) {
	samples, err := filepath.Abs("testdata/samples")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, scripttest.Params("testdata/script", map[string]string{"SAMPLES": samples}, nil))
}
