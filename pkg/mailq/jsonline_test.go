package mailq

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func encodingJSON(t testing.TB, j MessageJSON) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(j); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	s, subj := "spam@x.example", "Grüße <&> \"q\" \\ \n\t\r \x01 \u2028 \xff end"
	for _, j := range []MessageJSON{
		{ID: "1", State: StateQueued, Queued: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), Recipients: []Recipient{}, Damaged: []string{}, Files: []string{}, MTA: "qmail"},
		{ID: "1xYJxi-0005hB-0f", State: StateFrozen, Queued: time.Date(2026, 12, 1, 9, 0, 0, 5, time.UTC), AgeSeconds: 42, Size: 301, Sender: &s,
			Recipients: []Recipient{{Address: "a@b", Channel: "remote", Done: true}, {Address: "c\"d@e"}}, Bounce: true, Subject: &subj,
			Damaged: []string{"no -D file"}, Files: []string{"t/x-H", "t/x-D"}, MTA: "exim"},
		{ID: "x", Queued: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)}, // nil slices are null
	} {
		if got, want := string(j.AppendJSON(nil)), encodingJSON(t, j); got != want {
			t.Errorf("AppendJSON:\n%s\nencoding/json:\n%s", got, want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("plain", "spam@x", "a@b")
	f.Add("\x00\x1f\"\\\u2028\u2029\xff\xfe", "<>&", "é")
	f.Fuzz(func(t *testing.T, id, sender, rcpt string) {
		j := MessageJSON{ID: id, Sender: &sender, Recipients: []Recipient{{Address: rcpt}}, Damaged: []string{id}, Files: []string{rcpt}}
		if got, want := string(j.AppendJSON(nil)), encodingJSON(t, j); got != want {
			t.Fatalf("AppendJSON:\n%q\nencoding/json:\n%q", got, want)
		}
	})
}
