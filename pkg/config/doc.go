// Package config loads hostfix's one typed configuration: built-in defaults, overridden by
// the config file, then HOSTFIX_<KEY> environment variables, then flags bound to keys (the
// strongest). It knows where every value came from (for `hostfix config show`), rejects
// unknown keys and badly typed values naming the file and line (or the variable or flag),
// and renders the commented example file shipped in packages. Each runbook declares its
// own Config struct with defaults in pkg/<runbook>/config.go; this package only embeds
// them. It reads the config file and nothing else: it never touches the host, and it does
// not decide what a value means (runbooks validate their own ranges).
package config
