package mailq

import (
	"bytes"
	"mime"
	"strings"
)

// maxHeader is how much of mess/ is read to find the Subject: the header part only, never
// the body (qmail's own Received line plus a normal header fits many times over).
const maxHeader = 64 << 10

var wordDecoder = &mime.WordDecoder{}

// HeaderSubject returns the decoded Subject of a message's header part (LF or CRLF line
// ends, folded lines joined, RFC 2047 words decoded where the charset is known). It stops
// at the blank line that ends the header.
func HeaderSubject(msg []byte) string {
	var subject []byte
	in := false
	for len(msg) > 0 {
		line := msg
		if i := bytes.IndexByte(msg, '\n'); i >= 0 {
			line, msg = msg[:i], msg[i+1:]
		} else {
			msg = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if in {
				subject = append(subject, ' ')
				subject = append(subject, bytes.TrimLeft(line, " \t")...)
			}
			continue
		}
		if in {
			break
		}
		if len(line) >= 8 && strings.EqualFold(string(line[:8]), "subject:") {
			in = true
			subject = append(subject, bytes.TrimSpace(line[8:])...)
		}
	}
	s := strings.TrimSpace(string(subject))
	if dec, err := wordDecoder.DecodeHeader(s); err == nil {
		return dec
	}
	return s
}
