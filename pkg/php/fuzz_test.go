package php

import (
	"bytes"
	"os"
	"testing"
)

func FuzzParsePHPInfo(f *testing.F) {
	for _, p := range []string{"testdata/php-i.txt", "testdata/php-cgi-i.html"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("max_input_vars => 1000 => 1000\n"))
	f.Add([]byte(`<tr><td class="e">max_input_vars</td><td class="v">9</td></tr>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		info := ParsePHPInfo(data)
		for k := range info {
			if k == "" {
				t.Fatal("empty key")
			}
		}
		_, _ = info.Int("max_input_vars")
	})
}

func FuzzParseModules(f *testing.F) {
	if b, err := os.ReadFile("testdata/php-m.txt"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("X-Powered-By: PHP\n\n[PHP Modules]\nmbstring\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for m := range ParseModules(data) {
			if m == "" || m[0] == '[' || bytes.ContainsAny([]byte(m), "\n:") {
				t.Fatalf("bad module name %q", m)
			}
		}
	})
}

func FuzzParsePools(f *testing.F) {
	f.Add([]byte("[global]\npid = x\n[www]\nphp_admin_value[max_input_vars] = 3000\nphp_value[max_input_vars] = 1\nphp_admin_value[error_log] = /var/log/$pool.log\n"))
	f.Add([]byte("[a]\nphp_value[max_input_vars] = 2k\n[b]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range ParsePools("/x.conf", data) {
			if p.Name == "" || p.Name == "global" || p.File != "/x.conf" {
				t.Fatalf("bad pool %+v", p)
			}
			if p.MaxInputVars != nil && (p.Line < 1 || p.Key == "") {
				t.Fatalf("pinned pool without its line %+v", p)
			}
		}
	})
}

func FuzzCountExceeded(f *testing.F) {
	f.Add([]byte("PHP Warning:  Unknown: Input variables exceeded 1000. To increase\n"), int64(1000))
	f.Add([]byte("Input variables exceeded 99999999999999999999999\n"), int64(5))
	f.Fuzz(func(t *testing.T, data []byte, limit int64) {
		n := CountExceeded(bytes.NewReader(data), limit)
		if n < 0 || n > bytes.Count(data, []byte("\n"))+1 {
			t.Fatalf("count %d for %d lines", n, bytes.Count(data, []byte("\n"))+1)
		}
	})
}

func FuzzDpkgInstalled(f *testing.F) {
	f.Add([]byte("Package: php8.2-mbstring\nStatus: install ok installed\n\nPackage: x\n"), "php8.2-mbstring")
	f.Fuzz(func(t *testing.T, data []byte, pkg string) {
		_ = DpkgInstalled(data, pkg)
	})
}
