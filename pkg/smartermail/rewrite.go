package smartermail

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// The element names of domainList.xml are not documented for every version, so the
// rewrite does not rely on a schema: every attribute value and every text that is a path
// under the old Domains root is rewritten, in place, leaving every other byte of the file
// as it was (so the diff shows only the paths). The result is parsed again and compared
// value by value with the original before it may be installed.

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

func newXMLDecoder(data []byte) *xml.Decoder {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf-8", "utf8", "us-ascii", "ascii":
			return r, nil
		}
		return nil, fmt.Errorf("encoding %q is not supported (only UTF-8)", label)
	}
	return d
}

// xmlPathValues lists every attribute value and trimmed text of an XML document.
func xmlValues(data []byte) ([]string, error) {
	d := newXMLDecoder(bytes.TrimPrefix(data, utf8BOM))
	var out []string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			for _, a := range t.Attr {
				out = append(out, a.Value)
			}
		case xml.CharData:
			if s := strings.TrimSpace(string(t)); s != "" {
				out = append(out, s)
			}
		}
	}
}

// rewriteXML maps every path value of an XML document; n is how many it changed.
func rewriteXML(data []byte, m *PathMapper) (out []byte, n int, err error) {
	body := data
	var prefix []byte
	if bytes.HasPrefix(data, utf8BOM) {
		prefix, body = utf8BOM, data[3:]
	}
	d := newXMLDecoder(body)
	out = append(out, prefix...)
	var last int64
	for {
		start := d.InputOffset()
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("not well-formed XML: %w", err)
		}
		end := d.InputOffset()
		raw := body[start:end]
		out = append(out, body[last:start]...)
		last = end
		switch t := tok.(type) {
		case xml.CharData:
			if bytes.HasPrefix(raw, []byte("<![CDATA[")) {
				if v, ok := m.Map(string(t)); ok && !strings.Contains(v, "]]>") {
					out = append(out, "<![CDATA["+v+"]]>"...)
					n++
					continue
				}
			} else if v, ok := m.Map(string(t)); ok {
				out = append(out, escapeXML(v, 0)...)
				n++
				continue
			}
		case xml.StartElement:
			if r, k := rewriteAttrs(raw, t.Attr, m); k > 0 {
				out = append(out, r...)
				n += k
				continue
			}
		}
		out = append(out, raw...)
	}
	out = append(out, body[last:]...)
	if err := checkRewrite(data, out, m, xmlValues); err != nil {
		return nil, 0, err
	}
	return out, n, nil
}

// rewriteAttrs replaces attribute literals of one raw start tag. RawToken returns the
// attributes in the order they are written, so the i-th literal is attrs[i].
func rewriteAttrs(raw []byte, attrs []xml.Attr, m *PathMapper) ([]byte, int) {
	var out []byte
	n, i, last := 0, 0, 0
	for pos := 0; pos < len(raw) && i < len(attrs); pos++ {
		if raw[pos] != '=' {
			continue
		}
		q := pos + 1
		for q < len(raw) && (raw[q] == ' ' || raw[q] == '\t' || raw[q] == '\n' || raw[q] == '\r') {
			q++
		}
		if q >= len(raw) || raw[q] != '"' && raw[q] != '\'' {
			continue
		}
		closing := bytes.IndexByte(raw[q+1:], raw[q])
		if closing < 0 {
			break
		}
		valEnd := q + 1 + closing
		if v, ok := m.Map(attrs[i].Value); ok {
			out = append(out, raw[last:q+1]...)
			out = append(out, escapeXML(v, raw[q])...)
			last = valEnd
			n++
		}
		i++
		pos = valEnd
	}
	return append(out, raw[last:]...), n
}

// escapeXML escapes text (quote 0) or an attribute value quoted with quote. Unlike
// xml.EscapeText it leaves newlines and tabs alone, so surrounding layout is kept.
func escapeXML(s string, quote byte) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '&':
			b.WriteString("&amp;")
		case c == '<':
			b.WriteString("&lt;")
		case c == '>':
			b.WriteString("&gt;")
		case c == '"' && quote == '"':
			b.WriteString("&quot;")
		case c == '\'' && quote == '\'':
			b.WriteString("&apos;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// jsonValues lists every string value (not key) of a JSON document, in order.
func jsonValues(data []byte) ([]string, error) {
	var v any
	if err := json.Unmarshal(bytes.TrimPrefix(data, utf8BOM), &v); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	var out []string
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case string:
			out = append(out, t)
		case []any:
			for _, e := range t {
				walk(e)
			}
		case map[string]any:
			for _, k := range sortedMapKeys(t) {
				walk(t[k])
			}
		}
	}
	walk(v)
	return out, nil
}

// rewriteJSON maps every string value of a JSON document that is a path under the old
// root, re-encoding only those literals.
func rewriteJSON(data []byte, m *PathMapper) ([]byte, int, error) {
	if !json.Valid(bytes.TrimPrefix(data, utf8BOM)) {
		_, err := jsonValues(data)
		return nil, 0, err
	}
	var out []byte
	n, last := 0, 0
	for i := 0; i < len(data); i++ {
		if data[i] != '"' {
			continue
		}
		j := i + 1
		for j < len(data) && data[j] != '"' {
			if data[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(data) {
			break
		}
		lit := data[i : j+1]
		k := j + 1
		for k < len(data) && (data[k] == ' ' || data[k] == '\t' || data[k] == '\n' || data[k] == '\r') {
			k++
		}
		isKey := k < len(data) && data[k] == ':'
		if !isKey {
			var s string
			if json.Unmarshal(lit, &s) == nil {
				if v, ok := m.Map(s); ok {
					out = append(out, data[last:i]...)
					out = append(out, jsonString(v)...)
					last = j + 1
					n++
				}
			}
		}
		i = j
	}
	out = append(out, data[last:]...)
	if err := checkRewrite(data, out, m, jsonValues); err != nil {
		return nil, 0, err
	}
	return out, n, nil
}

func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// checkRewrite parses both documents and checks that exactly the path values changed, each
// to its mapped form.
func checkRewrite(old, new []byte, m *PathMapper, values func([]byte) ([]string, error)) error {
	a, err := values(old)
	if err != nil {
		return err
	}
	b, err := values(new)
	if err != nil {
		return fmt.Errorf("the rewritten file does not parse (%v): not installed", err)
	}
	if len(a) != len(b) {
		return fmt.Errorf("the rewritten file has %d values instead of %d: not installed", len(b), len(a))
	}
	for i := range a {
		want := a[i]
		if v, ok := m.Map(a[i]); ok {
			want = v
		}
		if strings.TrimSpace(b[i]) != strings.TrimSpace(want) {
			return fmt.Errorf("the rewritten file has %q where %q was expected: not installed", b[i], want)
		}
	}
	return nil
}

func sortedMapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}
