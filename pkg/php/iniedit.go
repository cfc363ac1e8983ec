package php

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// SetIni returns data with the global directive key set to value, editing in place so
// that comments and layout stay: the last global statement of key (the one PHP keeps) is
// rewritten, keeping its indentation and a trailing comment; when there is none, a line
// is added after a commented-out example of it ("; max_input_vars = 1000", as Debian's and
// PHP's shipped php.ini have), else at the end of the global part (before the first
// [PATH=…] or [HOST=…] section, which would otherwise swallow it), else at the end.
// changed is false when the value is already what PHP would read.
func SetIni(data []byte, key, value string) (out []byte, changed bool, err error) {
	ds, err := ParseIni(data, nil)
	if err != nil {
		return nil, false, err
	}
	if d, ok := Last(ds, key); ok {
		if d.Value == value {
			return data, false, nil
		}
		return rewriteStatement(data, d, key, value), true, nil
	}
	lines := splitKeep(data)
	newLine := key + " = " + value
	// After a commented-out example in the global part.
	example := regexp.MustCompile(`^\s*[;#]+\s*` + regexp.QuoteMeta(key) + `\s*=`)
	limit := globalEnd(lines)
	for i := limit - 1; i >= 0; i-- {
		if example.MatchString(lines[i]) {
			return insertLine(lines, i+1, newLine), true, nil
		}
	}
	return insertLine(lines, limit, newLine), true, nil
}

// globalEnd is the index of the line where the global part ends: the blank and comment
// lines leading into the first [PATH=]/[HOST=] header, or len(lines).
func globalEnd(lines []string) int {
	for i, l := range lines {
		if scopedHeader.MatchString(l) {
			for i > 0 && isBlankOrComment(lines[i-1]) {
				i--
			}
			return i
		}
	}
	return len(lines)
}

// SetSectionIni rewrites the last statement named key inside section (a PHP-FPM pool's
// php_admin_value[max_input_vars]); it is an error when there is none.
func SetSectionIni(data []byte, section, key, value string) (out []byte, changed bool, err error) {
	ds, err := ParseIni(data, nil)
	if err != nil {
		return nil, false, err
	}
	for i := len(ds) - 1; i >= 0; i-- {
		d := ds[i]
		if d.Section == section && d.Key == key {
			if d.Value == value {
				return data, false, nil
			}
			return rewriteStatement(data, d, key, value), true, nil
		}
	}
	return nil, false, fmt.Errorf("no %s in [%s]", key, section)
}

var scopedHeader = regexp.MustCompile(`(?i)^\s*\[\s*(PATH|HOST)=`)

func splitKeep(data []byte) []string {
	var lines []string
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			lines = append(lines, string(data))
			break
		}
		lines = append(lines, string(data[:i+1]))
		data = data[i+1:]
	}
	return lines
}

// insertLine puts text as a new line before index at (0-based), handling a last line
// without a newline.
func insertLine(lines []string, at int, text string) []byte {
	var b strings.Builder
	for i, l := range lines {
		if i == at {
			b.WriteString(text + "\n")
		}
		b.WriteString(l)
		if i == len(lines)-1 && !strings.HasSuffix(l, "\n") && at > i {
			b.WriteString("\n")
		}
	}
	if at >= len(lines) {
		b.WriteString(text + "\n")
	}
	return []byte(b.String())
}

func isBlankOrComment(l string) bool {
	t := strings.TrimSpace(l)
	return t == "" || t[0] == ';' || t[0] == '#'
}

// rewriteStatement replaces the lines of d with "key = value", keeping the first line's
// indentation and, for a one-line statement, its trailing comment.
func rewriteStatement(data []byte, d Directive, key, value string) []byte {
	lines := splitKeep(data)
	first := lines[d.Line-1]
	indent := first[:len(first)-len(strings.TrimLeft(first, " \t"))]
	comment := ""
	if d.Line == d.EndLine {
		comment = trailingComment(strings.TrimRight(first, "\r\n"))
	}
	last := lines[d.EndLine-1]
	eol := "\n"
	if strings.HasSuffix(last, "\r\n") {
		eol = "\r\n"
	} else if !strings.HasSuffix(last, "\n") {
		eol = ""
	}
	repl := indent + key + " = " + value + comment + eol
	var b strings.Builder
	for i, l := range lines {
		switch {
		case i == d.Line-1:
			b.WriteString(repl)
		case i > d.Line-1 && i <= d.EndLine-1:
		default:
			b.WriteString(l)
		}
	}
	return []byte(b.String())
}

// trailingComment returns the " ; comment" part of a statement line (with the blanks
// before it), or "" — a ";" inside quotes is not a comment.
func trailingComment(line string) string {
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == ';':
			j := i
			for j > 0 && (line[j-1] == ' ' || line[j-1] == '\t') {
				j--
			}
			return line[j:]
		}
	}
	return ""
}

// IniValue formats v for a php.ini line: plain when PHP reads it back unchanged, else
// double-quoted.
func IniValue(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t;\"'${}=[]&|~!()^\\") {
		switch strings.ToLower(v) {
		case "on", "yes", "true", "off", "no", "false", "none", "null":
		default:
			return v
		}
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`).Replace(v) + `"`
}
