package mailq

import (
	"fmt"
	"time"

	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/human"
)

// The parts of the "mailq" check that the qmail check (Stats.Check) and the Exim and
// Postfix check (QueueStats.Check) share: the same thresholds, findings, perfdata
// thresholds and top lists, so both queues are judged and shown alike.

// addThresholdFindings adds the message-count and oldest-age findings
// (mailq.warn_messages / crit_messages, warn_age / crit_age; 0 disables one). oldestName is
// how the oldest message is named ("#123" on qmail, the id on Exim and Postfix) and
// oldestHint the command that shows why it waits.
func addThresholdFindings(r *check.Result, cfg Config, messages int, oldest time.Duration, oldestName, oldestHint string) {
	const fix = "see who sends them: hostfix mailq stats; remove spam: hostfix mailq purge --sender RE --dry-run"
	switch {
	case cfg.CritMessages > 0 && messages >= cfg.CritMessages:
		r.Add(check.Critical, fmt.Sprintf("%s in the queue (critical at %s)", human.Plural(messages, "message"), human.Count(cfg.CritMessages)), fix)
	case cfg.WarnMessages > 0 && messages >= cfg.WarnMessages:
		r.Add(check.Warning, fmt.Sprintf("%s in the queue (warning at %s)", human.Plural(messages, "message"), human.Count(cfg.WarnMessages)), fix)
	}
	switch {
	case cfg.CritAge > 0 && messages > 0 && oldest >= cfg.CritAge:
		r.Add(check.Critical, fmt.Sprintf("oldest message %s has waited %s (critical at %s)", oldestName, FormatAge(oldest), FormatAge(cfg.CritAge)), oldestHint)
	case cfg.WarnAge > 0 && messages > 0 && oldest >= cfg.WarnAge:
		r.Add(check.Warning, fmt.Sprintf("oldest message %s has waited %s (warning at %s)", oldestName, FormatAge(oldest), FormatAge(cfg.WarnAge)), oldestHint)
	}
}

// perfThreshold is a count threshold for Nagios perfdata ("" when off).
func perfThreshold(v int) string {
	if v <= 0 {
		return ""
	}
	return fmt.Sprint(v)
}

// perfThresholdAge is an age threshold in seconds for Nagios perfdata ("" when off).
func perfThresholdAge(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return fmt.Sprint(int64(d.Seconds()))
}

// topDetails are the text lines of the top senders and recipient domains.
func topDetails(senders, domains []Count) []string {
	var out []string
	for _, l := range []struct {
		title string
		list  []Count
	}{{"top senders:", senders}, {"top recipient domains (pending):", domains}} {
		if len(l.list) == 0 {
			continue
		}
		out = append(out, l.title)
		for _, c := range l.list {
			out = append(out, fmt.Sprintf("  %9s  %s", human.Count(c.Count), c.Name))
		}
	}
	return out
}
