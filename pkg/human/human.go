// Package human formats numbers for people, the same way in every command's text output:
// counts with thousands separators (61,572), sizes in SI units as ls -h --si (5.6 MB),
// and "1 message" / "2 messages".
package human

import (
	"fmt"
	"strconv"
	"strings"
)

// Integer is any integer type Count, Bytes and Plural accept.
type Integer interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

// Count formats 1234567 as "1,234,567".
func Count[T Integer](n T) string {
	s := strconv.FormatInt(int64(n), 10)
	if n > 0 && int64(n) < 0 { // a uint64 above MaxInt64
		s = strconv.FormatUint(uint64(n), 10)
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Bytes formats a size in SI units as ls -h --si does ("5.6 MB", "999 B").
func Bytes[T Integer](n T) string {
	const unit = 1000
	v := int64(n)
	if v < unit {
		return fmt.Sprintf("%d B", v)
	}
	div, exp := int64(unit), 0
	for m := v / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(v)/float64(div), "kMGTPE"[exp])
}

// Plural says "1 message" / "2 messages" / "61,572 messages" (nouns taking a plain s).
func Plural[T Integer](n T, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return Count(n) + " " + noun + "s"
}
