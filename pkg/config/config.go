package config

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/hostfix/hostfix/pkg/exim"
	"github.com/hostfix/hostfix/pkg/mailq"
	"github.com/hostfix/hostfix/pkg/mx"
	"github.com/hostfix/hostfix/pkg/php"
	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/smartermail"
	"github.com/hostfix/hostfix/pkg/smtpport"
	"github.com/hostfix/hostfix/pkg/synflood"
	"github.com/hostfix/hostfix/pkg/usage"
)

// DefaultFile is the config file read when --config is not given (resolved under --root).
const DefaultFile = "/etc/hostfix/config.yaml"

// EnvPrefix starts every environment override: synflood.interval is HOSTFIX_SYNFLOOD_INTERVAL.
const EnvPrefix = "HOSTFIX"

// Config is every tunable of hostfix. A new runbook adds its own Config type here.
type Config struct {
	Plan        plan.Config        `mapstructure:"plan" yaml:"plan" json:"plan"`
	Synflood    synflood.Config    `mapstructure:"synflood" yaml:"synflood" json:"synflood"`
	Mailq       mailq.Config       `mapstructure:"mailq" yaml:"mailq" json:"mailq"`
	MX          mx.Config          `mapstructure:"mx" yaml:"mx" json:"mx"`
	PHP         php.Config         `mapstructure:"php" yaml:"php" json:"php"`
	Smtpport    smtpport.Config    `mapstructure:"smtpport" yaml:"smtpport" json:"smtpport"`
	Exim        exim.Config        `mapstructure:"exim" yaml:"exim" json:"exim"`
	Smartermail smartermail.Config `mapstructure:"smartermail" yaml:"smartermail" json:"smartermail"`
}

// Default returns the built-in defaults.
func Default() Config {
	return Config{
		Plan:        plan.DefaultConfig(),
		Synflood:    synflood.DefaultConfig(),
		Mailq:       mailq.DefaultConfig(),
		MX:          mx.DefaultConfig(),
		PHP:         php.DefaultConfig(),
		Smtpport:    smtpport.DefaultConfig(),
		Exim:        exim.DefaultConfig(),
		Smartermail: smartermail.DefaultConfig(),
	}
}

// Source kinds, from weakest to strongest.
const (
	FromDefault = "default"
	FromFile    = "file"
	FromEnv     = "env"
	FromFlag    = "flag"
)

// Source says where a value came from.
type Source struct {
	Kind   string `json:"kind" yaml:"kind"`               // default, file, env, flag
	Detail string `json:"detail,omitempty" yaml:"detail"` // file:line, variable or flag name
}

func (s Source) String() string {
	if s.Detail == "" {
		return s.Kind
	}
	return s.Kind + " " + s.Detail
}

// where names the source in an error message: "config /etc/hostfix/config.yaml:3",
// "env HOSTFIX_SYNFLOOD_INTERVAL", "flag --interval".
func (s Source) where() string {
	switch s.Kind {
	case FromFile:
		return "config " + s.Detail
	case FromDefault:
		return "built-in default"
	}
	return s.String()
}

// Loaded is the effective configuration and the origin of each key.
type Loaded struct {
	Config Config
	File   string // config file read, as given (empty when none)
	// Looked is the config file looked for: --config, or DefaultFile (under --root), which
	// may not exist.
	Looked  string
	Sources map[string]Source
	Keys    []string // every key, in declaration order (as in Config and each runbook's Config)
	viper   *viper.Viper
}

// Get returns the effective value of a dotted key as viper holds it (before typing).
func (l *Loaded) Get(key string) any { return l.viper.Get(key) }

// Values returns the effective, typed value of every key (durations as strings such as
// "1m30s", the form the config file takes).
func (l *Loaded) Values() map[string]any { return flatten(reflect.ValueOf(l.Config), "") }

// Options say where to load from.
type Options struct {
	// File is --config; empty means DefaultFile under Root, where a missing file is fine.
	File string
	// FileFrom names where File came from, for messages ("--config", "HOSTFIX_CONFIG");
	// empty means --config.
	FileFrom string
	// Resolve maps a system path under --root; nil means identity.
	Resolve func(string) string
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// Environ lists the environment (KEY=value) to find HOSTFIX_<SECTION>_<KEY> variables
	// that set no known key; nil means os.Environ when Getenv is nil too, else no check.
	Environ func() []string
	// Flags bound to keys: key -> flag. Only flags the user set override.
	Flags map[string]*pflag.Flag
}

// Load builds the effective configuration.
func Load(o Options) (*Loaded, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
		if o.Environ == nil {
			o.Environ = os.Environ
		}
	}
	if o.Resolve == nil {
		o.Resolve = func(s string) string { return s }
	}
	v := viper.New()
	fields := Fields()
	defaults := flatten(reflect.ValueOf(Default()), "")
	keys := make([]string, 0, len(fields))
	for _, f := range fields {
		v.SetDefault(f.Key, defaults[f.Key])
		keys = append(keys, f.Key)
	}
	l := &Loaded{Keys: keys, Sources: map[string]Source{}, viper: v}
	for _, k := range keys {
		l.Sources[k] = Source{Kind: FromDefault}
	}

	path, explicit := o.File, o.File != ""
	if !explicit {
		path = DefaultFile
	}
	display := path
	real := path
	if !explicit {
		real = o.Resolve(path)
	}
	l.Looked = display
	data, err := os.ReadFile(real)
	switch {
	case err == nil:
		lines, err := checkFile(display, data, defaults)
		if err != nil {
			return nil, err
		}
		v.SetConfigType("yaml")
		if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("config %s: %w", display, err)
		}
		l.File = display
		for k, line := range lines {
			l.Sources[k] = Source{Kind: FromFile, Detail: fmt.Sprintf("%s:%d", display, line)}
		}
	case errors.Is(err, os.ErrNotExist) && !explicit:
		// no config file is a normal host
	default:
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		hint := "fix or remove it"
		if explicit {
			from := o.FileFrom
			if from == "" {
				from = "--config"
			}
			hint = "fix the path given to " + from
		}
		return nil, fmt.Errorf("config %s: %w (%s)", usage.ClipPath(display), err, hint)
	}

	for _, k := range keys {
		name := EnvName(k)
		if val := o.Getenv(name); val != "" {
			v.Set(k, val)
			l.Sources[k] = Source{Kind: FromEnv, Detail: name}
		}
	}
	if o.Environ != nil {
		if err := checkEnv(o.Environ(), keys); err != nil {
			return nil, err
		}
	}
	for k, f := range o.Flags {
		if f != nil && f.Changed {
			if _, ok := defaults[k]; !ok {
				return nil, fmt.Errorf("internal: flag --%s bound to unknown config key %q", f.Name, k)
			}
			v.Set(k, flagValue(f))
			l.Sources[k] = Source{Kind: FromFlag, Detail: "--" + f.Name}
		}
	}

	// Type every value into its field here rather than in one mapstructure pass, so that a
	// bad value is reported against where it came from (file and line, variable, flag) and
	// a lossy conversion (1.5 into an integer) is refused instead of truncated.
	cfg := reflect.ValueOf(&l.Config).Elem()
	for _, f := range fields {
		if err := setField(cfg.FieldByIndex(f.Index), v.Get(f.Key)); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", l.Sources[f.Key].where(), f.Key, err)
		}
	}
	if err := validate(fields, cfg, l.Sources); err != nil {
		return nil, err
	}
	return l, nil
}

// EnvName is the environment variable that overrides a key.
func EnvName(key string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

func flagValue(f *pflag.Flag) any {
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		return sv.GetSlice()
	}
	return f.Value.String()
}

// Field is one leaf setting of Config.
type Field struct {
	Key   string // dotted key, e.g. synflood.interval
	Index []int  // reflect field index path in Config
	Type  reflect.Type
	// Pkg is the import path of the struct that declares the field (for its doc comment).
	Pkg string
	// GoName is the Go field name in that struct.
	GoName string
	// Struct is the declaring struct's type name.
	Struct string
	// Limit is the field's limit tag (validate.go): "max=100,lte=queue_crit_percent".
	Limit string
}

var durationType = reflect.TypeOf(time.Duration(0))

// Fields lists every leaf setting in declaration order.
func Fields() []Field { return fieldsOf(reflect.TypeOf(Config{})) }

// fieldsOf lists the leaf settings of any config struct (tests use their own).
func fieldsOf(root reflect.Type) []Field {
	var out []Field
	var walk func(t reflect.Type, prefix string, index []int)
	walk = func(t reflect.Type, prefix string, index []int) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := strings.Split(f.Tag.Get("mapstructure"), ",")[0]
			if tag == "" || tag == "-" || !f.IsExported() {
				continue
			}
			key := tag
			if prefix != "" {
				key = prefix + "." + tag
			}
			idx := append(append([]int{}, index...), i)
			if f.Type.Kind() == reflect.Struct && f.Type != durationType {
				walk(f.Type, key, idx)
				continue
			}
			out = append(out, Field{Key: key, Index: idx, Type: f.Type, Pkg: t.PkgPath(), GoName: f.Name, Struct: t.Name(), Limit: f.Tag.Get("limit")})
		}
	}
	walk(root, "", nil)
	return out
}

// flatten turns a config struct into dotted keys with file-shaped values.
func flatten(v reflect.Value, prefix string) map[string]any {
	out := map[string]any{}
	for _, f := range Fields() {
		if prefix != "" && !strings.HasPrefix(f.Key, prefix+".") {
			continue
		}
		val := v.FieldByIndex(f.Index).Interface()
		if d, ok := val.(time.Duration); ok {
			val = d.String()
		}
		if s, ok := val.([]string); ok && s == nil {
			val = []string{}
		}
		out[f.Key] = val
	}
	return out
}

// setField stores a raw value (from YAML, an environment string or a flag string) in a
// typed field, refusing anything that does not convert exactly.
func setField(dst reflect.Value, raw any) error {
	if raw == nil {
		return errors.New("no value: give one, or delete the line to use the default")
	}
	if dst.Type() == durationType {
		d, err := toDuration(raw)
		if err != nil {
			return err
		}
		dst.SetInt(int64(d))
		return nil
	}
	switch dst.Kind() {
	case reflect.String:
		s, err := toScalarString(raw)
		if err != nil {
			return err
		}
		dst.SetString(s)
	case reflect.Bool:
		switch x := raw.(type) {
		case bool:
			dst.SetBool(x)
		case string:
			b, err := strconv.ParseBool(strings.TrimSpace(x))
			if err != nil {
				return fmt.Errorf("%q is not true or false", usage.Clip(x))
			}
			dst.SetBool(b)
		default:
			return fmt.Errorf("%v is not true or false", raw)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := toInt(raw)
		if err != nil {
			return err
		}
		if dst.OverflowInt(n) {
			return fmt.Errorf("%d is out of range", n)
		}
		dst.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := toInt(raw)
		if err != nil {
			return err
		}
		if n < 0 || dst.OverflowUint(uint64(n)) {
			return fmt.Errorf("%d is out of range", n)
		}
		dst.SetUint(uint64(n))
	case reflect.Float32, reflect.Float64:
		x, err := toFloat(raw)
		if err != nil {
			return err
		}
		dst.SetFloat(x)
	case reflect.Slice:
		if dst.Type().Elem().Kind() != reflect.String {
			return decodeWeak(dst, raw)
		}
		words, err := toStrings(raw)
		if err != nil {
			return err
		}
		dst.Set(reflect.ValueOf(words).Convert(dst.Type()))
	default:
		return decodeWeak(dst, raw)
	}
	return nil
}

// decodeWeak handles field types this package has no strict rule for (maps, say).
func decodeWeak(dst reflect.Value, raw any) error {
	d, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		Result:           dst.Addr().Interface(),
		WeaklyTypedInput: true,
		DecodeHook:       mapstructure.StringToTimeDurationHookFunc(),
	})
	if err != nil {
		return err
	}
	if err := d.Decode(raw); err != nil {
		return errors.New(strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return nil
}

func toScalarString(raw any) (string, error) {
	switch x := raw.(type) {
	case string:
		return x, nil
	case bool, int, int64, uint64, float64:
		return fmt.Sprint(x), nil
	}
	return "", fmt.Errorf("want a single value, got %s", describe(raw))
}

func toInt(raw any) (int64, error) {
	switch x := raw.(type) {
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case uint64:
		if x > math.MaxInt64 {
			return 0, fmt.Errorf("%d is out of range", x)
		}
		return int64(x), nil
	case float64:
		if x != math.Trunc(x) || math.IsInf(x, 0) {
			return 0, fmt.Errorf("%v is not a whole number", x)
		}
		return int64(x), nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a whole number", usage.Clip(x))
		}
		return n, nil
	}
	return 0, fmt.Errorf("want a whole number, got %s", describe(raw))
}

func toFloat(raw any) (float64, error) {
	switch x := raw.(type) {
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case float64:
		return x, nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", usage.Clip(x))
		}
		return f, nil
	}
	return 0, fmt.Errorf("want a number, got %s", describe(raw))
}

// durationShape is what time.ParseDuration accepts when the value fits: a parse error on
// such a string is an overflow.
var durationShape = regexp.MustCompile(`^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$`)

func toDuration(raw any) (time.Duration, error) {
	switch x := raw.(type) {
	case string:
		d, err := time.ParseDuration(strings.TrimSpace(x))
		if err != nil && durationShape.MatchString(strings.TrimSpace(x)) {
			return 0, fmt.Errorf("%q is too long (at most 2562047h, about 292 years)", usage.Clip(x))
		}
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration (write it with a unit: 500ms, 30s, 2m, 24h)", usage.Clip(x))
		}
		return d, nil
	case int, int64:
		// A bare number is ambiguous (seconds? nanoseconds?); only 0 means the same in every unit.
		if reflect.ValueOf(x).Int() == 0 {
			return 0, nil
		}
		return 0, fmt.Errorf("%v has no unit (write it with one: %vs, %vm)", x, x, x)
	case time.Duration:
		return x, nil
	}
	return 0, fmt.Errorf("want a duration such as 30s, got %s", describe(raw))
}

// toStrings takes a list of scalars, or one string of words (an environment variable or
// a command written on one line: "qmailctl stop").
func toStrings(raw any) ([]string, error) {
	switch x := raw.(type) {
	case string:
		// Split at whitespace only, never like a shell: a quote or backslash would be
		// split into the words wrongly and run so, hence refused.
		if strings.ContainsAny(x, "\"'\\") {
			return nil, fmt.Errorf("%q: quotes and backslashes are not parsed in a value on one line (it is split at spaces); write it as a list in the config file: [word, \"word with spaces\"]", usage.Clip(x))
		}
		return strings.Fields(x), nil
	case []string:
		return append([]string{}, x...), nil
	case []any:
		out := make([]string, 0, len(x))
		for i, e := range x {
			s, err := toScalarString(e)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i+1, err)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("want a list of words, got %s", describe(raw))
}

func describe(raw any) string {
	switch raw.(type) {
	case map[string]any, map[any]any:
		return "a mapping"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%v", raw)
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// checkFile parses the YAML, rejects keys hostfix does not know (naming file and line) and
// returns the line of every leaf key it sets.
func checkFile(name string, data []byte, known map[string]any) (map[string]int, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := err.Error()
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			return nil, fmt.Errorf("config %s:%s: %s (not valid YAML)", name, m[1], m[2])
		}
		return nil, fmt.Errorf("config %s: %s (not valid YAML)", name, strings.TrimPrefix(msg, "yaml: "))
	}
	lines := map[string]int{}
	if len(doc.Content) == 0 {
		return lines, nil
	}
	root := doc.Content[0]
	if isNull(root) {
		return lines, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("config %s:%d: want a mapping of settings at the top", name, root.Line)
	}
	prefixes := map[string]bool{}
	for k := range known {
		parts := strings.Split(k, ".")
		for i := 1; i < len(parts); i++ {
			prefixes[strings.Join(parts[:i], ".")] = true
		}
	}
	var walk func(n *yaml.Node, prefix string) error
	walk = func(n *yaml.Node, prefix string) error {
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn, vn := n.Content[i], n.Content[i+1]
			if kn.Kind == yaml.AliasNode || kn.Value == "<<" {
				return fmt.Errorf("config %s:%d: YAML aliases and merge keys are not supported here; write the settings out", name, kn.Line)
			}
			key := strings.ToLower(kn.Value)
			if prefix != "" {
				key = prefix + "." + key
			}
			// Keys are case-insensitive (viper lower-cases them), so "Synflood" and
			// "synflood" are the same key; YAML itself would not notice.
			if first, dup := seen[key]; dup {
				return fmt.Errorf("config %s:%d: %q is given twice (first on line %d); keep one", name, kn.Line, key, first)
			}
			seen[key] = kn.Line
			switch {
			case prefixes[key]:
				if isNull(vn) {
					// "synflood:" with every setting under it commented out
					continue
				}
				if vn.Kind != yaml.MappingNode {
					return fmt.Errorf("config %s:%d: %q is a section; want a mapping under it", name, kn.Line, key)
				}
				if err := walk(vn, key); err != nil {
					return err
				}
			case hasKey(known, key):
				if isNull(vn) {
					return fmt.Errorf("config %s:%d: %s has no value: give one, or delete the line to use the default", name, kn.Line, key)
				}
				lines[key] = kn.Line
			default:
				return fmt.Errorf("config %s:%d: unknown key %q (see `hostfix config show` for the valid keys)", name, kn.Line, key)
			}
		}
		return nil
	}
	return lines, walk(root, "")
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func hasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }
