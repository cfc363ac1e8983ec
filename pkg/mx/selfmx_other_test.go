//go:build !linux

package mx_test

import "fmt"

// nsHelper needs Linux namespaces; the test that runs it is Linux-only.
func nsHelper([]string) int {
	fmt.Println("mx-ns-helper: Linux only")
	return 2
}
