package synflood

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/hostfix/hostfix/internal/testenv"
	"github.com/hostfix/hostfix/pkg/system"
)

// TestPlanFixLiveHost plans (never applies) the fix on the machine running the test: with
// SYN cookies on now and nothing read at boot turning them off, fix has nothing to do (no
// new drop-in); otherwise it has something to do. Planning only reads the host.
func TestPlanFixLiveHost(t *testing.T) {
	testenv.Integration(t)
	if _, err := os.Stat("/proc/sys/net/ipv4/tcp_syncookies"); err != nil {
		testenv.Skip(t, "no /proc/sys/net/ipv4/tcp_syncookies on this host")
	}
	h, err := system.NewHost("/", nil)
	if err != nil {
		t.Fatal(err)
	}
	sysctls, _, errs := ReadSysctls(h)
	if len(errs) > 0 {
		testenv.Skip(t, "this host's sysctl files cannot be read: "+errs[0].Error())
	}
	cookies := sysctls[KeySyncookies]
	alreadyOn := strings.TrimSpace(cookies.Live) == "1" && bootGives(cookies.Boot, "1")
	p, err := PlanFix(context.Background(), h, FixOptions{Config: DefaultConfig()})
	if err != nil {
		t.Fatal(err)
	}
	if alreadyOn && !p.Empty() {
		for _, a := range p.Actions {
			t.Errorf("cookies are on live and at boot (%+v), yet fix plans %+v", cookies.Boot, a.Describe())
		}
	}
	if !alreadyOn && p.Empty() {
		t.Errorf("cookies live %s, boot %+v: fix has nothing to do", cookies.Live, cookies.Boot)
	}
	t.Logf("live tcp_syncookies %s, boot %+v: %d actions", cookies.Live, cookies.Boot, len(p.Actions))
}
