package mailq

import (
	"strconv"
	"strings"
	"time"
)

// State is where a message is in qmail's life cycle (qmail INTERNALS).
type State string

const (
	// StateInjecting: mess/ (and maybe intd/) only — qmail-queue is writing it or died
	// half way; qmail-send deletes such leftovers after 36 hours.
	StateInjecting State = "injecting"
	// StateQueued: in todo/, not yet preprocessed by qmail-send (qmail-qread does not list it).
	StateQueued State = "queued"
	// StatePreprocessed: info/ plus local/ and/or remote/ (and bounce/ when a bounce is due).
	StatePreprocessed State = "preprocessed"
	// StateDamaged is what `list` shows (text and JSON) for a message with Damaged reasons;
	// Message.State keeps the life-cycle state its files suggest.
	StateDamaged State = "damaged"
)

// Slot names one of the files a message can have.
type Slot uint8

const (
	SlotMess Slot = iota
	SlotInfo
	SlotLocal
	SlotRemote
	SlotTodo
	SlotIntd
	SlotBounce
	nSlots
)

var slotNames = [nSlots]string{"mess", "info", "local", "remote", "todo", "intd", "bounce"}

func (s Slot) String() string { return slotNames[s] }

// File is one file of a message, relative to the queue directory ("mess/3/1234").
type File struct {
	Slot Slot
	Rel  string
	Size int64
	// Regular is false for a symlink, directory, FIFO…: hostfix never removes those.
	Regular bool
}

// Message is one message in the queue. Bodies are never held: Size is the mess file size
// and Subject is read from the header part only when a filter asks for it.
type Message struct {
	ID    string
	State State
	// Sender is the envelope sender: "" for a bounce, "#@[]" for a double bounce. It is
	// unknown (SenderKnown false) when the envelope was not read or is damaged.
	Sender      string
	SenderKnown bool
	Recipients  []Recipient
	// Size is the size of mess/<id> in bytes.
	Size int64
	// Queued is the time the message entered the queue: info's mtime once preprocessed
	// (what qmail-send uses for queuelifetime), else todo's or mess's mtime.
	Queued time.Time
	// Bounce is set while a bounce is pending (bounce/<id> exists).
	Bounce bool
	// Subject is filled only when the scan was asked to read headers.
	Subject string
	// HeaderErr is why the header part could not be read when the scan was asked to:
	// a --subject filter cannot tell whether the message matches.
	HeaderErr string
	// Damaged lists what is wrong with the message's file set; empty for a sound message.
	Damaged []string
	Files   []File

	has    [nSlots]bool
	bucket int    // split directory the scan found it in
	name   string // the file name when it differs from ID (a misplaced file set: ID is "B/name")
}

// FileName is the name of the message's files in the queue: its ID, except for a file set
// found in the wrong split directory, whose ID is "B/name".
func (m *Message) FileName() string {
	if m.name != "" {
		return m.name
	}
	return m.ID
}

// Has reports whether the message has a file in the slot.
func (m *Message) Has(s Slot) bool { return m.has[s] }

// IsDamaged reports a broken or partial file set.
func (m *Message) IsDamaged() bool { return len(m.Damaged) > 0 }

// Pending counts recipients still to be delivered.
func (m *Message) Pending() int {
	n := 0
	for _, r := range m.Recipients {
		if !r.Done {
			n++
		}
	}
	return n
}

// StateText is the state with markers, for the list table.
func (m *Message) StateText() string {
	s := string(m.State)
	if m.Bounce {
		s += "+bounce"
	}
	if m.IsDamaged() {
		s = "damaged"
	}
	return s
}

// SenderText shows the sender as qmail-qread does: <> for a bounce.
func (m *Message) SenderText() string {
	switch {
	case !m.SenderKnown:
		return "?"
	case m.Sender == "":
		return "<>"
	}
	return m.Sender
}

// MessageJSON is one line of `mailq list -o json`.
type MessageJSON struct {
	ID         string      `json:"id"`
	State      State       `json:"state"`
	Queued     time.Time   `json:"queued"`
	AgeSeconds int64       `json:"age_seconds"`
	Size       int64       `json:"size"`
	Sender     *string     `json:"sender"`
	Recipients []Recipient `json:"recipients"`
	Bounce     bool        `json:"bounce_pending"`
	Subject    *string     `json:"subject,omitempty"`
	Damaged    []string    `json:"damaged"`
	Files      []string    `json:"files"`
}

// JSON is the message's object in the list contract (docs/mailq.md).
func (m *Message) JSON(now time.Time, withSubject bool) MessageJSON {
	// Whole seconds: jq's fromdateiso8601 does not take fractions.
	j := MessageJSON{ID: m.ID, State: m.State, Queued: m.Queued.UTC().Truncate(time.Second), Size: m.Size,
		Recipients: m.Recipients, Bounce: m.Bounce, Damaged: m.Damaged, Files: make([]string, 0, len(m.Files))}
	if !m.Queued.IsZero() {
		j.AgeSeconds = int64(now.Sub(m.Queued).Seconds())
	}
	if m.SenderKnown {
		s := m.Sender
		j.Sender = &s
	}
	if withSubject {
		s := m.Subject
		j.Subject = &s
	}
	if m.IsDamaged() {
		j.State = StateDamaged
	}
	if j.Recipients == nil {
		j.Recipients = []Recipient{}
	}
	if j.Damaged == nil {
		j.Damaged = []string{}
	}
	for _, f := range m.Files {
		j.Files = append(j.Files, f.Rel)
	}
	return j
}

// idLess orders ids numerically (qmail ids are inode numbers), odd names last.
func idLess(a, b string) bool {
	na, ea := strconv.ParseUint(a, 10, 64)
	nb, eb := strconv.ParseUint(b, 10, 64)
	switch {
	case ea == nil && eb == nil:
		return na < nb
	case ea == nil:
		return true
	case eb == nil:
		return false
	}
	return strings.Compare(a, b) < 0
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

func parseID(id string) (uint64, error) { return strconv.ParseUint(id, 10, 64) }
