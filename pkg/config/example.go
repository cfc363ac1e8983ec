package config

import (
	"bytes"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

const exampleHeader = `# hostfix configuration: /etc/hostfix/config.yaml
#
# Every setting is listed with its built-in default, commented out. To change one,
# uncomment it and the section line above it. Precedence, strongest first: a command's
# flag, the environment variable HOSTFIX_<SECTION>_<KEY> (for example
# HOSTFIX_SYNFLOOD_INTERVAL=5s), this file, the built-in default. An unknown key or a
# value of the wrong type is an error naming this file and the line.
# Durations take a unit: 500ms, 30s, 2m, 24h. Commands are lists of words (an argv; no
# shell is involved). Paths are as on the host; hostfix resolves them under --root.
#
# "hostfix config show" prints the effective values and where each one came from.
#
# This file is generated from the defaults in the source:
#   go test ./pkg/config -run TestExampleConfig -update
`

// Example renders the example configuration file: every key with its default and the
// doc comment given in docs (key -> text; missing keys get none). With commented, every
// setting line is commented out, so the file as shipped changes nothing.
func Example(docs map[string]string, commented bool) []byte {
	var b bytes.Buffer
	b.WriteString(exampleHeader)
	defaults := flatten(reflect.ValueOf(Default()), "")
	section := ""
	prefix := ""
	if commented {
		prefix = "#"
	}
	for _, f := range Fields() {
		sec, leaf := f.Key[:strings.LastIndex(f.Key, ".")], f.Key[strings.LastIndex(f.Key, ".")+1:]
		if sec != section {
			// Nested sections (a.b.c) are written as one mapping per level.
			b.WriteString("\n")
			common := commonPrefix(section, sec)
			parts := strings.Split(sec, ".")
			for i := common; i < len(parts); i++ {
				fmt.Fprintf(&b, "%s%s%s:\n", prefix, strings.Repeat("  ", i), parts[i])
			}
			section = sec
		}
		indent := strings.Repeat("  ", strings.Count(f.Key, "."))
		if doc := strings.TrimSpace(docs[f.Key]); doc != "" {
			for _, line := range wrap(doc, 88-len(indent)) {
				fmt.Fprintf(&b, "%s%s# %s\n", prefix, indent, line)
			}
		}
		fmt.Fprintf(&b, "%s%s%s: %s\n", prefix, indent, leaf, yamlScalar(defaults[f.Key]))
	}
	return b.Bytes()
}

// commonPrefix is how many leading dotted parts two section names share.
func commonPrefix(a, b string) int {
	if a == "" {
		return 0
	}
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	n := 0
	for n < len(pa) && n < len(pb) && pa[n] == pb[n] {
		n++
	}
	return n
}

// yamlScalar renders one value in YAML flow style (lists on one line).
func yamlScalar(v any) string {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	if n.Kind == yaml.SequenceNode {
		n.Style = yaml.FlowStyle
	}
	out, err := yaml.Marshal(&n)
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(string(out))
}

var goName = regexp.MustCompile(`\b[A-Z][A-Za-z0-9]*\b`)

// DocText turns a Go field comment into config-file prose: the struct's Go field names
// become their config keys ("ProbeWarn and ProbeCrit are" -> "probe_warn and probe_crit
// are").
func DocText(comment string, fieldKeys map[string]string) string {
	text := strings.Join(strings.Fields(comment), " ")
	return goName.ReplaceAllStringFunc(text, func(w string) string {
		if k, ok := fieldKeys[w]; ok {
			return k
		}
		return w
	})
}

func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
