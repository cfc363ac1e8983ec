package cmd

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/hostfix/hostfix/pkg/iostreams"
)

// VersionInfo is what `hostfix version -o json` prints.
type VersionInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// BuildInfo returns the version stamped at release (ldflags) and the toolchain. A binary
// built without ldflags (go build, go install) falls back to what the go command recorded:
// the module version and the VCS revision and time.
func BuildInfo() VersionInfo {
	info := VersionInfo{
		Version:   version,
		Commit:    commit,
		Date:      date,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return info
	}
	if info.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		info.Version = bi.Main.Version
	}
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if info.Commit == "none" {
				info.Commit = s.Value
			}
		case "vcs.time":
			if info.Date == "unknown" {
				info.Date = s.Value
			}
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if modified && commit == "none" && info.Commit != "none" {
		info.Commit += "-dirty"
	}
	// Neither ldflags nor the go command recorded them: say so rather than "none".
	if info.Commit == "none" {
		info.Commit = "unknown"
	}
	return info
}

func newVersionCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print hostfix's version, commit, build date and Go version",
		Long: `Print hostfix's version, the commit and date it was built from (set at release) and
the Go version it was built with. -o json prints them as one object.`,
		Example: `  hostfix version
  hostfix version -o json | jq -r .version`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{noSetupKey: "true"},
		RunE: func(_ *cobra.Command, _ []string) error {
			info := BuildInfo()
			if app.Opts.Output == "json" {
				return iostreams.NewJSONEncoder(app.IO.Out).Encode(info)
			}
			why := ""
			if info.Commit == "unknown" {
				// go build stamps vcs.revision and vcs.time from a git checkout, but not with
				// -buildvcs=false (GOFLAGS) nor in a git worktree (.git is a file there).
				why = " (not recorded: built outside a git checkout, in a git worktree, or with -buildvcs=false)"
			}
			_, err := fmt.Fprintf(app.IO.Out, "hostfix %s\ncommit:     %s%s\nbuilt:      %s\ngo version: %s\nplatform:   %s\n",
				info.Version, info.Commit, why, info.Date, info.GoVersion, info.Platform)
			return err
		},
	}
}

func init() { register(newVersionCmd) }
