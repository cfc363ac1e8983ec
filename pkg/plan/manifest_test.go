package plan

import "testing"

// Manifest paths are system paths: "/..." on Unix; on Windows rooted in the Root's drive
// ("\Program Files\..."), with a drive or UNC.
func TestSystemAbs(t *testing.T) {
	for _, tc := range []struct {
		p             string
		unix, windows bool
	}{
		{"/etc/services", true, true},
		{`\Program Files (x86)\SmarterTools\SmarterMail\Service\mailConfig.xml`, false, true},
		{`C:\SmarterMail\Domains`, false, true},
		{`d:/Mail`, false, true},
		{`\\old\c$\SmarterMail`, false, true},
		{`C:SmarterMail`, false, false},
		{`1:\x`, false, false},
		{"etc/services", false, false},
		{`SmarterMail\Domains`, false, false},
		{"", false, false},
	} {
		if got := systemAbs(tc.p, false); got != tc.unix {
			t.Errorf("systemAbs(%q) on Unix = %v", tc.p, got)
		}
		if got := systemAbs(tc.p, true); got != tc.windows {
			t.Errorf("systemAbs(%q) on Windows = %v", tc.p, got)
		}
	}
}
