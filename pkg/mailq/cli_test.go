//go:build unix

package mailq_test

// End-to-end tests of `hostfix mailq` as a real process: testscript scenarios on
// generated queues (testdata/mailq/script) and integration tests where a helper process
// stands in for qmail-send by holding the flock on lock/sendmutex.

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hostfix/hostfix/cmd"
	"github.com/hostfix/hostfix/internal/qmailgen"
	"github.com/hostfix/hostfix/internal/scripttest"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"hostfix":      func() { os.Exit(cmd.Execute()) },
		"mailq-helper": func() { os.Exit(helperMain(os.Args[1:])) },
	})
}

// helperMain plays qmail-send and its service manager:
//
//	mailq-helper qmail-send QUEUE PIDFILE   hold QUEUE/lock/sendmutex until SIGTERM, then
//	                                         check the queue is untouched and exit after 400 ms
//	mailq-helper stop PIDFILE [VICTIM]      send SIGTERM and return at once (like svc -d);
//	                                         with VICTIM, also swap that file for a symlink
//	                                         (so removing it fails half way through a purge)
//	mailq-helper start QUEUE PIDFILE        start a new qmail-send in the background
//	mailq-helper stuck QUEUE PIDFILE        hold the lock and ignore SIGTERM
//	mailq-helper noop                       do nothing
func helperMain(args []string) int {
	if len(args) == 0 {
		return 2
	}
	switch args[0] {
	case "noop":
		return 0
	case "qmail-send", "stuck":
		q, pidfile := args[1], args[2]
		f, err := os.OpenFile(filepath.Join(q, "lock", "sendmutex"), os.O_RDWR, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			return 1
		}
		term := make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		before := countFiles(q)
		if err := writeAtomic(pidfile, strconv.Itoa(os.Getpid())); err != nil {
			return 1
		}
		timeout := time.After(2 * time.Minute) // never outlive a test
		for {
			select {
			case <-term:
				if args[0] == "stuck" {
					continue
				}
				// qmail-send finishes its deliveries before it lets go of the lock; while it
				// still holds it, nobody may have touched the queue.
				time.Sleep(400 * time.Millisecond)
				log := "intact"
				if n := countFiles(q); n != before {
					log = fmt.Sprintf("queue changed while qmail-send held the lock: %d files, was %d", n, before)
				}
				os.WriteFile(pidfile+".log", []byte(log), 0o644)
				return 0
			case <-timeout:
				return 3
			}
		}
	case "stop":
		b, err := os.ReadFile(args[1])
		if err != nil {
			return 1
		}
		pid, _ := strconv.Atoi(string(b))
		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
			return 1
		}
		if len(args) > 2 {
			v, saved := args[2], filepath.Join(filepath.Dir(args[1]), "victim.saved")
			if err := os.Rename(v, saved); err != nil {
				return 1
			}
			if err := os.Symlink(saved, v); err != nil {
				return 1
			}
		}
		return 0
	case "start":
		self, err := os.Executable()
		if err != nil {
			return 1
		}
		old, _ := os.ReadFile(args[2])
		c := exec.Command(self, "qmail-send", args[1], args[2])
		c.Args[0] = "mailq-helper"
		c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := c.Start(); err != nil {
			return 1
		}
		for i := 0; i < 100; i++ {
			if b, _ := os.ReadFile(args[2]); len(b) > 0 && string(b) != string(old) {
				return 0
			}
			time.Sleep(20 * time.Millisecond)
		}
		return 1
	}
	return 2
}

func writeAtomic(path, s string) error {
	if err := os.WriteFile(path+".tmp", []byte(s), 0o644); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

func countFiles(q string) int {
	n := 0
	filepath.WalkDir(q, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

// TestScripts runs testdata/mailq/script/*.txtar; `genqueue DIR N [SPLIT] [big-todo]`
// writes a generated queue (seed 1, small bodies) before the CLI is run on it, and
// `envelope FILE REC...` writes NUL-terminated envelope records (txtar cannot hold a file
// that does not end in a newline).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "../../testdata/mailq/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			scripttest.Scrub(env)
			return nil
		},
		Condition: scripttest.Condition,
		Cmds: scripttest.Commands(map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"genqueue": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 2 {
					ts.Fatalf("usage: genqueue DIR N [SPLIT] [big-todo]")
				}
				n, err := strconv.Atoi(args[1])
				ts.Check(err)
				o := qmailgen.Options{Messages: n, Seed: 1, NoBodies: true, Queued: 0.1}
				o.Split = 23
				if len(args) > 2 {
					o.Split, err = strconv.Atoi(args[2])
					ts.Check(err)
				}
				o.BigTodo = len(args) > 3 && args[3] == "big-todo"
				_, err = qmailgen.Generate(ts.MkAbs(args[0]), o)
				ts.Check(err)
			},
			"envelope": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 1 {
					ts.Fatalf("usage: envelope FILE RECORD...")
				}
				var b []byte
				for _, r := range args[1:] {
					b = append(append(b, r...), 0)
				}
				ts.Check(os.WriteFile(ts.MkAbs(args[0]), b, 0o600))
			},
		}),
	})
}
