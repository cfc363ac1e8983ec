package smtpport

import "github.com/hostfix/hostfix/pkg/system"

// Detect says whether `smtpport check` applies to h (hostfix doctor): xinetd's smtp_psa
// (Plesk's qmail) or Postfix serves SMTP here. It reads files only.
func Detect(h *system.Host, cfg Config) (bool, string) {
	switch {
	case h.Exists(cfg.XinetdSource):
		return true, "xinetd serves SMTP (" + cfg.XinetdSource + ")"
	case postfixPresent(h, cfg):
		return true, "Postfix serves SMTP"
	}
	return false, "neither " + cfg.XinetdSource + " nor a Postfix master.cf found"
}
