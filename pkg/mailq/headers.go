package mailq

import (
	"bytes"
	"errors"
	"mime"
	"strings"

	"golang.org/x/sys/unix"
)

// maxHeader is how much of mess/ is read to find the Subject: the header part only, never
// the body (qmail's own Received line plus a normal header fits many times over).
const maxHeader = 64 << 10

var wordDecoder = &mime.WordDecoder{}

func readSubject(dirfd int, name string) (string, error) {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return "", err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return "", errors.New("not a regular file")
	}
	buf := make([]byte, min(int64(maxHeader), st.Size))
	total := 0
	for total < len(buf) {
		n, err := unix.Read(fd, buf[total:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return "", err
		}
		if n == 0 {
			break
		}
		total += n
	}
	return HeaderSubject(buf[:total]), nil
}

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
