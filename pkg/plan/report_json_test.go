package plan

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// The change object is read by people piping into jq as often as by programs: a detail
// such as "<spam@x> -> rcpt" must come out as written, and still be valid JSON.
func TestWriteJSONDoesNotEscapeHTML(t *testing.T) {
	r := &Report{Command: "mailq purge", Actions: []ActionResult{{Kind: KindRemoveFiles, Detail: "<spam@x> -> a&b"}}}
	var b bytes.Buffer
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"detail": "<spam@x> -> a&b"`) {
		t.Fatalf("detail escaped or missing:\n%s", b.String())
	}
	var back Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back.Actions[0].Detail != "<spam@x> -> a&b" {
		t.Fatalf("round trip: %v %+v", err, back)
	}
}
