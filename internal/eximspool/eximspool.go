// Package eximspool writes Exim spools (input/ with <id>-H and <id>-D files) in the format
// Exim 4.96 writes them, for hostfix's tests and benchmarks: the same lines, options and
// header records as a spool written by `exim -odq` (see pkg/mailq/testdata/exim), with
// generated ids, senders, recipients and bodies. Exim itself reads them (exim -bp).
package eximspool

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Options describe the spool.
type Options struct {
	Messages int
	Seed     uint64
	// Split writes input/<c>/ subdirectories (split_spool_directory).
	Split bool
	// Spam is the share of messages from spam@victim.example (default 0.4).
	Spam float64
	// Start is the arrival time of the first message (default 3 days ago).
	Start time.Time
	// UID/GID own the files when >= 0 (Exim's user); -1 leaves them.
	UID, GID int
}

// Message is what was written.
type Message struct {
	ID, Sender string
	Recipients []string
	Frozen     bool
}

const b62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func base62(n uint64, width int) string {
	b := make([]byte, width)
	for i := width - 1; i >= 0; i-- {
		b[i] = b62[n%62]
		n /= 62
	}
	return string(b)
}

// ID is an Exim 4.96 message id: base-62 time, pid, and sub-second part.
func ID(t time.Time, pid, frac uint64) string {
	return base62(uint64(t.Unix()), 6) + "-" + base62(pid, 6) + "-" + base62(frac, 2)
}

// Generate writes the spool into dir (the input directory).
func Generate(dir string, o Options) ([]Message, error) {
	if o.Spam == 0 {
		o.Spam = 0.4
	}
	if o.Start.IsZero() {
		o.Start = time.Now().Add(-72 * time.Hour)
	}
	r := rand.New(rand.NewPCG(o.Seed, o.Seed^0x5eed))
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	domains := []string{"gmail.com", "yahoo.com", "web.de", "example.org", "mail.ru", "hosted.example"}
	out := make([]Message, 0, o.Messages)
	step := 3 * 24 * time.Hour / time.Duration(max(o.Messages, 1))
	for i := 0; i < o.Messages; i++ {
		t := o.Start.Add(time.Duration(i) * step)
		id := ID(t, uint64(10000+i), uint64(i%3844))
		m := Message{ID: id}
		switch {
		case r.Float64() < o.Spam:
			m.Sender = "spam@victim.example"
		case r.IntN(20) == 0:
			m.Sender = "" // a bounce
		default:
			m.Sender = fmt.Sprintf("user%d@%s", r.IntN(500), domains[r.IntN(len(domains))])
		}
		for n := 1 + r.IntN(3); n > 0; n-- {
			m.Recipients = append(m.Recipients, fmt.Sprintf("r%d@%s", r.IntN(100000), domains[r.IntN(len(domains))]))
		}
		m.Frozen = r.IntN(50) == 0
		sub := dir
		if o.Split {
			sub = filepath.Join(dir, id[5:6])
			if err := os.MkdirAll(sub, 0o750); err != nil {
				return nil, err
			}
		}
		body := strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n", 1+r.IntN(40))
		if err := write(filepath.Join(sub, id+"-D"), []byte(id+"-D\n"+body), o); err != nil {
			return nil, err
		}
		if err := write(filepath.Join(sub, id+"-H"), header(m, t, strings.Count(body, "\n"), i), o); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func write(path string, b []byte, o Options) error {
	if err := os.WriteFile(path, b, 0o640); err != nil {
		return err
	}
	if o.UID >= 0 && o.GID >= 0 && (o.UID != 0 || o.GID != 0) {
		return os.Chown(path, o.UID, o.GID)
	}
	return nil
}

// header is the -H file, laid out as Exim 4.96 writes it for a locally submitted message.
func header(m Message, t time.Time, lines, i int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s-H\nroot 0 0\n<%s>\n%d 0\n", m.ID, m.Sender, t.Unix())
	fmt.Fprintf(&b, "-received_time_usec .%06d\n-received_time_complete %d.%06d\n", i%1000000, t.Unix(), (i+1)%1000000)
	b.WriteString("-ident root\n-received_protocol local\n")
	fmt.Fprintf(&b, "-body_linecount %d\n-max_received_linelength 58\n", lines)
	b.WriteString("-allow_unqualified_recipient\n-allow_unqualified_sender\n-deliver_firsttime\n")
	if m.Frozen {
		fmt.Fprintf(&b, "-frozen %d\n", t.Unix()+60)
	}
	b.WriteString("-tls_resumption A\nXX\n")
	fmt.Fprintf(&b, "%d\n", len(m.Recipients))
	for _, r := range m.Recipients {
		b.WriteString(r + "\n")
	}
	b.WriteString("\n")
	date := t.UTC().Format("Mon, 02 Jan 2006 15:04:05 +0000")
	hdr := func(flag byte, text string) { fmt.Fprintf(&b, "%03d%c %s", len(text), flag, text) }
	env := ""
	if m.Sender != "" {
		env = "\t(envelope-from <" + m.Sender + ">)\n"
	}
	hdr('P', "Received: from root by test.example with local (Exim 4.96)\n"+env+"\tid "+m.ID+";\n\t"+date+"\n")
	hdr(' ', fmt.Sprintf("Subject: message %d\n", i))
	hdr('I', "Message-Id: <E"+m.ID+"@test.example>\n")
	if m.Sender != "" {
		hdr('F', "From: "+m.Sender+"\n")
	}
	hdr(' ', "Date: "+date+"\n")
	return []byte(b.String())
}
