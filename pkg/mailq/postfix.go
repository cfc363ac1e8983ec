package mailq

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// Config keys of the Postfix commands.
const (
	PostqueueKey = "mailq.postqueue_command"
	PostsuperKey = "mailq.postsuper_command"
	PostcatKey   = "mailq.postcat_command"
)

// Postfix queues are read and changed through Postfix's own tools only (postqueue -j,
// postcat -q, postsuper): its queue files are a binary record format and its daemons
// rename them between queues at any time.
type PostfixQueue struct {
	// Dir is queue_directory (for messages; the tools find it from their config).
	Dir string
	// Postqueue, Postsuper and Postcat are the command prefixes.
	Postqueue, Postsuper, Postcat plan.Argv

	host *system.Host
}

func postfixQueueDir(cfg Config) string {
	if cfg.PostfixQueue != "" {
		return cfg.PostfixQueue
	}
	return "/var/spool/postfix"
}

// OpenPostfix finds the Postfix commands (configured, or on PATH and /usr/sbin under
// --root). Reading the queue runs postqueue: a detected postqueue is not run under --root
// (it would read the real host's queue), so there the command must be set.
func OpenPostfix(h *system.Host, cfg Config, path string) (*PostfixQueue, error) {
	q := &PostfixQueue{Dir: postfixQueueDir(cfg), host: h,
		Postqueue: findCommand(h, PostqueueKey, cfg.PostqueueCommand, path, "postqueue"),
		Postsuper: findCommand(h, PostsuperKey, cfg.PostsuperCommand, path, "postsuper"),
		Postcat:   findCommand(h, PostcatKey, cfg.PostcatCommand, path, "postcat"),
	}
	if why := runnable(h, q.Postqueue); why != "" {
		return nil, usage.Errorf("mailq: cannot read the Postfix queue: postqueue %s", why)
	}
	return q, nil
}

// MTA names the mail system.
func (q *PostfixQueue) MTA() string { return MTAPostfix }

// Location is queue_directory.
func (q *PostfixQueue) Location() string { return q.Dir }

func (q *PostfixQueue) String() string { return q.Dir + " (postfix)" }

// PostqueueJSON is one line of `postqueue -j` (postqueue(1), Postfix >= 3.1).
type PostqueueJSON struct {
	QueueName    string `json:"queue_name"`
	QueueID      string `json:"queue_id"`
	ArrivalTime  int64  `json:"arrival_time"`
	MessageSize  int64  `json:"message_size"`
	ForcedExpire bool   `json:"forced_expire"`
	Sender       string `json:"sender"`
	Recipients   []struct {
		Address     string `json:"address"`
		DelayReason string `json:"delay_reason"`
	} `json:"recipients"`
}

// ParsePostqueueLine parses one line of postqueue -j into a Message.
func ParsePostqueueLine(line []byte) (*Message, error) {
	var j PostqueueJSON
	dec := json.NewDecoder(bytes.NewReader(line))
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("postqueue -j: %w", err)
	}
	if dec.More() {
		return nil, errors.New("postqueue -j: more than one object on a line")
	}
	if j.QueueID == "" || !ValidQueueID(j.QueueID) {
		return nil, fmt.Errorf("postqueue -j: bad queue_id %q", clip(j.QueueID))
	}
	switch j.QueueName {
	case "maildrop", "incoming", "active", "deferred", "hold", "corrupt":
	default:
		return nil, fmt.Errorf("postqueue -j: unknown queue_name %q", clip(j.QueueName))
	}
	if j.MessageSize < 0 || j.ArrivalTime < 0 {
		return nil, errors.New("postqueue -j: negative size or time")
	}
	sender := j.Sender
	if sender == "MAILER-DAEMON" {
		// showq prints the null sender of a bounce as MAILER-DAEMON (empty_address_recipient);
		// a real address would be qualified. The contract says "" for a bounce.
		sender = ""
	}
	m := &Message{ID: j.QueueID, MTA: MTAPostfix, State: State(j.QueueName), Sender: sender, SenderKnown: true,
		Size: j.MessageSize}
	if j.ArrivalTime > 0 {
		m.Queued = time.Unix(j.ArrivalTime, 0)
	}
	for _, r := range j.Recipients {
		m.Recipients = append(m.Recipients, Recipient{Address: r.Address})
	}
	return m, nil
}

// Scan runs postqueue -j and streams its messages (in its order). A line hostfix cannot
// parse is an error naming it: postqueue's output is not damaged the way a spool can be.
func (q *PostfixQueue) Scan(ctx context.Context, o ScanOptions, fn func(*Message) error) error {
	argv := withArgs(q.Postqueue, "-j")
	res, err := q.host.Runner.Run(ctx, system.Cmd{Argv: argv.Args, Env: argv.Env})
	if err != nil {
		return fmt.Errorf("read the Postfix queue: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(res.Stdout))
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		m, err := ParsePostqueueLine(line)
		if err != nil {
			return fmt.Errorf("%s line %d: %w", argv, n, err)
		}
		if o.Headers {
			if r, err := q.openMessage(m); err == nil {
				hdr, _ := io.ReadAll(io.LimitReader(r, maxHeader))
				r.Close()
				if i := bytes.Index(hdr, []byte("\n\n")); i >= 0 {
					hdr = hdr[:i+1]
				}
				m.header = hdr
				m.Subject = HeaderSubject(hdr)
			}
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	return sc.Err()
}

// openMessage runs postcat -q ID and returns the MESSAGE CONTENTS section (headers and
// body as queued).
func (q *PostfixQueue) openMessage(m *Message) (io.ReadCloser, error) {
	if why := runnable(q.host, q.Postcat); why != "" {
		return nil, usage.Errorf("mailq: cannot read Postfix message %s: postcat %s", m.ID, why)
	}
	argv := withArgs(q.Postcat, "-q", m.ID)
	res, err := q.host.Runner.Run(context.Background(), system.Cmd{Argv: argv.Args, Env: argv.Env})
	if err != nil {
		return nil, fmt.Errorf("read Postfix message %s: %w", m.ID, err)
	}
	return io.NopCloser(bytes.NewReader(PostcatContents(res.Stdout))), nil
}

// PostcatContents cuts the message (headers and body) out of postcat's output: the lines
// between "*** MESSAGE CONTENTS …" and "*** HEADER EXTRACTED …" / "*** MESSAGE FILE END".
func PostcatContents(out []byte) []byte {
	var b bytes.Buffer
	in := false
	for _, line := range strings.SplitAfter(string(out), "\n") {
		if strings.HasPrefix(line, "*** ") {
			switch {
			case strings.HasPrefix(line, "*** MESSAGE CONTENTS"):
				in = true
				continue
			case strings.HasPrefix(line, "*** HEADER EXTRACTED"), strings.HasPrefix(line, "*** MESSAGE FILE END"):
				in = false
				continue
			}
		}
		if in {
			b.WriteString(line)
		}
	}
	return b.Bytes()
}
