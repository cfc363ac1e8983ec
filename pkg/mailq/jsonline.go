package mailq

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends the object as one JSON line, byte for byte what encoding/json with
// SetEscapeHTML(false) writes (TestAppendJSONMatchesEncodingJSON), without reflection:
// list -o json of 100,000 messages spends most of its CPU here otherwise.
func (j *MessageJSON) AppendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, j.ID)
	b = append(b, `,"state":`...)
	b = appendJSONString(b, string(j.State))
	b = append(b, `,"queued":"`...)
	b = j.Queued.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","age_seconds":`...)
	b = strconv.AppendInt(b, j.AgeSeconds, 10)
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, j.Size, 10)
	b = append(b, `,"sender":`...)
	if j.Sender == nil {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, *j.Sender)
	}
	b = append(b, `,"recipients":`...)
	if j.Recipients == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, r := range j.Recipients {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"address":`...)
			b = appendJSONString(b, r.Address)
			if r.Channel != "" {
				b = append(b, `,"channel":`...)
				b = appendJSONString(b, r.Channel)
			}
			b = append(b, `,"done":`...)
			b = strconv.AppendBool(b, r.Done)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"bounce_pending":`...)
	b = strconv.AppendBool(b, j.Bounce)
	if j.Subject != nil {
		b = append(b, `,"subject":`...)
		b = appendJSONString(b, *j.Subject)
	}
	b = append(b, `,"damaged":`...)
	b = appendJSONStrings(b, j.Damaged)
	b = append(b, `,"files":`...)
	b = appendJSONStrings(b, j.Files)
	b = append(b, `,"mta":`...)
	b = appendJSONString(b, j.MTA)
	return append(b, "}\n"...)
}

func appendJSONStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does without HTML escaping: \" \\ \n \r \t \b \f,
// other control characters as \u00XX, invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
