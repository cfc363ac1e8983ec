package cmd

import (
	"path/filepath"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/smartermail"
)

func init() { register(newSmartermailCmd) }

func newSmartermailCmd(app *App) *cobra.Command {
	c := &cobra.Command{
		Use:   "smartermail",
		Short: "Move a SmarterMail installation to another server, verified and resumable",
		Long: `Runbooks for SmarterMail (Windows mail server; hostfix runs on the Windows servers
themselves or on any machine that sees both installations, e.g. through shares).

  migrate  copy the configuration and the Domains tree of an installation to a new one,
           verified file by file, resumable, and rewrite the domains path when it changes

See docs/smartermail.md.`,
	}
	c.AddCommand(newSmartermailMigrateCmd(app))
	return c
}

func newSmartermailMigrateCmd(app *App) *cobra.Command {
	var o smartermail.Options
	c := &cobra.Command{
		Use:   "migrate --from OLD_INSTALL --to NEW_INSTALL",
		Short: "Copy a SmarterMail installation (configuration and Domains) to a new server",
		Long: `Migrate SmarterMail to a different server: the runbook's copy steps, done so that a
rerun is cheap and nothing is copied unverified.

OLD_INSTALL and NEW_INSTALL are installation folders (the ones holding Service\), as this
machine sees them: local folders, shares such as
"\\old\c$\Program Files (x86)\SmarterTools\SmarterMail", or mounted copies. They are
folders you name, not system paths: --root does not apply to them (it still places
hostfix's backups, lock and audit log).

The layout is detected and named with its evidence: legacy (Service\mailConfig.xml and
domainList.xml; greylistBypass.xml, greylist.dat and each domain's accountList.xml) or
current (Service\Settings\*.json with domains.json data_path entries). Legacy builds get
the four Service files copied, current builds the Settings folder. The Domains tree is
read from --domains-from (default: the common parent of the domain folders in the old
config, as seen from here — through \\HOST\C$ when --from is such a share) and written to
--domains-to (default: the same path). When the new server sees the Domains folder
elsewhere (--domains-path, default --domains-to, or D:\… for a \\HOST\D$\… destination),
every path under the old root in domainList.xml or domains.json is rewritten (Windows
rules: drive letters and names case-insensitive, either slash, UNC), the result is parsed
again, and the dry-run shows the diff.

Preflight, shown in the plan and refused with exit 2 before anything is copied: the
SmarterMail service (smartermail.service_names) must be stopped on this machine and on
the old server of a \\HOST\C$ share (Windows, sc query; elsewhere skipped with a note);
no source file may change size or time within smartermail.settle; the destination must
have room; destination files that differ are refused unless --overwrite (they are backed
up into the run's backup first). Identical files are skipped, so a rerun copies only
what is missing or changed.

Every file is copied to a temp name, given the source's time, read back and compared by
SHA-256 with what was read from the source, made durable (on Linux one syncfs per batch of
up to 1,024 files, elsewhere an fsync per file), then renamed into place;
smartermail.parallel files at once. --exclude adds globs to smartermail.exclude
(default *.stat3, *.grp, IndexV2: statistics, caches and indexes the new server
rebuilds). A progress bar shows on a terminal (not with -o json or when stderr is piped).
mailConfig.xml and other files holding passwords are copied but never shown. hostfix undo
RUN removes what the run created and puts back what it replaced.`,
		Example: `  hostfix smartermail migrate --from '\\old\c$\Program Files (x86)\SmarterTools\SmarterMail' \
      --to 'C:\Program Files (x86)\SmarterTools\SmarterMail' --dry-run
  hostfix smartermail migrate --from /mnt/old/SmarterMail --to /mnt/new/SmarterMail \
      --domains-from /mnt/old/SmarterMail-Domains --domains-to /mnt/new/Domains \
      --domains-path 'D:\SmarterMail\Domains' --overwrite --yes
  hostfix smartermail migrate --from OLD --to NEW --exclude '*.log' -o json`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{kindKey: kindChange},
		RunE: func(c *cobra.Command, _ []string) error {
			o.Config = app.Config().Smartermail
			o.StateDir = filepath.Join(app.Config().Plan.BackupDir, "copytree")
			var bar *migrateBar
			if app.IO.ErrTTY && app.Opts.Output != "json" && !app.Opts.Quiet && !app.Opts.DryRun {
				bar = &migrateBar{app: app}
				o.Progress = bar.update
			}
			p, _, err := smartermail.Plan(c.Context(), app.Host(), o)
			if err != nil {
				return err
			}
			err = app.ApplyPlan(c.Context(), p, ApplyOptions{Destructive: true,
				Question: "smartermail migrate: " + plan.Preview(p).Summary() + "?"})
			bar.finish()
			return err
		},
	}
	fl := c.Flags()
	fl.StringVar(&o.From, "from", "", "the old installation `FOLDER` (holding Service\\)")
	fl.StringVar(&o.To, "to", "", "the new installation `FOLDER`")
	fl.StringVar(&o.DomainsFrom, "domains-from", "", "read the Domains tree from `FOLDER` (default: from the old config)")
	fl.StringVar(&o.DomainsTo, "domains-to", "", "write the Domains tree to `FOLDER` (default: the old config's path)")
	fl.StringVar(&o.DomainsPath, "domains-path", "", "the Domains `PATH` as the new server sees it, written into its config (default: --domains-to; needed when the old config has Windows paths and --domains-to is not one)")
	fl.StringArrayVar(&o.Exclude, "exclude", nil, "also leave out files or folders matching `GLOB` (repeatable; adds to smartermail.exclude)")
	fl.BoolVar(&o.Overwrite, "overwrite", false, "replace destination files that differ (backed up into the run's backup first)")
	fl.BoolVar(&o.Rehash, "rehash", false, "re-read destination files already copied, to find copies damaged in place")
	fl.Duration("settle", 0, "source must not change within `DURATION` (config smartermail.settle, default 2s)")
	fl.Int("parallel", 0, "copy `N` files at once (config smartermail.parallel, default 16)")
	app.Bind(c, "settle", "smartermail.settle")
	app.Bind(c, "parallel", "smartermail.parallel")
	return c
}

// migrateBar draws one progress bar per copy step on stderr (a terminal only).
type migrateBar struct {
	app  *App
	mu   sync.Mutex
	step string
	bar  *progressbar.ProgressBar
}

func (b *migrateBar) update(step string, p plan.CopyProgress) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar == nil || b.step != step {
		if b.bar != nil {
			_ = b.bar.Finish()
		}
		b.step = step
		b.bar = progressbar.NewOptions64(p.TotalBytes,
			progressbar.OptionSetWriter(b.app.IO.ErrOut),
			progressbar.OptionSetDescription("copying "+step),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowCount(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetPredictTime(true),
		)
	}
	_ = b.bar.Set64(p.Bytes)
}

func (b *migrateBar) finish() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar != nil {
		_ = b.bar.Finish()
	}
}
