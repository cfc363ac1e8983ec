package php

// Config holds the php runbook's tunables (config key "php", env HOSTFIX_PHP_*).
type Config struct {
	// RequireMbstring: check warns when mbstring is missing for any installed SAPI, the CLI
	// included (composer, drush and cron jobs need it); false turns that warning off.
	RequireMbstring bool `mapstructure:"require_mbstring" yaml:"require_mbstring" json:"require_mbstring"`
	// PackageManager is the package manager mbstring install uses: apt-get, dnf, yum or
	// zypper; empty = detect (the first of those found in /usr/bin, /bin, /usr/sbin).
	PackageManager string `mapstructure:"package_manager" yaml:"package_manager" json:"package_manager"`
	// PackageManagers are the install commands (argv; the package names are appended).
	PackageManagers PackageManagers `mapstructure:"package_managers" yaml:"package_managers" json:"package_managers"`
	// PhpenmodCommand enables a module on Debian/Ubuntu (argv; "-v VER -s SAPI mbstring"
	// is appended); empty = detect /usr/sbin/phpenmod.
	PhpenmodCommand []string `mapstructure:"phpenmod_command" yaml:"phpenmod_command" json:"phpenmod_command"`
	// RestartCommand restarts a serving service after mbstring is installed (argv; the
	// service name is appended); empty = detect (systemctl restart, else service NAME restart).
	RestartCommand []string `mapstructure:"restart_command" yaml:"restart_command" json:"restart_command"`
	// ReloadCommand reloads a serving service after max_input_vars changed (argv; the
	// service name is appended); empty = detect (systemctl reload, else service NAME reload).
	ReloadCommand []string `mapstructure:"reload_command" yaml:"reload_command" json:"reload_command"`
	// DropIn is the file name max-input-vars set writes in a SAPI's scan dir (a *.ini name,
	// no directory); it must sort after the other files there.
	DropIn string `mapstructure:"drop_in" yaml:"drop_in" json:"drop_in"`
	// SearchPath are the directories searched for php binaries (php, php8.2, php82).
	SearchPath []string `mapstructure:"search_path" yaml:"search_path" json:"search_path"`
	// ErrorLogs are extra logs check searches for "Input variables exceeded" (besides each
	// SAPI's error_log, FPM pool logs and the web server's error log).
	ErrorLogs []string `mapstructure:"error_logs" yaml:"error_logs" json:"error_logs"`
	// LogTailBytes is how much of the end of each log check reads.
	LogTailBytes int64 `mapstructure:"log_tail_bytes" yaml:"log_tail_bytes" json:"log_tail_bytes"`
	// Packages are the mbstring package name patterns per layout; {ver} is X.Y (8.2),
	// {nn} is XY (82).
	Packages Packages `mapstructure:"packages" yaml:"packages" json:"packages"`
}

// PackageManagers are the install argvs, one per package manager.
type PackageManagers struct {
	// AptGet installs on Debian/Ubuntu (run with DEBIAN_FRONTEND=noninteractive; it waits
	// up to two minutes for a dpkg lock held by another apt, e.g. unattended-upgrades).
	AptGet []string `mapstructure:"apt_get" yaml:"apt_get" json:"apt_get"`
	// Dnf installs on RHEL 8+, Fedora, AlmaLinux, Rocky.
	Dnf []string `mapstructure:"dnf" yaml:"dnf" json:"dnf"`
	// Yum installs on RHEL/CentOS 7 and CloudLinux 7.
	Yum []string `mapstructure:"yum" yaml:"yum" json:"yum"`
	// Zypper installs on SUSE.
	Zypper []string `mapstructure:"zypper" yaml:"zypper" json:"zypper"`
}

// Packages are the mbstring package names per layout.
type Packages struct {
	// Debian is the package name for the /etc/php/<X.Y> layout (Ubuntu too, and the
	// ondrej/sury repositories).
	Debian string `mapstructure:"debian" yaml:"debian" json:"debian"`
	// RHEL is the package name of the distribution PHP (/etc/php.ini) on Red Hat-like
	// systems and SUSE.
	RHEL string `mapstructure:"rhel" yaml:"rhel" json:"rhel"`
	// Remi is the name for the Remi repository's parallel PHPs (/opt/remi/php<NN>).
	Remi string `mapstructure:"remi" yaml:"remi" json:"remi"`
	// EA4 is the name for cPanel EasyApache 4 (/opt/cpanel/ea-php<NN>).
	EA4 string `mapstructure:"ea4" yaml:"ea4" json:"ea4"`
	// Plesk is the name for Plesk's PHP handlers (/opt/plesk/php/<X.Y>).
	Plesk string `mapstructure:"plesk" yaml:"plesk" json:"plesk"`
	// AltPHP is the name for CloudLinux alt-php (/opt/alt/php<NN>).
	AltPHP string `mapstructure:"alt_php" yaml:"alt_php" json:"alt_php"`
}

// DefaultConfig returns the built-in defaults.
func DefaultConfig() Config {
	return Config{
		RequireMbstring: true,
		PackageManagers: PackageManagers{
			AptGet: []string{"apt-get", "-o", "DPkg::Lock::Timeout=120", "install", "-y", "-q"},
			Dnf:    []string{"dnf", "install", "-y"},
			Yum:    []string{"yum", "install", "-y"},
			Zypper: []string{"zypper", "--non-interactive", "install", "-y"},
		},
		DropIn:       "99-hostfix.ini",
		SearchPath:   []string{"/usr/local/bin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/sbin"},
		LogTailBytes: 8 << 20,
		Packages: Packages{
			Debian: "php{ver}-mbstring",
			RHEL:   "php-mbstring",
			Remi:   "php{nn}-php-mbstring",
			EA4:    "ea-php{nn}-php-mbstring",
			Plesk:  "plesk-php{nn}-mbstring",
			AltPHP: "alt-php{nn}-mbstring",
		},
	}
}
