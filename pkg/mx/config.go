package mx

import "time"

// Config holds the mx runbook's tunables (config key "mx", env HOSTFIX_MX_*).
type Config struct {
	// Resolvers are the DNS servers asked, IP:PORT (a bare IP means port 53; an IP address, not a name); empty =
	// the nameserver lines of /etc/resolv.conf (under --root).
	Resolvers []string `mapstructure:"resolvers" yaml:"resolvers" json:"resolvers"`
	// Timeout bounds one DNS query to one server.
	Timeout time.Duration `mapstructure:"timeout" yaml:"timeout" json:"timeout"`
	// Retries is how many times a query that timed out is sent again (to each server), at
	// most 10.
	Retries int `mapstructure:"retries" yaml:"retries" json:"retries" limit:"max=10"`
	// Parallel is how many domains are looked up at once (at most 4096).
	Parallel int `mapstructure:"parallel" yaml:"parallel" json:"parallel" limit:"max=4096"`
	// LocalAddresses are this host's addresses that no interface shows (a public address
	// NATed to it); the live interfaces' addresses always count.
	LocalAddresses []string `mapstructure:"local_addresses" yaml:"local_addresses" json:"local_addresses"`
	// MTA is the mail server whose local-domain lists are read and edited: cpanel, sendmail,
	// postfix or exim4 (Debian); empty = detect from the files present.
	MTA string `mapstructure:"mta" yaml:"mta" json:"mta"`
	// MailLog is the mail log searched for the MTA's error text; empty = the MTA's usual log.
	MailLog string `mapstructure:"mail_log" yaml:"mail_log" json:"mail_log"`
	// PostfixConfigDir is the directory holding Postfix's main.cf.
	PostfixConfigDir string `mapstructure:"postfix_config_dir" yaml:"postfix_config_dir" json:"postfix_config_dir"`
	// SendmailRestartCommand restarts Sendmail after local-host-names changed (argv); empty =
	// detect (systemctl restart sendmail, or /etc/init.d/sendmail restart).
	SendmailRestartCommand []string `mapstructure:"sendmail_restart_command" yaml:"sendmail_restart_command" json:"sendmail_restart_command"`
	// PostfixReloadCommand reloads Postfix after main.cf changed (argv); empty = detect
	// (postfix reload).
	PostfixReloadCommand []string `mapstructure:"postfix_reload_command" yaml:"postfix_reload_command" json:"postfix_reload_command"`
	// Exim4UpdateCommand regenerates Debian's exim4 configuration after
	// update-exim4.conf.conf changed (argv); empty = detect (update-exim4.conf).
	Exim4UpdateCommand []string `mapstructure:"exim4_update_command" yaml:"exim4_update_command" json:"exim4_update_command"`
	// Exim4RestartCommand restarts Debian's exim4 after update-exim4.conf (argv); empty =
	// detect (systemctl restart exim4, or /etc/init.d/exim4 restart).
	Exim4RestartCommand []string `mapstructure:"exim4_restart_command" yaml:"exim4_restart_command" json:"exim4_restart_command"`
	// EximCommand is the Exim binary fix verifies routing with (`EXIM -bt postmaster@DOMAIN`);
	// empty = detect (exim on cPanel, exim4 on Debian).
	EximCommand []string `mapstructure:"exim_command" yaml:"exim_command" json:"exim_command"`
	// SendmailCommand is the Sendmail binary fix verifies with (`sendmail -bv`); empty = detect.
	SendmailCommand []string `mapstructure:"sendmail_command" yaml:"sendmail_command" json:"sendmail_command"`
	// PostconfCommand is the postconf fix verifies Postfix with (`postconf -x -h
	// mydestination virtual_mailbox_domains`); empty = detect.
	PostconfCommand []string `mapstructure:"postconf_command" yaml:"postconf_command" json:"postconf_command"`
}

// DefaultConfig returns the built-in defaults.
func DefaultConfig() Config {
	return Config{
		Timeout:          2 * time.Second,
		Retries:          2,
		Parallel:         64,
		PostfixConfigDir: "/etc/postfix",
	}
}
