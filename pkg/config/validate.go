package config

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Value limits, checked after the merge (defaults < file < env < flags) so that an error
// names the source of the value that is wrong. They are generic: a runbook's Config section
// gets them by declaring its fields, with no code of its own.
//
//   - Every number (int, uint, float, time.Duration) must be 0 or more, unless its field
//     is tagged limit:"signed".
//   - limit:"min=N" and limit:"max=N" bound it (a duration's bounds are durations: min=1s).
//   - limit:"lte=KEY" keeps it at or below another key of the same section (a warning level
//     must not be above the critical one: limit:"lte=crit_messages"). When either is 0 the
//     rule does not apply: 0 turns a threshold off.
//
// Tags combine with commas: limit:"max=100,lte=queue_crit_percent".
type limit struct {
	signed   bool
	min, max *float64
	lte      string // sibling key
}

func parseLimit(f Field) (limit, error) {
	var l limit
	if f.Limit == "" {
		return l, nil
	}
	for _, part := range strings.Split(f.Limit, ",") {
		name, arg, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch name {
		case "signed":
			l.signed = true
		case "min", "max":
			v, err := parseBound(f.Type, arg)
			if err != nil {
				return l, fmt.Errorf("internal: %s: limit %q: %w", f.Key, part, err)
			}
			if name == "min" {
				l.min = &v
			} else {
				l.max = &v
			}
		case "lte":
			if arg == "" {
				return l, fmt.Errorf("internal: %s: limit %q: want lte=KEY", f.Key, part)
			}
			l.lte = arg
		default:
			return l, fmt.Errorf("internal: %s: unknown limit %q", f.Key, part)
		}
	}
	return l, nil
}

func parseBound(t reflect.Type, s string) (float64, error) {
	if t == durationType {
		d, err := time.ParseDuration(s)
		return float64(d), err
	}
	return strconv.ParseFloat(s, 64)
}

// number is a numeric field's value as a float64 (durations in nanoseconds); ok is false
// for fields that are not numbers.
func number(v reflect.Value) (float64, bool) {
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(v.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(v.Uint()), true
	case reflect.Float32, reflect.Float64:
		return v.Float(), true
	}
	return 0, false
}

func formatNumber(t reflect.Type, v float64) string {
	if t == durationType {
		return time.Duration(v).String()
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// subject names a value where the user wrote it: "--interval -1s",
// "env HOSTFIX_SYNFLOOD_INTERVAL=-1s", "config /etc/hostfix/config.yaml:3: synflood.interval -1s".
func (s Source) subject(key, value string) string {
	switch s.Kind {
	case FromFlag:
		return s.Detail + " " + value
	case FromEnv:
		return "env " + s.Detail + "=" + value
	case FromFile:
		return "config " + s.Detail + ": " + key + " " + value
	}
	return "built-in default " + key + " " + value
}

// validate checks every field of cfg (a Config, or any struct Fields can walk) against its
// limits.
func validate(fields []Field, cfg reflect.Value, sources map[string]Source) error {
	byKey := map[string]Field{}
	limits := map[string]limit{}
	for _, f := range fields {
		byKey[f.Key] = f
		lim, err := parseLimit(f)
		if err != nil {
			return err
		}
		if _, ok := number(cfg.FieldByIndex(f.Index)); !ok && lim != (limit{}) {
			return fmt.Errorf("internal: %s: limit on a field that is not a number", f.Key)
		}
		limits[f.Key] = lim
	}
	// Each value on its own first, so that a relation is never reported against a value
	// that is wrong by itself.
	for _, f := range fields {
		v, ok := number(cfg.FieldByIndex(f.Index))
		if !ok {
			continue
		}
		lim := limits[f.Key]
		subject := sources[f.Key].subject(f.Key, formatNumber(f.Type, v))
		switch {
		case !lim.signed && v < 0 && (lim.min == nil || *lim.min == 0):
			return fmt.Errorf("%s: negative; want 0 or more", subject)
		case lim.min != nil && v < *lim.min:
			return fmt.Errorf("%s: want at least %s", subject, formatNumber(f.Type, *lim.min))
		case lim.max != nil && v > *lim.max:
			return fmt.Errorf("%s: want at most %s", subject, formatNumber(f.Type, *lim.max))
		}
	}
	for _, f := range fields {
		lim := limits[f.Key]
		if lim.lte == "" {
			continue
		}
		section := f.Key[:strings.LastIndexByte(f.Key, '.')+1]
		other, ok := byKey[section+lim.lte]
		if !ok {
			return fmt.Errorf("internal: %s: limit lte=%s: no key %s%s", f.Key, lim.lte, section, lim.lte)
		}
		v, _ := number(cfg.FieldByIndex(f.Index))
		ov, _ := number(cfg.FieldByIndex(other.Index))
		if v == 0 || ov == 0 || v <= ov {
			continue
		}
		if sources[f.Key].Kind == FromDefault && sources[other.Key].Kind != FromDefault {
			// The user set the other one: name theirs.
			return fmt.Errorf("%s: below %s %s (%s); want it at least that", sources[other.Key].subject(other.Key, formatNumber(other.Type, ov)),
				f.Key, formatNumber(f.Type, v), sources[f.Key].where())
		}
		return fmt.Errorf("%s: above %s %s (%s); want it at most that", sources[f.Key].subject(f.Key, formatNumber(f.Type, v)),
			other.Key, formatNumber(other.Type, ov), sources[other.Key].where())
	}
	return nil
}

// checkEnv rejects a HOSTFIX_<SECTION>_<KEY> variable whose SECTION is a config section but
// whose KEY is not one of its keys (HOSTFIX_SYNFLOOD_INTERVALL), as checkFile rejects an
// unknown key in the file: a typo must not silently do nothing. Variables outside the
// sections (HOSTFIX_ROOT, HOSTFIX_CONFIG, HOSTFIX_REQUIRE_INTEGRATION) are not settings and
// stay allowed; so does an empty value, which sets nothing.
func checkEnv(environ []string, keys []string) error {
	known := map[string]bool{}
	var sections []string
	seen := map[string]bool{}
	for _, k := range keys {
		known[EnvName(k)] = true
		sec := k[:strings.IndexByte(k, '.')]
		if !seen[sec] {
			seen[sec] = true
			sections = append(sections, EnvPrefix+"_"+strings.ToUpper(sec)+"_")
		}
	}
	var bad []string
	for _, kv := range environ {
		name, val, _ := strings.Cut(kv, "=")
		if val == "" || known[name] {
			continue
		}
		for _, p := range sections {
			if strings.HasPrefix(name, p) {
				bad = append(bad, name)
				break
			}
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	name := bad[0]
	rest := strings.TrimPrefix(name, EnvPrefix+"_")
	sec, key, _ := strings.Cut(rest, "_")
	return fmt.Errorf("env %s: unknown key %q (see `hostfix config show` for the valid keys)", name, strings.ToLower(sec)+"."+strings.ToLower(key))
}
