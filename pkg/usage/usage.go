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

// Clip shortens an argument the user gave to MaxEcho characters (runes) plus "…", so an
// error line that echoes it stays one readable line.
func Clip(s string) string {
	r := []rune(s)
	if len(r) <= MaxEcho {
		return s
	}
	return string(r[:MaxEcho]) + "…"
}
