package iostreams

import (
	"strings"
	"testing"

	"github.com/fatih/color"
)

func TestDecideColor(t *testing.T) {
	cases := []struct {
		mode ColorMode
		tty  bool
		env  map[string]string
		want bool
	}{
		{ColorAuto, true, nil, true},
		{ColorAuto, false, nil, false},
		{ColorAlways, false, nil, true},
		{ColorAlways, false, map[string]string{"NO_COLOR": "1"}, true},
		{ColorNever, true, nil, false},
		{ColorNever, true, map[string]string{"CLICOLOR_FORCE": "1"}, false},
		{ColorAuto, true, map[string]string{"NO_COLOR": "1"}, false},
		{ColorAuto, true, map[string]string{"NO_COLOR": ""}, true}, // empty means unset (no-color.org)
		{ColorAuto, false, map[string]string{"CLICOLOR_FORCE": "1"}, true},
		{ColorAuto, false, map[string]string{"CLICOLOR_FORCE": "0"}, false},
		{ColorAuto, false, map[string]string{"CLICOLOR_FORCE": "1", "NO_COLOR": "1"}, false},
		{ColorAuto, true, map[string]string{"CLICOLOR": "0"}, false},
		{ColorAuto, true, map[string]string{"CLICOLOR": "1"}, true},
		{ColorAuto, true, map[string]string{"TERM": "dumb"}, false},
		{ColorAuto, false, map[string]string{"TERM": "dumb", "CLICOLOR_FORCE": "1"}, true},
	}
	for _, c := range cases {
		got := DecideColor(c.mode, c.tty, func(k string) string { return c.env[k] })
		if got != c.want {
			t.Errorf("DecideColor(%s, tty=%v, %v) = %v, want %v", c.mode, c.tty, c.env, got, c.want)
		}
	}
}

func TestParseColorMode(t *testing.T) {
	for in, want := range map[string]ColorMode{"auto": ColorAuto, "ALWAYS": ColorAlways, "never": ColorNever} {
		if got, err := ParseColorMode(in); err != nil || got != want {
			t.Errorf("ParseColorMode(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseColorMode("yes"); err == nil || err.Error() != `--color "yes": want auto, always or never` {
		t.Errorf("ParseColorMode(yes) error = %v", err)
	}
}

// TestPerStream: stdout and stderr decide apart, and fatih/color's global guess is off.
func TestPerStream(t *testing.T) {
	s, _, _, _ := Test()
	s.OutTTY, s.ErrTTY = false, true
	color.NoColor = false
	s.SetColorMode(ColorAuto, func(string) string { return "" })
	if s.ColorOut() || !s.ColorErr() {
		t.Errorf("ColorOut %v ColorErr %v, want false true", s.ColorOut(), s.ColorErr())
	}
	if !color.NoColor {
		t.Error("fatih/color's global must stay off")
	}
	if got := s.PaletteOut().Red("x"); got != "x" {
		t.Errorf("stdout palette painted: %q", got)
	}
	if got := s.PaletteErr().Red("x"); got != "\x1b[31mx\x1b[0m" {
		t.Errorf("stderr palette: %q", got)
	}
	p := Palette{enabled: true}
	for name, got := range map[string]string{"green": p.Green("a"), "yellow": p.Yellow("a"), "cyan": p.Cyan("a"), "bold": p.Bold("a"), "dim": p.Dim("a")} {
		if !strings.HasPrefix(got, "\x1b[") || !strings.Contains(got, "a") {
			t.Errorf("%s: %q", name, got)
		}
	}
}

func TestTestStreams(t *testing.T) {
	s, in, out, errOut := Test()
	if s.InTTY || s.OutTTY || s.ErrTTY || s.ColorOut() || s.ColorErr() {
		t.Error("test streams must not be terminals nor coloured")
	}
	in.WriteString("a")
	_, _ = s.Out.Write([]byte("b"))
	_, _ = s.ErrOut.Write([]byte("c"))
	buf := make([]byte, 1)
	if n, _ := s.In.Read(buf); n != 1 || out.String() != "b" || errOut.String() != "c" {
		t.Error("streams are not the returned buffers")
	}
}
