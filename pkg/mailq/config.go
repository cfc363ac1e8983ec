package mailq

import "time"

// Config holds the mailq runbook's tunables (config key "mailq", env HOSTFIX_MAILQ_*).
type Config struct {
	// Queue is the qmail queue directory.
	Queue string `mapstructure:"queue" yaml:"queue" json:"queue"`
	// StopCommand and StartCommand stop and start qmail-send (argv); empty = detect
	// (qmailctl, daemontools svc, systemd, init script).
	StopCommand  []string `mapstructure:"stop_command" yaml:"stop_command" json:"stop_command"`
	StartCommand []string `mapstructure:"start_command" yaml:"start_command" json:"start_command"`
	// LockWait is how long purge waits for qmail-send to release lock/sendmutex.
	LockWait time.Duration `mapstructure:"lock_wait" yaml:"lock_wait" json:"lock_wait"`
	// Thresholds for stats as a check.
	WarnMessages int           `mapstructure:"warn_messages" yaml:"warn_messages" json:"warn_messages" limit:"lte=crit_messages"`
	CritMessages int           `mapstructure:"crit_messages" yaml:"crit_messages" json:"crit_messages"`
	WarnAge      time.Duration `mapstructure:"warn_age" yaml:"warn_age" json:"warn_age" limit:"lte=crit_age"`
	CritAge      time.Duration `mapstructure:"crit_age" yaml:"crit_age" json:"crit_age"`
}

// DefaultConfig returns the built-in defaults.
func DefaultConfig() Config {
	return Config{
		Queue:        "/var/qmail/queue",
		LockWait:     2 * time.Minute,
		WarnMessages: 1000,
		CritMessages: 10000,
		WarnAge:      24 * time.Hour,
		CritAge:      72 * time.Hour,
	}
}
