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
	// MTA is the mail system whose queue mailq works on: auto (detect which MTA owns a
	// queue on this host, also under --root), qmail, exim or postfix.
	MTA string `mapstructure:"mta" yaml:"mta" json:"mta"`
	// EximSpool is Exim's input directory (spool_directory + /input); empty = the first
	// of /var/spool/exim/input (cPanel, RHEL) and /var/spool/exim4/input (Debian) found.
	EximSpool string `mapstructure:"exim_spool" yaml:"exim_spool" json:"exim_spool"`
	// EximCommand starts every Exim call (-Mrm, -Mf, -qff, -M): the binary and any
	// leading arguments, e.g. [exim4, -C, /etc/exim4/test.conf]; empty = detect exim4 or
	// exim on PATH, /usr/sbin, /usr/local/sbin (not run under --root when detected).
	EximCommand []string `mapstructure:"exim_command" yaml:"exim_command" json:"exim_command"`
	// PostfixQueue is Postfix's queue_directory, used to detect Postfix; empty = /var/spool/postfix.
	PostfixQueue string `mapstructure:"postfix_queue" yaml:"postfix_queue" json:"postfix_queue"`
	// PostqueueCommand, PostsuperCommand and PostcatCommand start the Postfix calls
	// (postqueue -j/-f/-i, postsuper -d/-h/-H -, postcat -q), e.g. [postsuper, -c, DIR];
	// empty = detect on PATH and /usr/sbin.
	PostqueueCommand []string `mapstructure:"postqueue_command" yaml:"postqueue_command" json:"postqueue_command"`
	PostsuperCommand []string `mapstructure:"postsuper_command" yaml:"postsuper_command" json:"postsuper_command"`
	PostcatCommand   []string `mapstructure:"postcat_command" yaml:"postcat_command" json:"postcat_command"`
	// FlushCommand asks qmail-send to retry its queue now (mailq flush), e.g. [qmailctl,
	// flush]; empty = send ALRM to qmail-send found through the detected service.
	FlushCommand []string `mapstructure:"flush_command" yaml:"flush_command" json:"flush_command"`
	// BodyScanBytes caps how much of each message body --body reads.
	BodyScanBytes int64 `mapstructure:"body_scan_bytes" yaml:"body_scan_bytes" json:"body_scan_bytes" limit:"min=1"`
	// EximBatch is how many message ids go into one exim -Mrm/-Mf/-M call (and one
	// postsuper -d/-h stdin batch).
	EximBatch int `mapstructure:"exim_batch" yaml:"exim_batch" json:"exim_batch" limit:"min=1,max=10000"`
}

// DefaultConfig returns the built-in defaults.
func DefaultConfig() Config {
	return Config{
		Queue:         "/var/qmail/queue",
		LockWait:      2 * time.Minute,
		WarnMessages:  1000,
		CritMessages:  10000,
		WarnAge:       24 * time.Hour,
		CritAge:       72 * time.Hour,
		MTA:           "auto",
		BodyScanBytes: 1 << 20,
		EximBatch:     1000,
	}
}
