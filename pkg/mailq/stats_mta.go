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

// QueueStats summarises an Exim or Postfix queue: the same check contract as the qmail
// Stats (messages, age, bytes, recipients, top senders and domains) with the states these
// MTAs have (Exim: queued, frozen; Postfix: its queue names).
type QueueStats struct {
	MTA               string         `json:"mta"`
	Queue             string         `json:"queue"`
	Messages          int            `json:"messages"`
	States            map[string]int `json:"states"`
	RecipientsPending int            `json:"recipients_pending"`
	RecipientsDone    int            `json:"recipients_done"`
	Bytes             int64          `json:"bytes"`
	Damaged           int            `json:"damaged"`
	OldestID          string         `json:"oldest_id,omitempty"`
	OldestAgeSeconds  float64        `json:"oldest_age_seconds"`
	TopSenders        []Count        `json:"top_senders"`
	TopDomains        []Count        `json:"top_recipient_domains"`
}

// CollectQueueStats scans an Exim or Postfix queue once (envelopes only).
func CollectQueueStats(ctx context.Context, src Source, now time.Time) (*QueueStats, error) {
	s := &QueueStats{MTA: src.MTA(), Queue: src.Location(), States: map[string]int{}}
	var shadow Stats
	senders, domains := map[string]int{}, map[string]int{}
	err := src.Scan(ctx, ScanOptions{Envelope: true}, func(m *Message) error {
		shadow.Add(m, senders, domains)
		s.States[string(m.State)]++
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.Messages, s.Bytes, s.Damaged = shadow.Messages, shadow.Bytes, shadow.Damaged
	s.RecipientsPending, s.RecipientsDone = shadow.RecipientsPending, shadow.RecipientsDone
	s.OldestID = shadow.OldestID
	if !shadow.oldest.IsZero() {
		s.OldestAgeSeconds = now.Sub(shadow.oldest).Seconds()
	}
	s.TopSenders, s.TopDomains = top(senders, 10), top(domains, 10)
	return s, nil
}

// Check turns the statistics into the "mailq" check with the qmail check's thresholds:
// mailq.warn_messages / crit_messages, warn_age / crit_age; frozen (Exim) and held
// (Postfix) messages are reported, damaged ones warn.
func (s *QueueStats) Check(cfg Config) *check.Result {
	r := &check.Result{Check: "mailq", Status: check.OK}
	oldest := time.Duration(s.OldestAgeSeconds * float64(time.Second))
	stuck := s.States[string(StateFrozen)] + s.States["hold"]
	stuckName := map[string]string{MTAExim: "frozen", MTAPostfix: "on hold"}[s.MTA]
	r.Summary = fmt.Sprintf("%s in the %s queue (%s %s), %s, oldest %s", human.Plural(s.Messages, "message"), s.MTA, human.Count(stuck), stuckName, human.Plural(s.Bytes, "byte"), FormatAge(oldest))
	if s.Messages == 0 {
		r.Summary = s.MTA + " queue is empty"
	}
	addThresholdFindings(r, cfg, s.Messages, oldest, s.OldestID, "see why it is not delivered: hostfix mailq show "+s.OldestID)
	if s.Damaged > 0 {
		r.Add(check.Warning, fmt.Sprintf("%s (spool files missing or unreadable)", human.Plural(s.Damaged, "damaged message")),
			"inspect: hostfix mailq list --damaged (a message being delivered during the scan can show up here once)")
	}
	states := make([]string, 0, len(s.States))
	for k := range s.States {
		states = append(states, k)
	}
	sort.Strings(states)
	r.Metrics = map[string]any{
		"mta": s.MTA, "queue": s.Queue, "messages": s.Messages, "states": s.States,
		"recipients_pending": s.RecipientsPending, "recipients_done": s.RecipientsDone, "bytes": s.Bytes,
		"damaged": s.Damaged, "oldest_age_seconds": int64(s.OldestAgeSeconds), "oldest_id": s.OldestID,
		"top_senders": s.TopSenders, "top_recipient_domains": s.TopDomains,
	}
	r.Perfdata = []check.Perf{
		{Label: "messages", Value: float64(s.Messages), Warn: perfThreshold(cfg.WarnMessages), Crit: perfThreshold(cfg.CritMessages), Min: "0"},
	}
	for _, st := range states {
		r.Perfdata = append(r.Perfdata, check.Perf{Label: st, Value: float64(s.States[st]), Min: "0"})
	}
	r.Perfdata = append(r.Perfdata,
		check.Perf{Label: "recipients_pending", Value: float64(s.RecipientsPending), Min: "0"},
		check.Perf{Label: "damaged", Value: float64(s.Damaged), Min: "0"},
		check.Perf{Label: "bytes", Value: float64(s.Bytes), UOM: "B", Min: "0"},
		check.Perf{Label: "oldest_age", Value: float64(int64(s.OldestAgeSeconds)), UOM: "s", Warn: perfThresholdAge(cfg.WarnAge), Crit: perfThresholdAge(cfg.CritAge), Min: "0"},
	)
	g := func(name, help string, v float64, labels map[string]string) check.Sample {
		if labels == nil {
			labels = map[string]string{}
		}
		labels["mta"] = s.MTA
		return check.Sample{Name: "hostfix_mailq_" + name, Help: help, Type: "gauge", Value: v, Labels: labels}
	}
	r.Samples = []check.Sample{g("messages", "Messages in the mail queue.", float64(s.Messages), nil)}
	for _, st := range states {
		r.Samples = append(r.Samples, g("messages_by_state", "Messages in the mail queue by state (Exim: queued, frozen; Postfix: queue name).", float64(s.States[st]), map[string]string{"state": st}))
	}
	r.Samples = append(r.Samples,
		g("recipients_pending", "Recipients not yet delivered.", float64(s.RecipientsPending), nil),
		g("damaged_messages", "Messages with missing or unreadable spool files.", float64(s.Damaged), nil),
		g("bytes", "Size of all queued messages in bytes.", float64(s.Bytes), nil),
		g("oldest_message_age_seconds", "Age of the oldest message in the queue.", float64(int64(s.OldestAgeSeconds)), nil),
	)
	if s.Messages > 0 {
		var parts []string
		for _, st := range states {
			parts = append(parts, human.Count(s.States[st])+" "+st)
		}
		r.Details = append(r.Details, fmt.Sprintf("%s queue %s: %s; %s damaged", s.MTA, s.Queue, strings.Join(parts, ", "), human.Count(s.Damaged)))
		r.Details = append(r.Details, fmt.Sprintf("recipients: %s pending, %s done", human.Count(s.RecipientsPending), human.Count(s.RecipientsDone)))
		r.Details = append(r.Details, topDetails(s.TopSenders, s.TopDomains)...)
	}
	return r
}
