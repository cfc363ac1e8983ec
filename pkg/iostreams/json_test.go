package iostreams

import (
	"bytes"
	"testing"
)

func TestJSONEncoderKeepsHTMLCharacters(t *testing.T) {
	var b bytes.Buffer
	if err := NewJSONEncoder(&b).Encode(map[string]string{"a": "<> -> &"}); err != nil {
		t.Fatal(err)
	}
	if want := "{\n  \"a\": \"<> -> &\"\n}\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
	b.Reset()
	if err := NewJSONLineEncoder(&b).Encode(map[string]string{"a": "<>"}); err != nil {
		t.Fatal(err)
	}
	if want := "{\"a\":\"<>\"}\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
