package config

import (
	"bytes"
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pmezard/go-difflib/difflib"
)

var update = flag.Bool("update", false, "rewrite packaging/config.yaml from the defaults")

const (
	modulePath  = "github.com/hostfix/hostfix"
	moduleRoot  = "../.."
	exampleFile = "../../packaging/config.yaml"
)

// fieldDocs reads the doc comment of every config field from the Go source of the package
// that declares it, so the example file documents each key with its author's words.
func fieldDocs(t *testing.T) map[string]string {
	t.Helper()
	fields := Fields()
	parsed := map[string]map[string]*ast.StructType{} // pkg -> struct name -> type
	docs := map[string]string{}
	keysOf := map[string]map[string]string{} // pkg.Struct -> GoName -> leaf key
	for _, f := range fields {
		id := f.Pkg + "." + f.Struct
		if keysOf[id] == nil {
			keysOf[id] = map[string]string{}
		}
		keysOf[id][f.GoName] = f.Key[strings.LastIndex(f.Key, ".")+1:]
	}
	for _, f := range fields {
		structs, ok := parsed[f.Pkg]
		if !ok {
			structs = map[string]*ast.StructType{}
			dir := filepath.Join(moduleRoot, strings.TrimPrefix(strings.TrimPrefix(f.Pkg, modulePath), "/"))
			fset := token.NewFileSet()
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatalf("source of %s: %v", f.Pkg, err)
			}
			for _, e := range entries {
				if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
					continue
				}
				file, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.ParseComments)
				if err != nil {
					t.Fatalf("parse %s: %v", e.Name(), err)
				}
				ast.Inspect(file, func(n ast.Node) bool {
					if ts, ok := n.(*ast.TypeSpec); ok {
						if st, ok := ts.Type.(*ast.StructType); ok {
							structs[ts.Name.Name] = st
						}
					}
					return true
				})
			}
			parsed[f.Pkg] = structs
		}
		st := structs[f.Struct]
		if st == nil {
			t.Fatalf("no struct %s in %s", f.Struct, f.Pkg)
		}
		for _, fl := range st.Fields.List {
			for _, name := range fl.Names {
				if name.Name != f.GoName {
					continue
				}
				text := ""
				if fl.Doc != nil {
					text = fl.Doc.Text()
				} else if fl.Comment != nil {
					text = fl.Comment.Text()
				}
				docs[f.Key] = DocText(text, keysOf[f.Pkg+"."+f.Struct])
			}
		}
	}
	return docs
}

// TestExampleConfig keeps packaging/config.yaml (installed as /etc/hostfix/config.yaml by
// the packages) equal to what the defaults generate, so it cannot drift.
func TestExampleConfig(t *testing.T) {
	want := Example(fieldDocs(t), true)
	if *update {
		if err := os.MkdirAll(filepath.Dir(exampleFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(exampleFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatalf("%v\nrun: go test ./pkg/config -run TestExampleConfig -update", err)
	}
	if !bytes.Equal(got, want) {
		diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: difflib.SplitLines(string(got)), B: difflib.SplitLines(string(want)),
			FromFile: "packaging/config.yaml", ToFile: "generated", Context: 2,
		})
		t.Fatalf("packaging/config.yaml is stale\nrun: go test ./pkg/config -run TestExampleConfig -update\n%s", diff)
	}

	// As shipped (all commented out) it changes nothing.
	l, err := Load(Options{File: exampleFile, Getenv: env()})
	if err != nil {
		t.Fatalf("the shipped example does not load: %v", err)
	}
	for _, k := range l.Keys {
		if l.Sources[k].Kind != FromDefault {
			t.Errorf("%s is set by the shipped example (%v); it must be commented out", k, l.Sources[k])
		}
	}
}

// TestExampleUncommented: uncommenting every setting gives exactly the defaults, and sets
// every key from the file, so the example lists every key with its real default.
func TestExampleUncommented(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, Example(map[string]string{"synflood.interval": "Interval is a test:\n  with # a hash"}, false), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Load(Options{File: p, Getenv: env()})
	if err != nil {
		t.Fatalf("uncommented example does not load: %v", err)
	}
	if !reflect.DeepEqual(l.Values(), flatten(reflect.ValueOf(Default()), "")) {
		t.Errorf("uncommented example differs from the defaults:\n%v\n%v", l.Values(), flatten(reflect.ValueOf(Default()), ""))
	}
	for _, k := range l.Keys {
		if l.Sources[k].Kind != FromFile {
			t.Errorf("%s is missing from the example", k)
		}
	}
}

func TestDocText(t *testing.T) {
	keys := map[string]string{"ProbeWarn": "probe_warn", "ProbeCrit": "probe_crit"}
	got := DocText("ProbeWarn and ProbeCrit are latency limits\nfor --probe (not ProbeX).", keys)
	if want := "probe_warn and probe_crit are latency limits for --probe (not ProbeX)."; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
