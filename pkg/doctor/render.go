package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/iostreams"
)

// WriteText writes one table: check, status, summary; skipped checks last, with why.
func WriteText(w io.Writer, out []Outcome, p iostreams.Palette) error {
	worst := Worst(out)
	ran, skipped := 0, 0
	counts := map[check.Status]int{}
	for _, o := range out {
		if o.Result == nil {
			skipped++
			continue
		}
		ran++
		counts[o.Result.Status]++
	}
	fmt.Fprintf(w, "%s %s\n", paint(p, worst, worst.Upper()), summaryLine(ran, skipped, counts))
	// STATUS is padded here, on the plain word, and the rest of the line is tabwriter's last
	// cell: colour escapes in a cell it aligns would count as width and shift the columns.
	width := len("STATUS")
	for _, o := range out {
		if o.Result != nil {
			width = max(width, len(o.Result.Status.Upper()))
		} else {
			width = max(width, len("SKIPPED"))
		}
	}
	cell := func(word, painted, rest string) string {
		return painted + strings.Repeat(" ", width-len(word)+2) + rest
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "CHECK\t%s\n", cell("STATUS", "STATUS", "SUMMARY"))
	for _, o := range out {
		if o.Result == nil {
			continue
		}
		word := o.Result.Status.Upper()
		fmt.Fprintf(tw, "%s\t%s\n", o.Name, cell(word, paint(p, o.Result.Status, word), oneLine(o.Result.Summary)))
	}
	for _, o := range out {
		if o.Result == nil {
			fmt.Fprintf(tw, "%s\t%s\n", o.Name, cell("SKIPPED", "SKIPPED", oneLine(o.Why)))
		}
	}
	return tw.Flush()
}

func summaryLine(ran, skipped int, counts map[check.Status]int) string {
	var parts []string
	for _, s := range []check.Status{check.Critical, check.Unknown, check.Warning, check.OK} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	line := fmt.Sprintf("%d %s ran", ran, plural(ran, "check"))
	if len(parts) > 0 {
		line += ": " + strings.Join(parts, ", ")
	}
	if skipped > 0 {
		line += fmt.Sprintf("; %d skipped (not on this host)", skipped)
	}
	return line
}

func plural(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}

func paint(p iostreams.Palette, s check.Status, text string) string {
	switch s {
	case check.OK:
		return p.Green(text)
	case check.Warning:
		return p.Yellow(text)
	case check.Critical:
		return p.Red(text)
	}
	return p.Bold(text)
}

func oneLine(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\n", " "), "|", "/")
}

// WriteJSON writes the check objects of the checks that ran as one JSON array (the same
// objects each check prints on its own with -o json).
func WriteJSON(w io.Writer, out []Outcome) error {
	rs := Ran(out)
	if rs == nil {
		rs = []*check.Result{}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(rs)
}

// WriteNagios writes one plugin line for the whole host, "DOCTOR STATUS: summary | perfdata",
// with each check's status and its own perfdata labelled CHECK::LABEL (the check_multi
// convention), then one long-output line per check.
func WriteNagios(w io.Writer, out []Outcome) error {
	worst := Worst(out)
	var b strings.Builder
	var bad []string
	counts := map[check.Status]int{}
	ran, skipped := 0, 0
	for _, o := range out {
		if o.Result == nil {
			skipped++
			continue
		}
		ran++
		counts[o.Result.Status]++
		if o.Result.Status != check.OK {
			bad = append(bad, o.Name+" "+o.Result.Status.Upper())
		}
	}
	fmt.Fprintf(&b, "DOCTOR %s: %s", worst.Upper(), summaryLine(ran, skipped, counts))
	if len(bad) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(bad, ", "))
	}
	var perf []string
	for _, o := range out {
		if o.Result == nil {
			continue
		}
		perf = append(perf, check.FormatPerf(check.Perf{Label: o.Name + "::status", Value: float64(o.Result.Status), Min: "0", Max: "3"}))
		for _, pd := range o.Result.Perfdata {
			pd.Label = o.Name + "::" + pd.Label
			perf = append(perf, check.FormatPerf(pd))
		}
	}
	if len(perf) > 0 {
		b.WriteString(" | ")
		b.WriteString(strings.Join(perf, " "))
	}
	b.WriteByte('\n')
	for _, o := range out {
		if o.Result == nil {
			continue
		}
		fmt.Fprintf(&b, "%s %s: %s\n", o.Name, o.Result.Status.Upper(), oneLine(o.Result.Summary))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// PromFiles returns the Prometheus textfiles of a doctor run: one per check that ran
// (check.TextfileName: hostfix_<name>.prom, the file and samples the check writes on its own) and hostfix_doctor.prom
// with hostfix_doctor_check_status{check=…} and the duration of every check.
func PromFiles(out []Outcome) (names []string, files map[string][]check.Sample) {
	files = map[string][]check.Sample{}
	var doctor []check.Sample
	for _, o := range out {
		if o.Result == nil {
			doctor = append(doctor, check.Sample{
				Name: "hostfix_doctor_check_applies", Help: "1 when the check applies to this host and ran, 0 when doctor skipped it.",
				Type: "gauge", Labels: map[string]string{"check": o.Name}, Value: 0,
			})
			continue
		}
		prefix := "hostfix_" + check.MetricPart(o.Name)
		name := check.TextfileName(check.MetricPart(o.Name), o.Result)
		names = append(names, name)
		files[name] = append(check.StatusSamples(prefix, o.Result), o.Result.Samples...)
		doctor = append(doctor,
			check.Sample{Name: "hostfix_doctor_check_applies", Help: "1 when the check applies to this host and ran, 0 when doctor skipped it.",
				Type: "gauge", Labels: map[string]string{"check": o.Name}, Value: 1},
			check.Sample{Name: "hostfix_doctor_check_status", Help: "Check status: 0 ok, 1 warning, 2 critical, 3 unknown.",
				Type: "gauge", Labels: map[string]string{"check": o.Name}, Value: float64(o.Result.Status)},
			check.Sample{Name: "hostfix_doctor_check_duration_seconds", Help: "How long the check took in this doctor run.",
				Type: "gauge", Labels: map[string]string{"check": o.Name}, Value: o.Duration.Seconds()},
		)
	}
	doctor = append(doctor, check.Sample{Name: "hostfix_doctor_status", Help: "Worst status of all checks: 0 ok, 1 warning, 2 critical, 3 unknown.",
		Type: "gauge", Value: float64(Worst(out))})
	names = append(names, "hostfix_doctor.prom")
	files["hostfix_doctor.prom"] = doctor
	return names, files
}
