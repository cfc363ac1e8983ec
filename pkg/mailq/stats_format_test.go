package mailq

import (
	"strings"
	"testing"
)

// TestStatsTextNumbers: text output writes counts as everywhere else in hostfix (61,572),
// and singular nouns for 1.
func TestStatsTextNumbers(t *testing.T) {
	s := &Stats{Queue: "/var/qmail/queue", Messages: 61572, Unprocessed: 1200, Bytes: 123456789, Damaged: 1,
		Preprocessed: 60372, RecipientsRemote: 70001, Bounces: 1, OldestID: "1"}
	r := s.Check(DefaultConfig())
	for _, want := range []string{"61,572 messages in queue (1,200 not yet preprocessed), 123,456,789 bytes"} {
		if !strings.Contains(r.Summary, want) {
			t.Errorf("summary %q lacks %q", r.Summary, want)
		}
	}
	text := strings.Join(r.Details, "\n")
	for _, want := range []string{"60,372 preprocessed", "70,001 remote", "1 bounce pending"} {
		if !strings.Contains(text, want) {
			t.Errorf("details lack %q:\n%s", want, text)
		}
	}
	found := false
	for _, f := range r.Findings {
		found = found || strings.HasPrefix(f.Message, "1 damaged message ") || strings.Contains(f.Message, "61,572 messages in the queue (critical at 10,000)")
	}
	if !found {
		t.Errorf("findings: %+v", r.Findings)
	}
}
