package iostreams

import (
	"encoding/json"
	"io"
)

// NewJSONEncoder is the one JSON encoder of every hostfix output (docs/output.md): objects
// indented by two spaces, and "<", ">" and "&" written as they are, so senders such as
// "<>" and details such as "a -> b" read the same in jq as in text.
func NewJSONEncoder(w io.Writer) *json.Encoder {
	enc := NewJSONLineEncoder(w)
	enc.SetIndent("", "  ")
	return enc
}

// NewJSONLineEncoder is NewJSONEncoder without indentation: one object per line, for
// NDJSON listings and the error object on stderr.
func NewJSONLineEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}
