package check

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/hostfix/hostfix/pkg/iostreams"
)

// WriteJSON writes the check object of the output contract, one object and a newline.
func WriteJSON(w io.Writer, r *Result) error {
	r.Normalize()
	return iostreams.NewJSONEncoder(w).Encode(r)
}

// WriteText writes the human summary: status and summary, detail lines, then findings.
func WriteText(w io.Writer, r *Result, p iostreams.Palette) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", paintStatus(p, r.Status, r.Status.Upper()), r.Summary)
	for _, d := range r.Details {
		b.WriteString(d)
		b.WriteByte('\n')
	}
	if len(r.Findings) > 0 {
		b.WriteByte('\n')
	}
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "%s %s\n", paintStatus(p, f.Severity, "["+f.Severity.Upper()+"]"), f.Message)
		if f.Hint != "" {
			fmt.Fprintf(&b, "    %s %s\n", p.Dim("->"), f.Hint)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func paintStatus(p iostreams.Palette, s Status, text string) string {
	switch s {
	case OK:
		return p.Green(text)
	case Warning:
		return p.Yellow(text)
	case Critical:
		return p.Red(text)
	}
	return p.Bold(text)
}

// WriteNagios writes the plugin output: "NAME STATUS: summary | perfdata", then one line per
// finding (long output).
func WriteNagios(w io.Writer, r *Result) error {
	var b strings.Builder
	name := strings.ToUpper(strings.NewReplacer(" ", "_", ".", "_").Replace(r.Check))
	fmt.Fprintf(&b, "%s %s: %s", name, r.Status.Upper(), oneLine(r.Summary))
	if len(r.Perfdata) > 0 {
		b.WriteString(" |")
		for _, pd := range r.Perfdata {
			b.WriteByte(' ')
			b.WriteString(FormatPerf(pd))
		}
	}
	b.WriteByte('\n')
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "%s: %s\n", f.Severity.Upper(), oneLine(f.Message))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func oneLine(s string) string {
	// "|" starts perfdata for Nagios; keep it out of text.
	return strings.ReplaceAll(strings.ReplaceAll(s, "\n", " "), "|", "/")
}

// FormatPerf renders one perfdata item: 'label'=value[UOM];warn;crit;min;max, trailing empty
// fields dropped.
func FormatPerf(p Perf) string {
	label := p.Label
	if strings.ContainsAny(label, " ='") {
		label = "'" + strings.ReplaceAll(label, "'", "''") + "'"
	}
	val := "U"
	if !p.Unknown && !math.IsNaN(p.Value) {
		val = strconv.FormatFloat(p.Value, 'f', -1, 64) + p.UOM
	}
	fields := []string{val, p.Warn, p.Crit, p.Min, p.Max}
	for len(fields) > 1 && fields[len(fields)-1] == "" {
		fields = fields[:len(fields)-1]
	}
	return label + "=" + strings.Join(fields, ";")
}

// WritePrometheus writes samples in the text exposition format, grouped by metric name with
// one HELP and TYPE line each, in a stable order.
func WritePrometheus(w io.Writer, samples []Sample) error {
	order := []string{}
	byName := map[string][]Sample{}
	for _, s := range samples {
		if _, ok := byName[s.Name]; !ok {
			order = append(order, s.Name)
		}
		byName[s.Name] = append(byName[s.Name], s)
	}
	var b strings.Builder
	for _, name := range order {
		group := byName[name]
		if h := group[0].Help; h != "" {
			fmt.Fprintf(&b, "# HELP %s %s\n", name, escapeHelp(h))
		}
		typ := group[0].Type
		if typ == "" {
			typ = "gauge"
		}
		fmt.Fprintf(&b, "# TYPE %s %s\n", name, typ)
		for _, s := range group {
			b.WriteString(name)
			if len(s.Labels) > 0 {
				keys := make([]string, 0, len(s.Labels))
				for k := range s.Labels {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				b.WriteByte('{')
				for i, k := range keys {
					if i > 0 {
						b.WriteByte(',')
					}
					fmt.Fprintf(&b, "%s=\"%s\"", k, escapeLabel(s.Labels[k]))
				}
				b.WriteByte('}')
			}
			b.WriteByte(' ')
			b.WriteString(formatPromValue(s.Value))
			b.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func formatPromValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`).Replace(s)
}

// StatusSamples are the samples every check adds: its status as a number and one gauge per
// state, so alert rules need no magic numbers.
func StatusSamples(prefix string, r *Result) []Sample {
	return []Sample{{
		Name:   prefix + "_status",
		Help:   "Check status: 0 ok, 1 warning, 2 critical, 3 unknown.",
		Type:   "gauge",
		Labels: r.Instance,
		Value:  float64(r.Status),
	}}
}

// TextfileName is the textfile of a check's result: hostfix_NAME.prom, and with instance
// labels their values too, in the order of their keys (hostfix_smtpport_26.prom).
func TextfileName(name string, r *Result) string {
	s := "hostfix_" + name
	keys := make([]string, 0, len(r.Instance))
	for k := range r.Instance {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s += "_" + MetricPart(r.Instance[k])
	}
	return s + ".prom"
}

// MetricPart turns a name ("exim auth-check", a label value) into a part of a metric or
// textfile name: anything but letters, digits and _ becomes _.
func MetricPart(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// WriteTextfile writes samples to DIR/NAME for node_exporter's textfile collector
// atomically (a temp file in DIR, then rename), so the collector never reads half a file.
// The temp name does not end in .prom, so the collector never picks it up either.
// (renameio would do the same but does not build on Windows, where hostfix must build.)
func WriteTextfile(dir, name string, samples []Sample) error {
	var b strings.Builder
	if err := WritePrometheus(&b, samples); err != nil {
		return err
	}
	path := filepath.Join(dir, name)
	if err := WriteFileAtomic(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write textfile %s: %w", path, err)
	}
	return nil
}

// WriteFileAtomic writes a check's own output file (a textfile, a state file) through a
// temp file in the same directory, fsync and rename, so a reader sees the old or the new
// file, never half of one. Host configuration is never written this way: that goes
// through pkg/plan, with backups and a dry-run.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		// Say it about the directory, not about the temp name the user never chose.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		if fi, serr := os.Stat(dir); serr != nil && errors.Is(serr, fs.ErrNotExist) {
			return missingDirError(dir)
		} else if serr == nil && !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return fmt.Errorf("directory %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(mode); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// missingDirError says a directory to write into does not exist; errors.Is(err,
// fs.ErrNotExist) holds.
type missingDirError string

func (e missingDirError) Error() string        { return "directory " + string(e) + " does not exist" }
func (e missingDirError) Is(target error) bool { return target == fs.ErrNotExist }
