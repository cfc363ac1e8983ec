package exim

import "time"

// Config holds the exim runbook's tunables (config key "exim", env HOSTFIX_EXIM_*).
type Config struct {
	// Logs are the Exim main logs auth-check reads (system paths under --root; "-" is
	// stdin); empty = detect /var/log/exim_mainlog (cPanel), /var/log/exim4/mainlog
	// (Debian), /var/log/exim/main.log (RHEL) with their rotated siblings.
	Logs []string `mapstructure:"logs" yaml:"logs" json:"logs"`
	// Since is how far back auth-check looks (0 = the whole of every log).
	Since time.Duration `mapstructure:"since" yaml:"since" json:"since"`
	// ChkservdLog is cPanel's service monitor log, where Exim restarts are counted.
	ChkservdLog string `mapstructure:"chkservd_log" yaml:"chkservd_log" json:"chkservd_log"`
	// WarnFailures and CritFailures: account login failures (wrong passwords, brute
	// force) in the window that make auth-check warn or go critical (0 = never).
	WarnFailures int `mapstructure:"warn_failures" yaml:"warn_failures" json:"warn_failures" limit:"lte=crit_failures"`
	CritFailures int `mapstructure:"crit_failures" yaml:"crit_failures" json:"crit_failures"`
	// WarnServiceAuth and CritServiceAuth: cPanel service-auth failures (key desync) in
	// the window that make auth-check warn or go critical (0 = never).
	WarnServiceAuth int `mapstructure:"warn_service_auth" yaml:"warn_service_auth" json:"warn_service_auth" limit:"lte=crit_service_auth"`
	CritServiceAuth int `mapstructure:"crit_service_auth" yaml:"crit_service_auth" json:"crit_service_auth"`
	// WarnRestarts: Exim restarts by chkservd in the window that make auth-check warn
	// (0 = never).
	WarnRestarts int `mapstructure:"warn_restarts" yaml:"warn_restarts" json:"warn_restarts"`
	// BruteForceAccounts: one IP failing on at least this many accounts looks like brute
	// force (a dictionary of addresses).
	BruteForceAccounts int `mapstructure:"brute_force_accounts" yaml:"brute_force_accounts" json:"brute_force_accounts"`
	// BruteForceAttempts: at least this many failures from one IP, or on one account,
	// looks like brute force (password guessing).
	BruteForceAttempts int `mapstructure:"brute_force_attempts" yaml:"brute_force_attempts" json:"brute_force_attempts"`
	// Top is how many source IPs and accounts the report lists.
	Top int `mapstructure:"top" yaml:"top" json:"top"`
	// RestartCpanelCommand restarts cPanel's cpsrvd so it recreates the service-auth keys
	// (argv); empty = detect /usr/local/cpanel/scripts/restartsrv_cpsrvd, else
	// /etc/rc.d/init.d/cpanel restart (the runbook's command).
	RestartCpanelCommand []string `mapstructure:"restart_cpanel_command" yaml:"restart_cpanel_command" json:"restart_cpanel_command"`
	// RestartEximCommand restarts Exim so it reads the new keys (argv); empty = detect
	// /usr/local/cpanel/scripts/restartsrv_exim.
	RestartEximCommand []string `mapstructure:"restart_exim_command" yaml:"restart_exim_command" json:"restart_exim_command"`
	// KeyWait is how long auth-reset waits for cPanel to write the new send and recv keys.
	KeyWait time.Duration `mapstructure:"key_wait" yaml:"key_wait" json:"key_wait"`
}

// DefaultConfig returns the built-in defaults.
func DefaultConfig() Config {
	return Config{
		Since:              24 * time.Hour,
		ChkservdLog:        "/var/log/chkservd.log",
		WarnFailures:       100,
		CritFailures:       1000,
		WarnServiceAuth:    1,
		CritServiceAuth:    3,
		WarnRestarts:       2,
		BruteForceAccounts: 5,
		BruteForceAttempts: 20,
		Top:                10,
		KeyWait:            30 * time.Second,
	}
}
