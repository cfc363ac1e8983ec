package cmd

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/hostfix/hostfix/pkg/config"
	"github.com/hostfix/hostfix/pkg/iostreams"
)

func newConfigCmd(app *App) *cobra.Command {
	c := &cobra.Command{
		Use:   "config",
		Short: "Inspect hostfix's configuration",
	}
	c.AddCommand(newConfigShowCmd(app))
	return c
}

// ConfigValue is one key of `hostfix config show -o json`.
type ConfigValue struct {
	Value  any    `json:"value"`
	Source string `json:"source"`           // default, file, env or flag
	Origin string `json:"origin,omitempty"` // FILE:LINE, the variable, or the flag
}

func newConfigShowCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "show",
		Short: "Print the effective configuration and where each value came from",
		Long: `Print the effective configuration: every key with its value after the built-in
defaults, the config file, HOSTFIX_SECTION_KEY environment variables (such as
HOSTFIX_SYNFLOOD_INTERVAL for synflood.interval) and flags were applied (strongest last),
and where each value came from.

The config file is --config, else $HOSTFIX_CONFIG, else /etc/hostfix/config.yaml under
--root (a missing default file is fine). The text form is YAML that can serve as a config
file; -o json prints one object keyed by the dotted key:
{"synflood.interval": {"value": "1s", "source": "default"}, ...}.`,
		Example: `  hostfix config show
  HOSTFIX_SYNFLOOD_INTERVAL=5s hostfix config show -o json | jq '."synflood.interval"'
  hostfix --config ./test.yaml config show`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			l := app.Loaded()
			if app.Opts.Output == "json" {
				return writeConfigJSON(app.IO.Out, l)
			}
			return writeConfigYAML(app.IO.Out, l)
		},
	}
}

func writeConfigJSON(w io.Writer, l *config.Loaded) error {
	values := l.Values()
	out := make(map[string]ConfigValue, len(l.Keys))
	for _, k := range l.Keys {
		src := l.Sources[k]
		out[k] = ConfigValue{Value: values[k], Source: src.Kind, Origin: src.Detail}
	}
	return iostreams.NewJSONEncoder(w).Encode(out)
}

// writeConfigYAML prints the configuration as YAML, each value commented with its source.
func writeConfigYAML(w io.Writer, l *config.Loaded) error {
	values := l.Values()
	doc := &yaml.Node{Kind: yaml.MappingNode}
	switch {
	case l.File != "":
		doc.HeadComment = "effective configuration; config file: " + l.File
	default:
		doc.HeadComment = "effective configuration; no config file (" + l.Looked + " not found)"
	}
	sections := map[string]*yaml.Node{}
	for _, k := range l.Keys {
		parent := doc
		parts := strings.Split(k, ".")
		for i := 0; i < len(parts)-1; i++ {
			path := strings.Join(parts[:i+1], ".")
			sec, ok := sections[path]
			if !ok {
				sec = &yaml.Node{Kind: yaml.MappingNode}
				sections[path] = sec
				parent.Content = append(parent.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: parts[i]}, sec)
			}
			parent = sec
		}
		var val yaml.Node
		if err := val.Encode(values[k]); err != nil {
			return fmt.Errorf("config show %s: %w", k, err)
		}
		if val.Kind == yaml.SequenceNode {
			val.Style = yaml.FlowStyle
		}
		src := l.Sources[k]
		if src.Kind == config.FromDefault {
			val.LineComment = "default"
		} else {
			val.LineComment = "from " + src.String()
		}
		parent.Content = append(parent.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: parts[len(parts)-1]}, &val)
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return enc.Close()
}

func init() { register(newConfigCmd) }
