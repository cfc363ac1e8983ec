package mailq

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/human"
)

// Count is one entry of a top list.
type Count struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// Stats summarises a queue (what qmail-qstat and qmHandle -s say, and more).
type Stats struct {
	Queue        string `json:"queue"`
	Split        int    `json:"split"`
	BigTodo      bool   `json:"big_todo"`
	Messages     int    `json:"messages"`
	Unprocessed  int    `json:"unpreprocessed"` // in todo/ (qmail-qstat's "not yet preprocessed")
	Injecting    int    `json:"injecting"`      // qmail-queue still writing, or died half way
	Preprocessed int    `json:"preprocessed"`
	// Recipients still to be delivered, by channel; RecipientsUnprocessed are those of
	// messages still in todo/ (channel not decided yet); RecipientsDone are D records.
	RecipientsLocal       int     `json:"recipients_local"`
	RecipientsRemote      int     `json:"recipients_remote"`
	RecipientsUnprocessed int     `json:"recipients_unprocessed"`
	RecipientsPending     int     `json:"recipients_pending"`
	RecipientsDone        int     `json:"recipients_done"`
	Bounces               int     `json:"bounces_pending"`
	Bytes                 int64   `json:"bytes"`
	Damaged               int     `json:"damaged"`
	OldestID              string  `json:"oldest_id,omitempty"`
	OldestAgeSeconds      float64 `json:"oldest_age_seconds"`
	TopSenders            []Count `json:"top_senders"`
	TopDomains            []Count `json:"top_recipient_domains"`

	oldest time.Time
}

// CollectStats scans the whole queue once (envelopes, no bodies).
func CollectStats(ctx context.Context, q *Queue, now time.Time) (*Stats, error) {
	s := &Stats{Queue: q.Dir, Split: q.Split, BigTodo: q.BigTodo}
	senders := map[string]int{}
	domains := map[string]int{}
	err := q.Scan(ctx, ScanOptions{Envelope: true}, func(m *Message) error {
		s.Add(m, senders, domains)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.TopSenders = top(senders, 10)
	s.TopDomains = top(domains, 10)
	if !s.oldest.IsZero() {
		s.OldestAgeSeconds = now.Sub(s.oldest).Seconds()
	}
	return s, nil
}

// Add counts one message; senders and domains collect the top lists.
func (s *Stats) Add(m *Message, senders, domains map[string]int) {
	s.Messages++
	if m.IsDamaged() {
		s.Damaged++
	}
	switch m.State {
	case StateQueued:
		s.Unprocessed++
	case StateInjecting:
		s.Injecting++
	case StatePreprocessed:
		s.Preprocessed++
	}
	if m.Bounce {
		s.Bounces++
	}
	s.Bytes += m.Size
	if m.SenderKnown {
		senders[m.SenderText()]++
	}
	for _, r := range m.Recipients {
		if r.Done {
			s.RecipientsDone++
			continue
		}
		s.RecipientsPending++
		switch r.Channel {
		case "local":
			s.RecipientsLocal++
		case "remote":
			s.RecipientsRemote++
		default:
			s.RecipientsUnprocessed++
		}
		d := r.Address
		if i := strings.LastIndexByte(d, '@'); i >= 0 {
			d = d[i+1:]
		}
		domains[strings.ToLower(d)]++
	}
	if !m.Queued.IsZero() && (s.oldest.IsZero() || m.Queued.Before(s.oldest)) {
		s.oldest, s.OldestID = m.Queued, m.ID
	}
}

func top(m map[string]int, n int) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Name < out[j].Name
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// Check turns the statistics into the "mailq" check: thresholds on the number of messages
// and the age of the oldest one (0 disables a threshold); damaged messages warn.
func (s *Stats) Check(cfg Config) *check.Result {
	r := &check.Result{Check: "mailq", Status: check.OK}
	oldest := time.Duration(s.OldestAgeSeconds * float64(time.Second))
	r.Summary = fmt.Sprintf("%s in queue (%s not yet preprocessed), %s, oldest %s",
		human.Plural(s.Messages, "message"), human.Count(s.Unprocessed), human.Plural(s.Bytes, "byte"), FormatAge(oldest))
	if s.Messages == 0 {
		r.Summary = "queue is empty"
	}
	addThresholdFindings(r, cfg, s.Messages, oldest, "#"+s.OldestID, "see why it is not delivered: hostfix mailq list --id "+s.OldestID)
	if s.Damaged > 0 {
		r.Add(check.Warning, fmt.Sprintf("%s (partial file sets)", human.Plural(s.Damaged, "damaged message")),
			"inspect: hostfix mailq list --damaged; remove: hostfix mailq purge --damaged --dry-run (a message being delivered during the scan can show up here once)")
	}
	r.Metrics = map[string]any{
		"queue": s.Queue, "split": s.Split, "big_todo": s.BigTodo,
		"messages": s.Messages, "unpreprocessed": s.Unprocessed, "injecting": s.Injecting, "preprocessed": s.Preprocessed,
		"recipients_local": s.RecipientsLocal, "recipients_remote": s.RecipientsRemote,
		"recipients_unprocessed": s.RecipientsUnprocessed, "recipients_pending": s.RecipientsPending,
		"recipients_done": s.RecipientsDone, "bounces_pending": s.Bounces, "bytes": s.Bytes,
		"damaged": s.Damaged, "oldest_age_seconds": int64(s.OldestAgeSeconds), "oldest_id": s.OldestID,
		"top_senders": s.TopSenders, "top_recipient_domains": s.TopDomains,
	}
	r.Perfdata = []check.Perf{
		{Label: "messages", Value: float64(s.Messages), Warn: perfThreshold(cfg.WarnMessages), Crit: perfThreshold(cfg.CritMessages), Min: "0"},
		{Label: "unpreprocessed", Value: float64(s.Unprocessed), Min: "0"},
		{Label: "recipients_local", Value: float64(s.RecipientsLocal), Min: "0"},
		{Label: "recipients_remote", Value: float64(s.RecipientsRemote), Min: "0"},
		{Label: "bounces", Value: float64(s.Bounces), Min: "0"},
		{Label: "damaged", Value: float64(s.Damaged), Min: "0"},
		{Label: "bytes", Value: float64(s.Bytes), UOM: "B", Min: "0"},
		{Label: "oldest_age", Value: float64(int64(s.OldestAgeSeconds)), UOM: "s", Warn: perfThresholdAge(cfg.WarnAge), Crit: perfThresholdAge(cfg.CritAge), Min: "0"},
	}
	g := func(name, help string, v float64, labels map[string]string) check.Sample {
		return check.Sample{Name: "hostfix_mailq_" + name, Help: help, Type: "gauge", Value: v, Labels: labels}
	}
	rcptHelp := "Recipients not yet delivered, by channel (unprocessed: message still in todo/)."
	r.Samples = []check.Sample{
		g("messages", "Messages in the qmail queue.", float64(s.Messages), nil),
		g("unpreprocessed_messages", "Messages in todo/, not yet preprocessed by qmail-send.", float64(s.Unprocessed), nil),
		g("recipients", rcptHelp, float64(s.RecipientsLocal), map[string]string{"channel": "local"}),
		g("recipients", rcptHelp, float64(s.RecipientsRemote), map[string]string{"channel": "remote"}),
		g("recipients", rcptHelp, float64(s.RecipientsUnprocessed), map[string]string{"channel": "unprocessed"}),
		g("bounces_pending", "Messages with a bounce pending (bounce/).", float64(s.Bounces), nil),
		g("damaged_messages", "Messages with a broken or partial file set.", float64(s.Damaged), nil),
		g("bytes", "Size of all queued messages (mess/ files) in bytes.", float64(s.Bytes), nil),
		g("oldest_message_age_seconds", "Age of the oldest message in the queue.", float64(int64(s.OldestAgeSeconds)), nil),
	}
	if s.Messages > 0 {
		c := human.Count[int]
		r.Details = append(r.Details, fmt.Sprintf("queue %s: %s preprocessed, %s not yet preprocessed, %s being injected, %s damaged",
			s.Queue, c(s.Preprocessed), c(s.Unprocessed), c(s.Injecting), c(s.Damaged)))
		r.Details = append(r.Details, fmt.Sprintf("recipients pending: %s local, %s remote, %s unprocessed; %s done; %s pending",
			c(s.RecipientsLocal), c(s.RecipientsRemote), c(s.RecipientsUnprocessed), c(s.RecipientsDone), human.Plural(s.Bounces, "bounce")))
		r.Details = append(r.Details, topDetails(s.TopSenders, s.TopDomains)...)
	}
	return r
}
