package iostreams

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/fatih/color"
	"github.com/mattn/go-isatty"
)

// ColorMode is the --color setting.
type ColorMode string

const (
	ColorAuto   ColorMode = "auto"
	ColorAlways ColorMode = "always"
	ColorNever  ColorMode = "never"
)

// ParseColorMode validates a --color value.
func ParseColorMode(s string) (ColorMode, error) {
	switch m := ColorMode(strings.ToLower(s)); m {
	case ColorAuto, ColorAlways, ColorNever:
		return m, nil
	}
	return "", fmt.Errorf("--color %q: want auto, always or never", s)
}

// IOStreams are the three standard streams plus what is known about them.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	InTTY  bool
	OutTTY bool
	ErrTTY bool

	colorOut bool
	colorErr bool
}

// System returns the process's real streams.
func System() *IOStreams {
	s := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	s.InTTY = isTerminal(os.Stdin)
	s.OutTTY = isTerminal(os.Stdout)
	s.ErrTTY = isTerminal(os.Stderr)
	s.SetColorMode(ColorAuto, os.Getenv)
	return s
}

// Test returns streams backed by buffers, none of them a terminal.
func Test() (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

func isTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// DecideColor is the colour rule, per stream: --color always/never win; otherwise NO_COLOR
// (any non-empty value) turns colour off, CLICOLOR_FORCE (non-empty, not "0") turns it on,
// CLICOLOR=0 turns it off, and else colour follows whether the stream is a terminal.
func DecideColor(mode ColorMode, isTTY bool, getenv func(string) string) bool {
	switch mode {
	case ColorAlways:
		return true
	case ColorNever:
		return false
	}
	if getenv("NO_COLOR") != "" {
		return false
	}
	if v := getenv("CLICOLOR_FORCE"); v != "" && v != "0" {
		return true
	}
	if getenv("CLICOLOR") == "0" {
		return false
	}
	if getenv("TERM") == "dumb" {
		return false
	}
	return isTTY
}

// SetColorMode decides colour for stdout and stderr.
func (s *IOStreams) SetColorMode(mode ColorMode, getenv func(string) string) {
	s.colorOut = DecideColor(mode, s.OutTTY, getenv)
	s.colorErr = DecideColor(mode, s.ErrTTY, getenv)
	// fatih/color guesses from os.Stdout globally; we pass our decision per call instead,
	// and keep its global off so nothing colours by accident.
	color.NoColor = true
}

// ColorOut reports whether stdout gets colour.
func (s *IOStreams) ColorOut() bool { return s.colorOut }

// ColorErr reports whether stderr gets colour.
func (s *IOStreams) ColorErr() bool { return s.colorErr }

// Palette colours text for one stream.
type Palette struct{ enabled bool }

// Out is the palette for stdout.
func (s *IOStreams) PaletteOut() Palette { return Palette{s.colorOut} }

// Err is the palette for stderr.
func (s *IOStreams) PaletteErr() Palette { return Palette{s.colorErr} }

func (p Palette) paint(text string, attrs ...color.Attribute) string {
	if !p.enabled {
		return text
	}
	c := color.New(attrs...)
	c.EnableColor()
	return c.Sprint(text)
}

func (p Palette) Enabled() bool          { return p.enabled }
func (p Palette) Red(s string) string    { return p.paint(s, color.FgRed) }
func (p Palette) Green(s string) string  { return p.paint(s, color.FgGreen) }
func (p Palette) Yellow(s string) string { return p.paint(s, color.FgYellow) }
func (p Palette) Cyan(s string) string   { return p.paint(s, color.FgCyan) }
func (p Palette) Bold(s string) string   { return p.paint(s, color.Bold) }
func (p Palette) Dim(s string) string    { return p.paint(s, color.Faint) }
