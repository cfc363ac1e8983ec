package mailq

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// The envelope files are sequences of records, each a type byte, a value and a NUL
// (qmail-queue(8), qmail-send(8)). These parsers never trust the input: a queue may be
// damaged, truncated or hand-edited.

// ErrTruncated is a record without its terminating NUL (a file cut short).
var ErrTruncated = errors.New("record without terminating NUL (file cut short)")

// Recipient is one envelope recipient of a message.
type Recipient struct {
	Address string `json:"address"`
	// Channel is "local" or "remote" once qmail-send has preprocessed the message, and
	// "unprocessed" while the recipient is still in todo/ (qmail-send decides the channel);
	// empty for Exim and Postfix, which have no channels.
	Channel string `json:"channel,omitempty"`
	// Done is true for a D record: delivered or bounced, qmail will not try it again.
	Done bool `json:"done"`
}

// Todo is the envelope qmail-queue wrote to todo/<id> (and its hard link intd/<id>).
type Todo struct {
	UID        int64
	PID        int64
	Sender     string
	HasSender  bool
	Recipients []string
}

func records(b []byte, fn func(typ byte, val []byte) error) error {
	for len(b) > 0 {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return ErrTruncated
		}
		if i == 0 {
			return errors.New("empty record (stray NUL)")
		}
		if err := fn(b[0], b[1:i]); err != nil {
			return err
		}
		b = b[i+1:]
	}
	return nil
}

// ParseInfo parses info/<id>: exactly one record F<sender>\0. The sender may be empty
// (a bounce) or "#@[]" (a double bounce).
func ParseInfo(b []byte) (string, error) {
	if len(b) == 0 {
		return "", errors.New("empty info file")
	}
	sender, seen := "", false
	err := records(b, func(typ byte, val []byte) error {
		if typ != 'F' {
			return fmt.Errorf("unexpected record %q in info file (want F<sender>)", typ)
		}
		if seen {
			return errors.New("more than one sender record")
		}
		sender, seen = string(val), true
		return nil
	})
	if err != nil {
		return "", err
	}
	return sender, nil
}

// ParseRecipients parses local/<id> or remote/<id>: records T<rcpt>\0 (still to do) and
// D<rcpt>\0 (done; qmail-send overwrites the T in place). An empty file has no recipients.
func ParseRecipients(b []byte, channel string) ([]Recipient, error) {
	var out []Recipient
	err := records(b, func(typ byte, val []byte) error {
		switch typ {
		case 'T':
			out = append(out, Recipient{Address: string(val), Channel: channel})
		case 'D':
			out = append(out, Recipient{Address: string(val), Channel: channel, Done: true})
		default:
			return fmt.Errorf("unexpected record %q in %s file (want T or D)", typ, channel)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ParseTodo parses todo/<id>: u<uid>\0 p<pid>\0 F<sender>\0 then T<rcpt>\0 records, with
// no terminating extra NUL. Records of patched qmail-queues that hostfix does not know are
// skipped (they are not needed to list or select a message).
func ParseTodo(b []byte) (Todo, error) {
	var t Todo
	if len(b) == 0 {
		return t, errors.New("empty todo file")
	}
	err := records(b, func(typ byte, val []byte) error {
		switch typ {
		case 'u', 'p':
			n, err := strconv.ParseInt(string(val), 10, 64)
			if err != nil || n < 0 {
				return fmt.Errorf("bad %c record %q: want a decimal number", typ, val)
			}
			if typ == 'u' {
				t.UID = n
			} else {
				t.PID = n
			}
		case 'F':
			if t.HasSender {
				return errors.New("more than one sender record")
			}
			t.Sender, t.HasSender = string(val), true
		case 'T':
			if !t.HasSender {
				return errors.New("recipient before sender record")
			}
			t.Recipients = append(t.Recipients, string(val))
		}
		return nil
	})
	if err != nil {
		return Todo{}, err
	}
	if !t.HasSender {
		return Todo{}, errors.New("no sender record")
	}
	return t, nil
}
