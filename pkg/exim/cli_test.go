package exim_test

// End-to-end tests of `hostfix exim` as a real process: testscript scenarios on fixture
// trees (testdata/exim/script) with --root, where the restart commands are shell scripts
// that play cPanel writing new keys under the fixture root (or not).

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hostfix/hostfix/cmd"
	"github.com/hostfix/hostfix/internal/scripttest"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"hostfix": func() { os.Exit(cmd.Execute()) },
	})
}

// TestScripts runs testdata/exim/script/*.txtar.
func TestScripts(t *testing.T) {
	testscript.Run(t, scripttest.Params("../../testdata/exim/script", nil, nil))
}
