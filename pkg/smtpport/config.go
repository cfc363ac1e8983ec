package smtpport

import "time"

// Config holds the smtpport runbook's tunables (config key "smtpport", env
// HOSTFIX_SMTPPORT_*). Commands are argvs, never shell strings; an empty one means
// "detect it on the host".
type Config struct {
	// Port is the alternate SMTP port to add, check or remove.
	Port int `mapstructure:"port" yaml:"port" json:"port" limit:"min=1,max=65535"`
	// Name is the service name (xinetd service id and /etc/services name); empty = smtp_p<port>.
	Name string `mapstructure:"name" yaml:"name" json:"name"`
	// Mode is how add creates the port: auto (xinetd when /etc/xinetd.d/smtp_psa exists,
	// postfix when Postfix is the MTA), xinetd or postfix.
	Mode string `mapstructure:"mode" yaml:"mode" json:"mode"`
	// XinetdConf is xinetd's main configuration file; its include and includedir lines are
	// followed to find every service xinetd reads.
	XinetdConf string `mapstructure:"xinetd_conf" yaml:"xinetd_conf" json:"xinetd_conf"`
	// XinetdDir is the directory xinetd includes service files from.
	XinetdDir string `mapstructure:"xinetd_dir" yaml:"xinetd_dir" json:"xinetd_dir"`
	// XinetdSource is the service file the new one is copied from (Plesk's qmail SMTP service).
	XinetdSource string `mapstructure:"xinetd_source" yaml:"xinetd_source" json:"xinetd_source"`
	// ServicesFile is the services database the xinetd service name is added to.
	ServicesFile string `mapstructure:"services_file" yaml:"services_file" json:"services_file"`
	// XinetdReloadCommand makes xinetd re-read its configuration (argv); empty = detect:
	// systemctl reload xinetd, the init script, or SIGHUP to the pid in /var/run/xinetd.pid.
	XinetdReloadCommand []string `mapstructure:"xinetd_reload_command" yaml:"xinetd_reload_command" json:"xinetd_reload_command"`
	// PostfixDir is Postfix's configuration directory (main.cf, master.cf).
	PostfixDir string `mapstructure:"postfix_dir" yaml:"postfix_dir" json:"postfix_dir"`
	// PostfixReloadCommand reloads Postfix (argv); empty = detect: Plesk's
	// mailmng --reload-service when present, else postfix reload.
	PostfixReloadCommand []string `mapstructure:"postfix_reload_command" yaml:"postfix_reload_command" json:"postfix_reload_command"`
	// PostconfCommand is the postconf used to parse-check an edited master.cf ("-c DIR -M"
	// is appended); empty = /usr/sbin/postconf when present, else hostfix's own parser.
	PostconfCommand []string `mapstructure:"postconf_command" yaml:"postconf_command" json:"postconf_command"`
	// VerifyTimeout bounds the wait for a 220 banner after add (and for check's probe).
	VerifyTimeout time.Duration `mapstructure:"verify_timeout" yaml:"verify_timeout" json:"verify_timeout"`
	// VerifyWait is how long add keeps retrying the banner while the server picks up its
	// new configuration (a reload is asynchronous).
	VerifyWait time.Duration `mapstructure:"verify_wait" yaml:"verify_wait" json:"verify_wait"`
	// LogFile is the log add quotes when the banner check fails; empty = detect (xinetd:
	// a FILE log_type in /etc/xinetd.conf, else /var/log/syslog or /var/log/messages;
	// postfix: /var/log/mail.log or /var/log/maillog).
	LogFile string `mapstructure:"log_file" yaml:"log_file" json:"log_file"`
	// FirewalldCommand is firewall-cmd (argv prefix); empty = detect /usr/bin/firewall-cmd.
	FirewalldCommand []string `mapstructure:"firewalld_command" yaml:"firewalld_command" json:"firewalld_command"`
	// UfwCommand is ufw (argv prefix); empty = detect /usr/sbin/ufw.
	UfwCommand []string `mapstructure:"ufw_command" yaml:"ufw_command" json:"ufw_command"`
	// ApfReloadCommand restarts APF after /etc/apf/conf.apf changes; empty = detect apf -r.
	ApfReloadCommand []string `mapstructure:"apf_reload_command" yaml:"apf_reload_command" json:"apf_reload_command"`
	// CsfReloadCommand restarts CSF after /etc/csf/csf.conf changes; empty = detect csf -r.
	CsfReloadCommand []string `mapstructure:"csf_reload_command" yaml:"csf_reload_command" json:"csf_reload_command"`
	// NftCommand lists the nftables ruleset on a live host (argv); empty = detect nft.
	NftCommand []string `mapstructure:"nft_command" yaml:"nft_command" json:"nft_command"`
	// IptablesSaveCommand dumps iptables rules on a live host (argv); empty = detect iptables-save.
	IptablesSaveCommand []string `mapstructure:"iptables_save_command" yaml:"iptables_save_command" json:"iptables_save_command"`
}

// DefaultConfig returns the built-in defaults.
func DefaultConfig() Config {
	return Config{
		Port:          26,
		Mode:          "auto",
		XinetdConf:    "/etc/xinetd.conf",
		XinetdDir:     "/etc/xinetd.d",
		XinetdSource:  "/etc/xinetd.d/smtp_psa",
		ServicesFile:  "/etc/services",
		PostfixDir:    "/etc/postfix",
		VerifyTimeout: 5 * time.Second,
		VerifyWait:    10 * time.Second,
	}
}

// Config keys of the commands, named in plans and refusals.
const (
	keyXinetdReload  = "smtpport.xinetd_reload_command"
	keyPostfixReload = "smtpport.postfix_reload_command"
	keyPostconf      = "smtpport.postconf_command"
	keyFirewalld     = "smtpport.firewalld_command"
	keyUfw           = "smtpport.ufw_command"
	keyApfReload     = "smtpport.apf_reload_command"
	keyCsfReload     = "smtpport.csf_reload_command"
	keyNft           = "smtpport.nft_command"
	keyIptablesSave  = "smtpport.iptables_save_command"
)
