// Package config loads hostfix's one typed configuration: built-in defaults, overridden by
// the config file, then HOSTFIX_<KEY> environment variables, then flags bound to keys. It
// knows where every value came from (for `hostfix config show`) and rejects unknown keys
// with the file and line. It reads only the config file; it never touches the host.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/hostfix/hostfix/pkg/mailq"
	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/synflood"
)

// DefaultFile is the config file read when --config is not given (resolved under --root).
const DefaultFile = "/etc/hostfix/config.yaml"

// EnvPrefix starts every environment override: synflood.interval is HOSTFIX_SYNFLOOD_INTERVAL.
const EnvPrefix = "HOSTFIX"

// Config is every tunable of hostfix. A new runbook adds its own Config type here.
type Config struct {
	Plan     plan.Config     `mapstructure:"plan" yaml:"plan" json:"plan"`
	Synflood synflood.Config `mapstructure:"synflood" yaml:"synflood" json:"synflood"`
	Mailq    mailq.Config    `mapstructure:"mailq" yaml:"mailq" json:"mailq"`
}

// Default returns the built-in defaults.
func Default() Config {
	return Config{
		Plan:     plan.DefaultConfig(),
		Synflood: synflood.DefaultConfig(),
		Mailq:    mailq.DefaultConfig(),
	}
}

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

// Loaded is the effective configuration and the origin of each key.
type Loaded struct {
	Config  Config
	File    string // config file read, as given (empty when none)
	Sources map[string]Source
	Keys    []string // every key, sorted
	viper   *viper.Viper
}

// Get returns the effective value of a dotted key.
func (l *Loaded) Get(key string) any { return l.viper.Get(key) }

// Options say where to load from.
type Options struct {
	// File is --config; empty means DefaultFile under Root, where a missing file is fine.
	File string
	// Resolve maps a system path under --root; nil means identity.
	Resolve func(string) string
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// Flags bound to keys: key -> flag. Only flags the user set override.
	Flags map[string]*pflag.Flag
}

// Load builds the effective configuration.
func Load(o Options) (*Loaded, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Resolve == nil {
		o.Resolve = func(s string) string { return s }
	}
	v := viper.New()
	defaults := flatten(reflect.ValueOf(Default()), "")
	keys := make([]string, 0, len(defaults))
	for k, val := range defaults {
		v.SetDefault(k, val)
		keys = append(keys, k)
	}
	sort.Strings(keys)
	l := &Loaded{Keys: keys, Sources: map[string]Source{}, viper: v}
	for _, k := range keys {
		l.Sources[k] = Source{Kind: "default"}
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
			l.Sources[k] = Source{Kind: "file", Detail: fmt.Sprintf("%s:%d", display, line)}
		}
	case errors.Is(err, os.ErrNotExist) && !explicit:
		// no config file is a normal host
	default:
		return nil, fmt.Errorf("config %s: %w (fix the path given to --config)", display, errors.Unwrap(err))
	}

	for _, k := range keys {
		name := EnvName(k)
		if val := o.Getenv(name); val != "" {
			v.Set(k, val)
			l.Sources[k] = Source{Kind: "env", Detail: name}
		}
	}
	for k, f := range o.Flags {
		if f != nil && f.Changed {
			if _, ok := defaults[k]; !ok {
				return nil, fmt.Errorf("internal: flag --%s bound to unknown config key %q", f.Name, k)
			}
			v.Set(k, flagValue(f))
			l.Sources[k] = Source{Kind: "flag", Detail: "--" + f.Name}
		}
	}

	dec := &mapstructure.DecoderConfig{
		Result:           &l.Config,
		WeaklyTypedInput: true,
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(),
			stringToArgvHook,
		),
	}
	d, err := mapstructure.NewDecoder(dec)
	if err != nil {
		return nil, err
	}
	if err := d.Decode(v.AllSettings()); err != nil {
		where := "configuration"
		if l.File != "" {
			where = "config " + l.File
		}
		return nil, fmt.Errorf("%s: %s", where, strings.ReplaceAll(err.Error(), "\n", "; "))
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

// stringToArgvHook lets an environment variable give a command as words: "qmailctl stop".
func stringToArgvHook(from, to reflect.Type, data any) (any, error) {
	if from.Kind() != reflect.String || to != reflect.TypeOf([]string{}) {
		return data, nil
	}
	s := strings.TrimSpace(data.(string))
	if s == "" {
		return []string{}, nil
	}
	return strings.Fields(s), nil
}

// flatten turns a struct of defaults into dotted keys.
func flatten(v reflect.Value, prefix string) map[string]any {
	out := map[string]any{}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("mapstructure"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		key := tag
		if prefix != "" {
			key = prefix + "." + tag
		}
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct && fv.Type() != reflect.TypeOf(time.Duration(0)) {
			for k, val := range flatten(fv, key) {
				out[k] = val
			}
			continue
		}
		val := fv.Interface()
		if d, ok := val.(time.Duration); ok {
			val = d.String()
		}
		if s, ok := val.([]string); ok && s == nil {
			val = []string{}
		}
		out[key] = val
	}
	return out
}

// checkFile parses the YAML, rejects keys hostfix does not know (naming file and line) and
// returns the line of every leaf key it sets.
func checkFile(name string, data []byte, known map[string]any) (map[string]int, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("config %s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	lines := map[string]int{}
	if len(doc.Content) == 0 {
		return lines, nil
	}
	root := doc.Content[0]
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
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn, vn := n.Content[i], n.Content[i+1]
			key := strings.ToLower(kn.Value)
			if prefix != "" {
				key = prefix + "." + key
			}
			switch {
			case prefixes[key]:
				if vn.Kind != yaml.MappingNode {
					return fmt.Errorf("config %s:%d: %q is a section; want a mapping under it", name, kn.Line, key)
				}
				if err := walk(vn, key); err != nil {
					return err
				}
			case known[key] != nil || hasKey(known, key):
				lines[key] = kn.Line
			default:
				return fmt.Errorf("config %s:%d: unknown key %q (see `hostfix config show` for the valid keys)", name, kn.Line, key)
			}
		}
		return nil
	}
	return lines, walk(root, "")
}

func hasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }
