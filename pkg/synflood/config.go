package synflood

import "time"

// Config holds the synflood runbook's tunables; defaults come from DefaultConfig and can be
// overridden in the config file (key "synflood"), by HOSTFIX_SYNFLOOD_* or by flags.
type Config struct {
	// Interval is how long check waits between two counter samples to compute rates.
	Interval time.Duration `mapstructure:"interval" yaml:"interval" json:"interval"`
	// StateFile keeps the previous counter sample between runs (cron use); empty = off.
	StateFile string `mapstructure:"state_file" yaml:"state_file" json:"state_file"`
	// QueueWarnPercent: warning when a listener's SYN queue passes this share of its cap.
	QueueWarnPercent float64 `mapstructure:"queue_warn_percent" yaml:"queue_warn_percent" json:"queue_warn_percent" limit:"max=100,lte=queue_crit_percent"`
	// QueueCritPercent: critical when the queue reaches this share of its cap with cookies off.
	QueueCritPercent float64 `mapstructure:"queue_crit_percent" yaml:"queue_crit_percent" json:"queue_crit_percent" limit:"max=100"`
	// CookiesWarnRate: warning when SYN cookies are sent faster than this (per second).
	CookiesWarnRate float64 `mapstructure:"cookies_warn_rate" yaml:"cookies_warn_rate" json:"cookies_warn_rate"`
	// DropsCritRate: critical when SYNs are dropped faster than this (per second).
	DropsCritRate float64 `mapstructure:"drops_crit_rate" yaml:"drops_crit_rate" json:"drops_crit_rate"`
	// ProbeTimeout bounds a --probe connection or request.
	ProbeTimeout time.Duration `mapstructure:"probe_timeout" yaml:"probe_timeout" json:"probe_timeout"`
	// ProbeWarn and ProbeCrit are latency limits for --probe.
	ProbeWarn time.Duration `mapstructure:"probe_warn" yaml:"probe_warn" json:"probe_warn" limit:"lte=probe_crit"`
	ProbeCrit time.Duration `mapstructure:"probe_crit" yaml:"probe_crit" json:"probe_crit"`
	// TopSources is how many remote addresses and networks check lists.
	TopSources int `mapstructure:"top_sources" yaml:"top_sources" json:"top_sources"`
	// Backlog is the tcp_max_syn_backlog fix raises to (never lowers).
	Backlog int `mapstructure:"backlog" yaml:"backlog" json:"backlog" limit:"min=1"`
	// SynackRetries, when > 0, is the tcp_synack_retries fix sets.
	SynackRetries int `mapstructure:"synack_retries" yaml:"synack_retries" json:"synack_retries" limit:"max=255"`
	// PersistFile is where fix persists values; empty = a sysctl.d drop-in that wins at boot.
	PersistFile string `mapstructure:"persist_file" yaml:"persist_file" json:"persist_file"`
	// DropIn is the default persist file's path.
	DropIn string `mapstructure:"drop_in" yaml:"drop_in" json:"drop_in"`
	// Sockets is how check lists sockets: auto (sock_diag on a live host, /proc/net/tcp
	// under --root or when netlink fails), netlink or proc.
	Sockets string `mapstructure:"sockets" yaml:"sockets" json:"sockets"`
	// ProcByteOrder is the byte order of the host that wrote the /proc/net/tcp files read
	// (native, little or big): set it to analyse a snapshot taken on another architecture.
	ProcByteOrder string `mapstructure:"proc_byte_order" yaml:"proc_byte_order" json:"proc_byte_order"`
	// SpoofedRecvRatio: when SYN cookies come back (SyncookiesRecv) at less than this share
	// of those sent, the sources are most likely spoofed.
	SpoofedRecvRatio float64 `mapstructure:"spoofed_recv_ratio" yaml:"spoofed_recv_ratio" json:"spoofed_recv_ratio" limit:"max=1"`
	// KernelLog reads /dev/kmsg on a live host for "Possible SYN flooding" lines.
	KernelLog bool `mapstructure:"kernel_log" yaml:"kernel_log" json:"kernel_log"`
}

// DefaultConfig returns the built-in defaults.
func DefaultConfig() Config {
	return Config{
		Interval:         time.Second,
		QueueWarnPercent: 50,
		QueueCritPercent: 100,
		CookiesWarnRate:  0,
		DropsCritRate:    0,
		ProbeTimeout:     5 * time.Second,
		ProbeWarn:        time.Second,
		ProbeCrit:        3 * time.Second,
		TopSources:       10,
		Backlog:          2048,
		DropIn:           "/etc/sysctl.d/99-zz-hostfix-synflood.conf",
		Sockets:          "auto",
		ProcByteOrder:    "native",
		SpoofedRecvRatio: 0.1,
		KernelLog:        true,
	}
}
