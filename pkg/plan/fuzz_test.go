package plan

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var manifestSeeds = []string{
	`{"action":"edit","path":"/etc/sysctl.conf","mode":"0644","uid":0,"gid":0,"size":120,"sha256":"ab","new_sha256":"cd","backup":"files/etc/sysctl.conf"}`,
	`{"action":"create","path":"/etc/hostfix/x.conf","mode":"0600","uid":-1,"gid":-1,"new_sha256":"cd"}`,
	`{"action":"remove_files","path":"/var/qmail/queue","uid":-1,"gid":-1,"size":5600000,"backup":"removed"}`,
	`{"action":"remove","path":"/var/qmail/queue/mess/3/1234","mode":"0600","uid":89,"gid":82,"size":2048,"backup":"removed/var/qmail/queue/mess/3/1234"}`,
	`{"action":"delete","path":"/var/qmail/queue/mess/3/1235","mode":"0600","uid":89,"gid":82,"size":1}`,
	`{"action":"move","path":"/etc/xinetd.d/smtp_psa","to":"/etc/xinetd.d/disabled/smtp_psa","uid":-1,"gid":-1}`,
	`{"action":"sysctl","key":"net.ipv4.tcp_rmem","path":"/proc/sys/net/ipv4/tcp_rmem","old":"4096 87380 6291456","new":"4096 87380 16777216","uid":-1,"gid":-1}`,
	`{"action":"edit","path":"/etc/x","mode":"0644","uid":0,"gid":0,"backup":"../../etc/shadow"}`,
	`{"action":"edit","path":"etc/x","mode":"0644","backup":"files/x"}`,
	`{"action":"remove","path":"/a/../b","mode":"0600","backup":"removed/b"}`,
	`{"action":"sysctl","key":"../../etc/passwd"}`,
	`{"action":"edit","path":"/etc/x","mode":"99999","backup":"files/x"}`,
	`{"action":"nuke"}`,
	`{"action":"create","path":"/x"} {"action":"create","path":"/y"}`,
	`{"action":"remove","path":"/var/q/\u00e9\"x","mode":"0600","uid":0,"gid":0,"size":1,"backup":"removed/var/q/\u00e9\"x"}`,
	`{"action":"mkdir","path":"/etc/hostfix/new","mode":"0755","uid":-1,"gid":-1}`,
	`{"action":"times","path":"/var/qmail/queue/info/1/101","uid":-1,"gid":-1,"atime_ns":1577836800000000000,"mtime_ns":1577836800123456789,"new_mtime_ns":1796122462000000000}`,
	`{"action":"times","path":"info/1/101","uid":-1,"gid":-1}`,
	`{"action":"undo_command","uid":-1,"gid":-1,"args":["postsuper","-c","/etc/postfix","-H","-"],"key":"mailq.postsuper_command","detected":true,"stdin":"OUQxNzY5OTAyQzEK","detail":"release","for":"command postsuper -h -"}`,
	`{"action":"undo_command","uid":-1,"gid":-1,"args":[""]}`,
	`{"action":"mkdir","path":"relative/dir"}`,
	`{"action":"remove_dir","path":"/var/cpanel/serviceauth/exim","mode":"0700","uid":0,"gid":0,"size":64,"backup":"dirs/var/cpanel/serviceauth/exim","secret":true}`,
	`{"action":"remove_dir","path":"/var/x","backup":"../../x"}`,
	`{"action":"remove_dir","path":"/var/x"}`,
	`{"action":"written","path":"/etc/owned","uid":-1,"gid":-1,"new_sha256":"ab"}`,
	`{"action":"written","path":"/etc/owned","uid":-1,"gid":-1,"removed":true}`,
	``,
	`null`,
}

// FuzzParseManifestLine: whatever the manifest holds, an accepted entry never points a
// restore outside the run directory or at a relative path, and round-trips.
func FuzzParseManifestLine(f *testing.F) {
	for _, s := range manifestSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		e, err := ParseManifestLine(line)
		if err != nil {
			return
		}
		if e.Path != "" && (!filepath.IsAbs(e.Path) || filepath.Clean(e.Path) != e.Path) {
			t.Fatalf("accepted path %q", e.Path)
		}
		if e.Backup != "" {
			if c := filepath.Clean(e.Backup); filepath.IsAbs(c) || c == "." || c == ".." || strings.HasPrefix(c, "../") {
				t.Fatalf("accepted backup %q", e.Backup)
			}
			if !strings.HasPrefix(filepath.Join("/run", e.Backup), "/run/") {
				t.Fatalf("backup %q escapes", e.Backup)
			}
		}
		if e.Action == EntrySysctl && strings.Contains(SysctlPath(e.Key), "..") {
			t.Fatalf("accepted key %q", e.Key)
		}
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		e2, err := ParseManifestLine(b)
		if err != nil || !reflect.DeepEqual(e, e2) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, e, e2)
		}
	})
}

// The fast encoder for bulk removals writes exactly what ReadManifest reads back.
func TestManifestFastEncoderMatchesParser(t *testing.T) {
	path := filepath.Join(t.TempDir(), "manifest.jsonl")
	m, err := openManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{"/var/q/1", "/var/q/é\"x\\y<&>", "/var/q/\x01ctl", "/var/q/bad\xffutf8"}
	for i, p := range paths {
		m.addFile(EntryRemove, p, "removed"+p, os.ModeSetgid|0o640, 89, 82, int64(i))
	}
	if err := m.close(); err != nil {
		t.Fatal(err)
	}
	ents, _, err := ReadManifest(path)
	if err != nil || len(ents) != len(paths) {
		t.Fatalf("%d entries, %v", len(ents), err)
	}
	for i, e := range ents {
		want := strings.ToValidUTF8(paths[i], "\uFFFD")
		if e.Path != want || e.Mode != "2640" || e.UID != 89 || e.GID != 82 || e.Size != int64(i) || e.Backup != "removed"+want {
			t.Errorf("entry %d: %+v", i, e)
		}
	}
}

// A manifest cut short by a kill mid-line loses only that line.
func TestReadManifestTruncated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "manifest.jsonl")
	os.WriteFile(path, []byte(manifestSeeds[1]+"\n"+manifestSeeds[0][:40]), 0o600)
	ents, cut, err := ReadManifest(path)
	if err != nil || len(ents) != 1 || !cut {
		t.Fatalf("%v %v", ents, err)
	}
	os.WriteFile(path, []byte(manifestSeeds[7]+"\n"+manifestSeeds[1]+"\n"), 0o600)
	if _, _, err := ReadManifest(path); err == nil || !strings.Contains(err.Error(), ":1:") {
		t.Fatalf("bad first line: %v", err)
	}
}

func FuzzParseHistoryLine(f *testing.F) {
	f.Add([]byte(`{"time":"2026-11-28T07:30:00Z","user":"root","command_line":["hostfix","synflood","fix"],"command":"synflood fix","run_id":"20261128T073000Z-1a2b","backup_dir":"/var/backups/hostfix/20261128T073000Z-1a2b","result":"ok","actions":[{"kind":"sysctl","op":"~","target":"net.ipv4.tcp_syncookies","phase":"action","changed":true}]}`))
	f.Add([]byte(`{"time":"2026-11-28T07:30:00Z","run_id":"../../etc"}`))
	f.Add([]byte(`{"run_id":"20261128T073000Z-1a2b"}`))
	f.Add([]byte(`{"time":"2026-11-28T07:30:00Z","run_id":"20261128T073000Z-1a2b","undoes":"20261127T000000Z-0000","result":"failed","error":"x","restored":["/etc/a"]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, line []byte) {
		e, err := ParseHistoryLine(line)
		if err != nil {
			return
		}
		if !ValidRunID(e.RunID) || strings.ContainsAny(e.RunID, "/.") {
			t.Fatalf("accepted run id %q", e.RunID)
		}
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		e2, err := ParseHistoryLine(b)
		if err != nil || e2.RunID != e.RunID || !e2.Time.Equal(e.Time) || len(e2.Actions) != len(e.Actions) {
			t.Fatalf("round trip: %v", err)
		}
		_ = e.ChangedTargets()
	})
}
