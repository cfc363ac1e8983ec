package smartermail

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Layout kinds.
const (
	Legacy  = "legacy"  // SmarterMail up to 15.x/16.x: Service\mailConfig.xml, domainList.xml
	Current = "current" // later builds: Service\Settings\*.json, domains.json
)

// Layout is what Detect found in an installation folder.
type Layout struct {
	Kind string
	Root string // the installation folder (holding Service)
	// ConfigFiles are the files to copy, slash-separated and relative to Root, in the
	// spelling found on disk.
	ConfigFiles []string
	// DomainsFile is the config file naming each domain's folder (relative to Root).
	DomainsFile string
	// DomainPaths are the domain folders as the config names them (paths of the old server).
	DomainPaths []string
	// Evidence says what Detect saw, for the plan's notes.
	Evidence []string
	// Secrets are password values found in mailConfig.xml and the settings, masked in
	// every output.
	Secrets []string
	// SecretFiles are globs of files that hold passwords.
	SecretFiles []string
}

// legacyFiles are the Service files the runbook copies (SmarterMail 8.x and later legacy).
var legacyFiles = []string{"mailConfig.xml", "domainList.xml", "greylistBypass.xml", "greylist.dat"}

// findChild returns the name of dir's entry matching name case-insensitively (Windows
// folders copied to another system keep their spelling, which may not be the documented one).
func findChild(dir, name string) (string, fs.FileInfo, bool) {
	if fi, err := os.Stat(filepath.Join(dir, name)); err == nil {
		return name, fi, true
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", nil, false
	}
	for _, e := range ents {
		if strings.EqualFold(e.Name(), name) {
			if fi, err := os.Stat(filepath.Join(dir, e.Name())); err == nil {
				return e.Name(), fi, true
			}
		}
	}
	return "", nil, false
}

// Detect inspects an installation folder (a user path: a local folder, a share, a mount).
func Detect(root string) (*Layout, error) {
	svc, fi, ok := findChild(root, "Service")
	if !ok || !fi.IsDir() {
		return nil, notInstall(root, "no Service folder")
	}
	svcDir := filepath.Join(root, svc)
	l := &Layout{Root: root}
	settings, sfi, hasSettings := findChild(svcDir, "Settings")
	if hasSettings && sfi.IsDir() {
		setDir := filepath.Join(svcDir, settings)
		if dj, _, ok := findChild(setDir, "domains.json"); ok {
			return l, l.detectCurrent(svc, settings, dj)
		}
	}
	mc, _, okMC := findChild(svcDir, "mailConfig.xml")
	dl, _, okDL := findChild(svcDir, "domainList.xml")
	if okMC && okDL {
		return l, l.detectLegacy(svc, mc, dl)
	}
	var found []string
	if okMC {
		found = append(found, svc+`\`+mc)
	}
	if okDL {
		found = append(found, svc+`\`+dl)
	}
	if hasSettings {
		found = append(found, svc+`\`+settings+` (without domains.json)`)
	}
	what := "nothing of either"
	if len(found) > 0 {
		what = "only " + strings.Join(found, ", ")
	}
	return nil, notInstall(root, what)
}

func notInstall(root, found string) error {
	return fmt.Errorf(`--from %s is not a SmarterMail installation folder: looked for Service\mailConfig.xml and Service\domainList.xml (legacy) or Service\Settings\domains.json (current) and found %s`, root, found)
}

func (l *Layout) detectLegacy(svc, mc, dl string) error {
	l.Kind = Legacy
	svcDir := filepath.Join(l.Root, svc)
	for _, f := range legacyFiles {
		if name, fi, ok := findChild(svcDir, f); ok && fi.Mode().IsRegular() {
			l.ConfigFiles = append(l.ConfigFiles, svc+"/"+name)
			l.Evidence = append(l.Evidence, svc+`\`+name)
		}
	}
	l.DomainsFile = svc + "/" + dl
	data, err := os.ReadFile(filepath.Join(svcDir, dl))
	if err != nil {
		return fmt.Errorf("read %s: %w", filepath.Join(svcDir, dl), err)
	}
	vals, err := xmlValues(data)
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(svcDir, dl), err)
	}
	l.DomainPaths = pathValues(vals)
	l.Evidence = append(l.Evidence[:0:0], fmt.Sprintf("legacy layout: %s (%s)", strings.Join(l.Evidence, ", "), plural(len(l.DomainPaths), "domain path")))
	mcData, err := os.ReadFile(filepath.Join(svcDir, mc))
	if err != nil {
		return fmt.Errorf("read %s: %w", filepath.Join(svcDir, mc), err)
	}
	l.Secrets = xmlSecrets(mcData)
	l.SecretFiles = []string{"mailConfig.xml", "accountList.xml", "userConfig.xml", "*password*"}
	return nil
}

func (l *Layout) detectCurrent(svc, settings, dj string) error {
	l.Kind = Current
	setDir := filepath.Join(l.Root, svc, settings)
	var jsons []string
	err := filepath.WalkDir(setDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(l.Root, p)
		l.ConfigFiles = append(l.ConfigFiles, filepath.ToSlash(rel))
		if strings.EqualFold(filepath.Ext(p), ".json") && !strings.EqualFold(d.Name(), "domains.json") {
			jsons = append(jsons, d.Name())
			if b, err := os.ReadFile(p); err == nil {
				l.Secrets = append(l.Secrets, jsonSecrets(b)...)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read %s: %w", setDir, err)
	}
	l.DomainsFile = svc + "/" + settings + "/" + dj
	data, err := os.ReadFile(filepath.Join(setDir, dj))
	if err != nil {
		return fmt.Errorf("read %s: %w", filepath.Join(setDir, dj), err)
	}
	paths, err := jsonDataPaths(data)
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(setDir, dj), err)
	}
	l.DomainPaths = paths
	ev := fmt.Sprintf(`current layout: %s\%s\%s (%s)`, svc, settings, dj, plural(len(paths), "data_path entry"))
	if len(jsons) > 0 {
		sort.Strings(jsons)
		ev += fmt.Sprintf(", %s in %s (%s)", plural(len(jsons), "other settings file"), settings, strings.Join(first(jsons, 4), ", "))
	}
	l.Evidence = []string{ev}
	// Every settings file but domains.json may hold a password (SMTP relay, LDAP, admin).
	l.SecretFiles = append([]string{"mailConfig.xml", "accountList.xml", "*password*"}, secretJSONGlobs(svc, settings, jsons)...)
	return nil
}

func secretJSONGlobs(svc, settings string, jsons []string) []string {
	out := make([]string, 0, len(jsons))
	for _, j := range jsons {
		out = append(out, svc+"/"+settings+"/"+j)
	}
	return out
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], "…")
	}
	return s
}

// pathValues keeps the absolute paths (with at least one folder) of a list of values.
func pathValues(vals []string) []string {
	var out []string
	for _, v := range vals {
		if p, ok := parseCfgPath(strings.TrimSpace(v)); ok && len(p.parts) > 0 {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// jsonDataPaths returns the data_path values of domains.json, or, when none is named so,
// every absolute path value.
func jsonDataPaths(data []byte) ([]string, error) {
	var v any
	if err := json.Unmarshal(bytes.TrimPrefix(data, utf8BOM), &v); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	var named []string
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case []any:
			for _, e := range t {
				walk(e)
			}
		case map[string]any:
			for _, k := range sortedMapKeys(t) {
				if s, ok := t[k].(string); ok && strings.EqualFold(k, "data_path") {
					named = append(named, s)
					continue
				}
				walk(t[k])
			}
		}
	}
	walk(v)
	if len(named) > 0 {
		return pathValues(named), nil
	}
	all, err := jsonValues(data)
	if err != nil {
		return nil, err
	}
	return pathValues(all), nil
}

// isSecretName says whether an element, attribute or key holds a password.
func isSecretName(n string) bool {
	n = strings.ToLower(n)
	return strings.Contains(n, "pass") || strings.Contains(n, "secret") || strings.Contains(n, "apikey") || strings.Contains(n, "api_key")
}

// xmlSecrets returns the values of password elements and attributes.
func xmlSecrets(data []byte) []string {
	d := newXMLDecoder(bytes.TrimPrefix(data, utf8BOM))
	var out []string
	var stack []string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) || err != nil {
			return keepSecrets(out)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name.Local)
			for _, a := range t.Attr {
				if isSecretName(a.Name.Local) {
					out = append(out, a.Value)
				}
			}
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			if len(stack) > 0 && isSecretName(stack[len(stack)-1]) {
				out = append(out, strings.TrimSpace(string(t)))
			}
		}
	}
}

// jsonSecrets returns the string values of password keys.
func jsonSecrets(data []byte) []string {
	var v any
	if json.Unmarshal(bytes.TrimPrefix(data, utf8BOM), &v) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case []any:
			for _, e := range t {
				walk(e)
			}
		case map[string]any:
			for k, e := range t {
				if s, ok := e.(string); ok && isSecretName(k) {
					out = append(out, s)
					continue
				}
				walk(e)
			}
		}
	}
	walk(v)
	return keepSecrets(out)
}

// keepSecrets drops values too short to mask without masking ordinary words.
func keepSecrets(vals []string) []string {
	var out []string
	for _, v := range vals {
		if len(v) >= 4 {
			out = append(out, v)
		}
	}
	return out
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") && !strings.HasSuffix(noun, "ey") {
		return fmt.Sprintf("%d %sies", n, noun[:len(noun)-1])
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func sortStrings(s []string) { sort.Strings(s) }
