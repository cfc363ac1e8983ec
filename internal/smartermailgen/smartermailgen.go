// Package smartermailgen writes SmarterMail installation folders for hostfix's tests and
// benchmarks: a legacy one (Service\mailConfig.xml, domainList.xml, greylistBypass.xml,
// greylist.dat, per-domain accountList.xml) or a current one (Service\Settings\*.json with
// domains.json data_path entries), and a Domains tree of users' .eml files with sizes like
// a real mail store. It is test tooling: it only writes into a folder it is given.
package smartermailgen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Secret is the admin password written into mailConfig.xml (and the settings of a current
// install); tests assert it never shows in hostfix's output.
const Secret = "S3cr3t-DES-0x5eed-ADMIN"

// Options describe an installation.
type Options struct {
	Layout string // "legacy" or "current"
	// Install is the installation folder to write (holding Service).
	Install string
	// Domains is the folder the Domains tree is written to.
	Domains string
	// ConfigDomainsRoot is the Domains folder as the config names it (a path of the old
	// server, e.g. `C:\SmarterMail\Domains`, `\\fs1\mail$\Domains`, `/var/lib/smartermail`).
	ConfigDomainsRoot string
	// DomainNames are the domains (non-ASCII allowed); default example.com, example.net.
	DomainNames []string
	// Users per domain, Messages per user (spread over Depth nested folders).
	Users, Messages, Depth int
	// MinSize, MaxSize bound most messages; every BigEvery-th message is BigSize.
	MinSize, MaxSize, BigSize, BigEvery int
	// Extra files per domain that the default excludes leave out (*.stat3, *.grp, IndexV2).
	Excludable bool
	// Seed makes the content reproducible.
	Seed uint64
	// Mtime is the time every file gets (zero: 2026-01-02 03:04:05 UTC).
	Mtime time.Time
}

// Result says what was written.
type Result struct {
	Files int64
	Bytes int64
}

func (o *Options) defaults() {
	if len(o.DomainNames) == 0 {
		o.DomainNames = []string{"example.com", "example.net"}
	}
	if o.Users == 0 {
		o.Users = 2
	}
	if o.Messages == 0 {
		o.Messages = 3
	}
	if o.MinSize == 0 {
		o.MinSize = 2 << 10
	}
	if o.MaxSize == 0 {
		o.MaxSize = 50 << 10
	}
	if o.Mtime.IsZero() {
		o.Mtime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	}
	if o.ConfigDomainsRoot == "" {
		o.ConfigDomainsRoot = `C:\SmarterMail\Domains`
	}
}

// sep is the separator style of a config path.
func sep(root string) string {
	if strings.HasPrefix(root, "/") {
		return "/"
	}
	if strings.Contains(root, `\`) || len(root) == 2 {
		return `\`
	}
	return "/"
}

// DomainPath is the config's path of one domain.
func DomainPath(root, domain string) string {
	s := sep(root)
	return strings.TrimRight(root, `\/`) + s + domain
}

// Write writes the installation and its Domains tree.
func Write(o Options) (Result, error) {
	o.defaults()
	var res Result
	w := &writer{o: o, res: &res, rng: rand.New(rand.NewPCG(o.Seed, 77))}
	svc := filepath.Join(o.Install, "Service")
	switch o.Layout {
	case "legacy", "":
		var dl strings.Builder
		dl.WriteString("<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<domainList>\r\n")
		for _, d := range o.DomainNames {
			fmt.Fprintf(&dl, "  <domain name=\"%s\">\r\n    <path>%s</path>\r\n  </domain>\r\n", xmlEsc(d), xmlEsc(DomainPath(o.ConfigDomainsRoot, d)))
		}
		dl.WriteString("</domainList>\r\n")
		w.file(filepath.Join(svc, "domainList.xml"), []byte(dl.String()))
		w.file(filepath.Join(svc, "mailConfig.xml"), []byte("<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<mailConfig>\r\n  <adminUsername>admin</adminUsername>\r\n  <adminPassword>"+Secret+"</adminPassword>\r\n  <hostname>mail.example.com</hostname>\r\n</mailConfig>\r\n"))
		w.file(filepath.Join(svc, "greylistBypass.xml"), []byte("<?xml version=\"1.0\"?>\r\n<greylistBypass><ip>192.0.2.1</ip></greylistBypass>\r\n"))
		w.file(filepath.Join(svc, "greylist.dat"), w.random(4096))
		w.file(filepath.Join(svc, "other.log"), []byte("not copied: not one of the four files\n"))
	case "current":
		set := filepath.Join(svc, "Settings")
		doms := map[string]any{}
		for _, d := range o.DomainNames {
			doms[d] = map[string]any{"data_path": DomainPath(o.ConfigDomainsRoot, d), "enabled": true}
		}
		b, _ := json.MarshalIndent(doms, "", "  ")
		w.file(filepath.Join(set, "domains.json"), b)
		w.file(filepath.Join(set, "systemSettings.json"), []byte(`{"admin": {"username": "admin", "password": "`+Secret+`"}, "hostname": "mail.example.com"}`))
		w.file(filepath.Join(set, "licensing.json"), []byte(`{"key": "LICENSE-KEY-0000"}`))
	default:
		return res, fmt.Errorf("unknown layout %q", o.Layout)
	}
	for _, d := range o.DomainNames {
		dd := filepath.Join(o.Domains, d)
		w.file(filepath.Join(dd, "accountList.xml"), []byte("<?xml version=\"1.0\"?>\r\n<accountList><account user=\"user0\" password=\"hashed-user-password\"/></accountList>\r\n"))
		if o.Excludable {
			w.file(filepath.Join(dd, "domain.stat3"), w.random(1000))
			w.file(filepath.Join(dd, "group.grp"), w.random(500))
			w.file(filepath.Join(dd, "IndexV2", "index.dat"), w.random(3000))
		}
		for u := 0; u < o.Users; u++ {
			ud := filepath.Join(dd, "Users", fmt.Sprintf("user%d", u), "Mail")
			for m := 0; m < o.Messages; m++ {
				dir := ud
				for k := 0; k < o.Depth; k++ {
					dir = filepath.Join(dir, fmt.Sprintf("f%d", (m>>uint(k))%3))
				}
				size := o.MinSize + w.rng.IntN(o.MaxSize-o.MinSize+1)
				w.n++
				if o.BigEvery > 0 && w.n%o.BigEvery == 0 {
					size = o.BigSize // counted over the whole tree, not per mailbox
				}
				w.file(filepath.Join(dir, fmt.Sprintf("%08d.eml", m)), w.message(size))
			}
		}
	}
	return res, w.err
}

type writer struct {
	n   int // messages written
	o   Options
	res *Result
	rng *rand.Rand
	err error
}

func (w *writer) file(p string, data []byte) {
	if w.err != nil {
		return
	}
	if w.err = os.MkdirAll(filepath.Dir(p), 0o755); w.err != nil {
		return
	}
	if w.err = os.WriteFile(p, data, 0o644); w.err != nil {
		return
	}
	w.err = os.Chtimes(p, w.o.Mtime, w.o.Mtime)
	w.res.Files++
	w.res.Bytes += int64(len(data))
}

func (w *writer) random(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(w.rng.Uint32())
	}
	return b
}

// message is an RFC 5322-looking message of size bytes (headers plus base64-ish body).
func (w *writer) message(size int) []byte {
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	h := fmt.Sprintf("Return-Path: <a%d@example.org>\r\nSubject: test %d\r\nMIME-Version: 1.0\r\n\r\n", w.rng.IntN(1000), w.rng.IntN(1e6))
	b := make([]byte, 0, size)
	b = append(b, h...)
	for len(b) < size {
		if len(b)%78 == 76 {
			b = append(b, '\r', '\n')
			continue
		}
		b = append(b, alpha[w.rng.IntN(64)])
	}
	return b[:size]
}

func xmlEsc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
