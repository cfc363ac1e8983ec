package usage

import (
	"errors"
	"fmt"
)

// Error is bad usage or bad input.
type Error struct{ Err error }

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Errorf makes a usage error; %w wraps as with fmt.Errorf.
func Errorf(format string, args ...any) error {
	return &Error{Err: fmt.Errorf(format, args...)}
}

// Wrap marks err as a usage error (nil stays nil).
func Wrap(err error) error {
	if err == nil {
		return nil
	}
	return &Error{Err: err}
}

// Is reports whether err is, or wraps, a usage error.
func Is(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// MaxEcho is how much of an argument an error message repeats.
const MaxEcho = 60

// MaxEchoPath is how much of a path an error message repeats: a path is only useful whole,
// so only a pathological one is cut.
const MaxEchoPath = 256

// Clip shortens an argument the user gave to MaxEcho characters (runes) plus "…", so an
// error line that echoes it stays one readable line.
func Clip(s string) string { return clip(s, MaxEcho) }

// ClipPath shortens a path the user gave to MaxEchoPath characters plus "…".
func ClipPath(s string) string { return clip(s, MaxEchoPath) }

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
