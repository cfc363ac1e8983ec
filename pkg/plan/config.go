package plan

import "time"

// Config holds the plan/apply layer's settings (config key "plan", env HOSTFIX_PLAN_*).
// Paths are system paths, resolved under --root.
type Config struct {
	// LockFile serialises mutating runs.
	LockFile string `mapstructure:"lock_file" yaml:"lock_file" json:"lock_file"`
	// LockTimeout is how long a run waits for another run's lock.
	LockTimeout time.Duration `mapstructure:"lock_timeout" yaml:"lock_timeout" json:"lock_timeout"`
	// BackupDir holds one directory per run with the saved originals and a manifest.
	BackupDir string `mapstructure:"backup_dir" yaml:"backup_dir" json:"backup_dir"`
	// HistoryFile is the audit log, one JSON line per applied run.
	HistoryFile string `mapstructure:"history_file" yaml:"history_file" json:"history_file"`
}

// DefaultConfig returns the built-in defaults.
func DefaultConfig() Config {
	return Config{
		LockFile:    "/run/hostfix.lock",
		LockTimeout: 30 * time.Second,
		BackupDir:   "/var/backups/hostfix",
		HistoryFile: "/var/log/hostfix/history.jsonl",
	}
}
