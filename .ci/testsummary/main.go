// Command testsummary reads `go test -json` events on stdin and prints what a person needs:
// one line per package (ok / FAIL / no test files), the full output of every failed test
// and of packages that failed to build, and a closing "N passed, N failed, N skipped" line
// (a package that failed outside any test — build failure, crash, timeout — counts as one
// failure).
// It exits 1 when anything failed. .ci/run pipes the test run through it; it lives in a
// dot directory so ./... patterns (vet, test, staticcheck) leave it out.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

type event struct {
	Action     string
	Package    string
	ImportPath string // build-output and build-fail events (Go 1.24+)
	Test       string
	Output     string
	Elapsed    float64
}

func main() {
	var passed, failed, skipped int
	output := map[string][]string{} // package/test -> output lines
	var failedTests []string
	pkgFailed := false
	testFailedIn := map[string]bool{} // packages with a failed test
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil || e.Action == "" {
			// Not an event: build errors and the like come through as plain text.
			fmt.Println(string(line))
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "build-output":
			output["build "+e.ImportPath] = append(output["build "+e.ImportPath], e.Output)
		case "build-fail":
			pkgFailed = true
			fmt.Printf("BUILD FAILED\t%s\n", e.ImportPath)
			for _, o := range output["build "+e.ImportPath] {
				fmt.Print("    " + o)
			}
		case "output":
			output[key] = append(output[key], e.Output)
		case "pass", "fail", "skip":
			if e.Test != "" {
				switch e.Action {
				case "pass":
					passed++
				case "fail":
					failed++
					testFailedIn[e.Package] = true
					failedTests = append(failedTests, key)
					fmt.Printf("--- FAIL: %s (%s)\n", e.Test, e.Package)
					for _, o := range output[key] {
						fmt.Print("    " + o)
					}
				case "skip":
					skipped++
				}
				delete(output, key)
				continue
			}
			switch {
			case e.Action == "fail":
				pkgFailed = true
				if !testFailedIn[e.Package] {
					// a build failure, a crash or a timeout outside any one test: count the
					// package, so the closing line never says "0 failed" for a failed run
					failed++
					failedTests = append(failedTests, e.Package+" (package)")
				}
				fmt.Printf("FAIL\t%s\t%.1fs\n", e.Package, e.Elapsed)
				// Package-level output holds build errors and panics outside a test.
				for _, o := range output[key] {
					if !strings.HasPrefix(o, "=== ") {
						fmt.Print("    " + o)
					}
				}
			case e.Action == "skip":
				fmt.Printf("?\t%s\t[no test files]\n", e.Package)
			default:
				fmt.Printf("ok\t%s\t%.1fs\n", e.Package, e.Elapsed)
			}
			delete(output, key)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(1)
	}
	if len(failedTests) > 0 {
		sort.Strings(failedTests)
		fmt.Println("failed tests:")
		for _, t := range failedTests {
			fmt.Println("  " + t)
		}
	}
	fmt.Printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	if failed > 0 || pkgFailed {
		os.Exit(1)
	}
}
