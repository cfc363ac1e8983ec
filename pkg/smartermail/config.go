package smartermail

import "time"

// Config holds the smartermail runbook's tunables (config key "smartermail", env
// HOSTFIX_SMARTERMAIL_*).
type Config struct {
	// ServiceNames are the Windows service names SmarterMail may be installed under; each is
	// asked about with ServiceQuery, and the migration refuses to run while one is running.
	ServiceNames []string `mapstructure:"service_names" yaml:"service_names" json:"service_names"`
	// ServiceQuery is the argv asking the Windows service manager about a service on this
	// machine; {service} is replaced by the name.
	ServiceQuery []string `mapstructure:"service_query" yaml:"service_query" json:"service_query"`
	// RemoteServiceQuery asks about a service on the server an administrative share
	// (\\HOST\C$\…) leads to; {host} and {service} are replaced.
	RemoteServiceQuery []string `mapstructure:"remote_service_query" yaml:"remote_service_query" json:"remote_service_query"`
	// Settle is how long the source must stay unchanged (sizes and times of every file)
	// before it is copied.
	Settle time.Duration `mapstructure:"settle" yaml:"settle" json:"settle"`
	// Parallel is how many files are copied at once.
	Parallel int `mapstructure:"parallel" yaml:"parallel" json:"parallel"`
	// Exclude are the globs never copied (SmarterTools' advice: statistics, group caches
	// and search indexes are rebuilt by the new server); --exclude adds to them.
	Exclude []string `mapstructure:"exclude" yaml:"exclude" json:"exclude"`
}

// DefaultConfig returns the built-in defaults.
func DefaultConfig() Config {
	return Config{
		ServiceNames:       []string{"SmarterMail", "MailService"},
		ServiceQuery:       []string{"sc", "query", "{service}"},
		RemoteServiceQuery: []string{"sc", `\\{host}`, "query", "{service}"},
		Settle:             2 * time.Second,
		Parallel:           16,
		Exclude:            []string{"*.stat3", "*.grp", "IndexV2"},
	}
}
