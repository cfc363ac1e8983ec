package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hostfix/hostfix/pkg/iostreams"
	"github.com/hostfix/hostfix/pkg/usage"
)

// Ansible runs hostfix as a binary module: Ansible copies the binary to the target as
// AnsiballZ_<name> and runs it with the path of a JSON file holding the task's arguments.
// (Facts: ../shared/facts/automation.md; the protocol is checked with ansible-core 2.14.)

// IsAnsibleModule reports whether argv is an Ansible binary-module invocation.
func IsAnsibleModule(argv []string) bool {
	return len(argv) == 2 && strings.HasPrefix(filepath.Base(argv[0]), "AnsiballZ_")
}

// ansibleResult is the one JSON object the module prints.
type ansibleResult struct {
	Changed  bool            `json:"changed"`
	Failed   bool            `json:"failed"`
	Msg      string          `json:"msg"`
	RC       int             `json:"rc"`
	Diff     []ansibleDiff   `json:"diff,omitempty"`
	Result   json.RawMessage `json:"result,omitempty"`
	Stderr   string          `json:"stderr,omitempty"`
	Warnings []string        `json:"warnings,omitempty"`
	// Status is a check's Nagios status name (ok, warning, critical, unknown).
	Status string `json:"status,omitempty"`
}

type ansibleDiff struct {
	Before       string `json:"before"`
	After        string `json:"after"`
	BeforeHeader string `json:"before_header"`
	AfterHeader  string `json:"after_header"`
}

// The module's own keys; every other non-underscore key is a flag of the command.
var ansibleOwnKeys = map[string]bool{"command": true, "root": true, "config": true, "fail_on": true}

// Global flags the module sets itself: a task cannot pass them as keys.
var ansibleReservedFlags = map[string]bool{
	"output": true, "dry-run": true, "yes": true, "color": true, "quiet": true, "verbose": true,
	"help": true, "root": true, "config": true, "version": true,
}

// RunAnsible runs the module with the JSON args file at path, prints the result object on
// stdout and returns the process exit code (0, or 1 when the task failed).
func RunAnsible(ctx context.Context, path string, stdout, stderr io.Writer, getenv func(string) string) int {
	res := runAnsible(ctx, path, stderr, getenv)
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res); err != nil {
		fmt.Fprintf(stderr, "hostfix: ansible: %v\n", err)
		return 1
	}
	if res.Failed {
		return 1
	}
	return 0
}

func ansibleFail(format string, args ...any) ansibleResult {
	return ansibleResult{Failed: true, Msg: fmt.Sprintf(format, args...), RC: 2}
}

func runAnsible(ctx context.Context, path string, stderr io.Writer, getenv func(string) string) ansibleResult {
	data, err := os.ReadFile(path)
	if err != nil {
		return ansibleFail("hostfix module: cannot read the arguments file: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var args map[string]any
	if err := dec.Decode(&args); err != nil {
		return ansibleFail("hostfix module: the arguments file is not a JSON object: %v", err)
	}
	command, ok := args["command"].(string)
	if !ok || strings.TrimSpace(command) == "" {
		return ansibleFail("hostfix module: missing key command (a hostfix command such as \"synflood check\" or \"mailq purge\")")
	}
	checkMode, err := ansibleBool(args, "_ansible_check_mode")
	if err != nil {
		return ansibleFail("%v", err)
	}
	wantDiff, err := ansibleBool(args, "_ansible_diff")
	if err != nil {
		return ansibleFail("%v", err)
	}
	failOn := "critical"
	if v, ok := args["fail_on"]; ok {
		s, _ := v.(string)
		switch s {
		case "critical", "warning", "never":
			failOn = s
		default:
			return ansibleFail("hostfix module: key fail_on: want critical, warning or never, got %v", v)
		}
	}

	// Build the same tree the CLI runs, on buffers: stdout must hold only our object.
	ios, _, outBuf, errBuf := iostreams.Test()
	app := NewApp(ios, getenv)
	root := NewRootCmd(app)
	words := strings.Fields(command)
	c, rest, err := root.Find(words)
	if err == nil && len(rest) > 0 && c != root && c.Runnable() && c.Annotations[kindKey] != "" {
		// "php max-input-vars set 5000": the command is known, the rest are its arguments
		// (or flags), which go under their own keys.
		if strings.HasPrefix(rest[0], "-") {
			return ansibleFail("hostfix module: command %q: %q is not part of a command; give flags as keys (--sapi fpm is sapi: fpm, --root DIR is root: DIR)", command, usage.Clip(strings.Join(rest, " ")))
		}
		return ansibleFail("hostfix module: command %q: %q is not part of a command; give arguments as args: [%s]", command, usage.Clip(strings.Join(rest, " ")), usage.Clip(strings.Join(rest, ", ")))
	}
	if err != nil || len(rest) > 0 || c == root || !c.Runnable() || c.Annotations[kindKey] == "" {
		return ansibleFail("hostfix module: unknown command %q: use one of %s", command, strings.Join(ansibleCommands(root), ", "))
	}
	kind := c.Annotations[kindKey]
	if _, ok := args["fail_on"]; ok && kind != kindCheck {
		// A change fails the task when it fails; nothing for fail_on to decide.
		return ansibleFail("hostfix module: key fail_on is for checks; %q is a change command (it fails the task when the change fails)", strings.TrimPrefix(c.CommandPath(), "hostfix "))
	}

	argv := []string{"--color", "never", "-o", "json"}
	for _, k := range []string{"root", "config"} {
		if v, ok := args[k]; ok {
			s, ok := v.(string)
			if !ok {
				return ansibleFail("hostfix module: key %s: want a string, got %s", k, jsonType(v))
			}
			argv = append(argv, "--"+k, s)
		}
	}
	if kind == kindChange {
		// Ansible is non-interactive by design: no prompt.
		argv = append(argv, "--yes")
	}
	if checkMode {
		// Check mode is honoured by every command: a change is only planned, and a check
		// writes no state file (synflood check --state-file) either.
		argv = append(argv, "--dry-run")
	}
	argv = append(argv, strings.Fields(c.CommandPath())[1:]...)
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var positional []string
	for _, k := range keys {
		if strings.HasPrefix(k, "_ansible_") || ansibleOwnKeys[k] {
			continue
		}
		if k == "args" {
			// Positional arguments (mx check DOMAIN...).
			list, err := ansibleList(k, args[k])
			if err != nil {
				return ansibleFail("%v", err)
			}
			positional = append(positional, list...)
			continue
		}
		name := strings.ReplaceAll(k, "_", "-")
		if name == "textfile-dir" && c.Flags().Lookup(name) != nil {
			// It needs -o prometheus, and the module always answers in JSON.
			return ansibleFail("hostfix module: key %s: not available in the module (it answers in JSON); write textfiles with `hostfix %s -o prometheus --textfile-dir DIR` from cron or the hostfix-doctor timer", k, strings.TrimPrefix(c.CommandPath(), "hostfix "))
		}
		f := c.Flags().Lookup(name)
		if f == nil || ansibleReservedFlags[name] {
			return ansibleFail("hostfix module: unknown key %s for %q: %s", k, c.CommandPath()[len("hostfix "):], ansibleFlagList(c))
		}
		vals, err := ansibleFlagValues(k, f, args[k])
		if err != nil {
			return ansibleFail("%v", err)
		}
		for _, v := range vals {
			argv = append(argv, "--"+name+"="+v)
		}
	}
	if len(positional) > 0 {
		argv = append(argv, "--")
		argv = append(argv, positional...)
	}

	rc := app.Execute(ctx, root, argv)
	errText := strings.TrimSpace(errBuf.String())
	if errText != "" {
		fmt.Fprintln(stderr, errText)
	}
	res := ansibleResult{RC: rc}
	out := bytes.TrimSpace(outBuf.Bytes())
	if len(out) > 0 && json.Valid(out) {
		res.Result = json.RawMessage(out)
	} else if len(out) > 0 {
		// NDJSON (several check objects): wrap them into an array.
		res.Result = ndjsonArray(out)
	}
	switch kind {
	case kindCheck:
		return ansibleCheckResult(res, failOn, errText)
	default:
		return ansibleChangeResult(res, wantDiff, errText)
	}
}

func ansibleCheckResult(res ansibleResult, failOn, errText string) ansibleResult {
	var obj struct {
		Status  string `json:"status"`
		Summary string `json:"summary"`
		Check   string `json:"check"`
	}
	if res.Result == nil || json.Unmarshal(res.Result, &obj) != nil || obj.Status == "" {
		// Several objects (doctor's array, mx over many domains): the worst exit code decides.
		var many []struct {
			Status  string `json:"status"`
			Summary string `json:"summary"`
			Check   string `json:"check"`
		}
		if res.Result != nil && json.Unmarshal(res.Result, &many) == nil && len(many) > 0 {
			var parts []string
			for _, m := range many {
				part := m.Check + " " + m.Status
				if m.Status != "ok" && m.Summary != "" {
					part += " (" + m.Summary + ")" // what is wrong, not only that it is
				}
				parts = append(parts, part)
			}
			obj.Summary = strings.Join(parts, ", ")
			obj.Status = statusName(res.RC)
		} else {
			res.Failed = true
			res.Msg = ansibleErrMsg(errText, "the check printed no result")
			return res
		}
	}
	res.Status = obj.Status
	res.Msg = strings.ToUpper(obj.Status) + ": " + obj.Summary
	switch failOn {
	case "never":
	case "warning":
		res.Failed = res.RC != 0
	default:
		res.Failed = res.RC == 2 || res.RC == 3
	}
	if res.RC == 3 && errText != "" && failOn != "never" {
		res.Msg = ansibleErrMsg(errText, res.Msg)
	}
	return res
}

func statusName(rc int) string {
	switch rc {
	case 0:
		return "ok"
	case 1:
		return "warning"
	case 2:
		return "critical"
	}
	return "unknown"
}

func ansibleChangeResult(res ansibleResult, wantDiff bool, errText string) ansibleResult {
	var rep struct {
		Changed bool   `json:"changed"`
		DryRun  bool   `json:"dry_run"`
		Error   string `json:"error"`
		Command string `json:"command"`
		Actions []struct {
			Kind    string `json:"kind"`
			Target  string `json:"target"`
			Detail  string `json:"detail"`
			Diff    string `json:"diff"`
			Changed bool   `json:"changed"`
		} `json:"actions"`
	}
	if res.Result == nil || json.Unmarshal(res.Result, &rep) != nil {
		res.Failed = true
		res.Msg = ansibleErrMsg(errText, "the command printed no report")
		return res
	}
	res.Changed = rep.Changed
	res.Failed = res.RC != 0
	switch {
	case rep.Error != "":
		res.Msg = rep.Error
	case !rep.Changed:
		res.Msg = rep.Command + ": nothing to do"
	case rep.DryRun:
		res.Msg = rep.Command + ": would change (check mode, nothing changed)"
	default:
		res.Msg = rep.Command + ": changed"
	}
	if res.Failed && rep.Error == "" {
		res.Msg = ansibleErrMsg(errText, res.Msg)
	}
	if wantDiff {
		for _, a := range rep.Actions {
			if !a.Changed {
				continue
			}
			if a.Diff != "" {
				before, after := splitUnified(a.Diff)
				res.Diff = append(res.Diff, ansibleDiff{Before: before, After: after,
					BeforeHeader: a.Target, AfterHeader: a.Target})
				continue
			}
			if old, nw, ok := strings.Cut(a.Detail, " -> "); ok && a.Kind == "sysctl" {
				nw, _, _ = strings.Cut(nw, " (")
				res.Diff = append(res.Diff, ansibleDiff{Before: old + "\n", After: nw + "\n",
					BeforeHeader: a.Kind + " " + a.Target, AfterHeader: a.Kind + " " + a.Target})
			}
		}
	}
	return res
}

// splitUnified turns a unified diff (secrets already masked by pkg/plan) into the "before"
// and "after" text of its hunks, which is what Ansible's diff display takes.
func splitUnified(d string) (before, after string) {
	var b, a strings.Builder
	for _, line := range strings.SplitAfter(d, "\n") {
		switch {
		case strings.HasPrefix(line, "--- "), strings.HasPrefix(line, "+++ "), strings.HasPrefix(line, "@@"), line == "":
		case strings.HasPrefix(line, "-"):
			b.WriteString(line[1:])
		case strings.HasPrefix(line, "+"):
			a.WriteString(line[1:])
		case strings.HasPrefix(line, " "):
			b.WriteString(line[1:])
			a.WriteString(line[1:])
		case strings.HasPrefix(line, `\`):
		default:
			b.WriteString(line)
			a.WriteString(line)
		}
	}
	return b.String(), a.String()
}

func ansibleErrMsg(errText, fallback string) string {
	// Under -o json errors are {"error": …} on stderr.
	var e struct {
		Error string `json:"error"`
	}
	for _, line := range strings.Split(errText, "\n") {
		if json.Unmarshal([]byte(line), &e) == nil && e.Error != "" {
			return e.Error
		}
	}
	if errText != "" {
		return strings.TrimPrefix(strings.SplitN(errText, "\n", 2)[0], "hostfix: ")
	}
	return fallback
}

func ndjsonArray(out []byte) json.RawMessage {
	var items []json.RawMessage
	for _, line := range bytes.Split(out, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) > 0 && json.Valid(line) {
			items = append(items, json.RawMessage(line))
		}
	}
	b, err := json.Marshal(items)
	if err != nil {
		return nil
	}
	return b
}

func ansibleBool(args map[string]any, k string) (bool, error) {
	v, ok := args[k]
	if !ok || v == nil {
		return false, nil
	}
	if b, ok := ansibleBoolValue(v); ok {
		return b, nil
	}
	return false, fmt.Errorf("hostfix module: key %s: want true or false, got %v", k, v)
}

// ansibleBoolValue reads a boolean the way Ansible's own modules do: true/false, and the
// strings yes/no, on/off, y/n, t/f, 1/0 in any case, and the numbers 1 and 0 (a quoted
// "yes" in a playbook reaches the module as a string).
func ansibleBoolValue(v any) (bool, bool) {
	switch b := v.(type) {
	case bool:
		return b, true
	case json.Number:
		switch b.String() {
		case "1", "1.0":
			return true, true
		case "0", "0.0":
			return false, true
		}
	case string:
		switch strings.ToLower(strings.TrimSpace(b)) {
		case "true", "yes", "on", "y", "t", "1":
			return true, true
		case "false", "no", "off", "n", "f", "0":
			return false, true
		}
	}
	return false, false
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}

func ansibleScalar(k string, v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", fmt.Errorf("hostfix module: key %s: want a single value, got %s", k, jsonType(v))
}

func ansibleList(k string, v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		s, err := ansibleScalar(k, v)
		if err != nil {
			return nil, fmt.Errorf("hostfix module: key %s: want a list, got %s", k, jsonType(v))
		}
		return []string{s}, nil
	}
	out := make([]string, 0, len(list))
	for _, item := range list {
		s, err := ansibleScalar(k, item)
		if err != nil {
			return nil, fmt.Errorf("hostfix module: key %s: want a list of values, got %s in it", k, jsonType(item))
		}
		out = append(out, s)
	}
	return out, nil
}

// ansibleFlagValues checks a key's JSON type against its flag's type and returns the flag
// values to pass (one per element for list flags).
func ansibleFlagValues(k string, f *pflag.Flag, v any) ([]string, error) {
	typ := f.Value.Type()
	if strings.HasSuffix(typ, "Slice") || strings.HasSuffix(typ, "Array") {
		list, err := ansibleList(k, v)
		if err != nil {
			return nil, err
		}
		elem := strings.TrimSuffix(strings.TrimSuffix(typ, "Slice"), "Array")
		for _, s := range list {
			if err := ansibleCheckScalar(k, elem, s); err != nil {
				return nil, err
			}
		}
		return list, nil
	}
	switch typ {
	case "bool":
		b, ok := ansibleBoolValue(v)
		if !ok {
			return nil, fmt.Errorf("hostfix module: key %s: want true or false (yes/no), got %s", k, jsonType(v))
		}
		return []string{strconv.FormatBool(b)}, nil
	}
	s, err := ansibleScalar(k, v)
	if err != nil {
		return nil, err
	}
	if err := ansibleCheckScalar(k, typ, s); err != nil {
		return nil, err
	}
	return []string{s}, nil
}

func ansibleCheckScalar(k, typ, s string) error {
	switch typ {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "count":
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			return fmt.Errorf("hostfix module: key %s: want an integer, got %q", k, s)
		}
	case "float32", "float64":
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return fmt.Errorf("hostfix module: key %s: want a number, got %q", k, s)
		}
	}
	return nil
}

func ansibleFlagList(c *cobra.Command) string {
	var names []string
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if !ansibleReservedFlags[f.Name] && !f.Hidden && f.Name != "textfile-dir" {
			names = append(names, strings.ReplaceAll(f.Name, "-", "_"))
		}
	})
	sort.Strings(names)
	own := "command, root, config"
	if c.Annotations[kindKey] == kindCheck {
		own += ", fail_on"
	}
	if c.Args == nil || c.Args(c, []string{"x"}) == nil {
		// It takes positional arguments (mx fix DOMAIN...): they go in args, a list.
		own += ", args (its arguments, a list)"
	}
	if len(names) == 0 {
		return "it takes no keys besides " + own
	}
	return "its keys are " + strings.Join(names, ", ") + " (and " + own + ")"
}

func ansibleCommands(root *cobra.Command) []string {
	var out []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden {
				continue
			}
			if sub.Runnable() && sub.Annotations[kindKey] != "" {
				out = append(out, strings.TrimPrefix(sub.CommandPath(), "hostfix "))
			}
			walk(sub)
		}
	}
	walk(root)
	sort.Strings(out)
	return out
}
