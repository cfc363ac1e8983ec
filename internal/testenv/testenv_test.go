package testenv

import (
	"fmt"
	"runtime"
	"testing"
)

// recorder stands in for *testing.T to see whether a helper skips or fails.
type recorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper() {}

// Like testing.T's, Skip and Fatalf end the test's goroutine.
func (r *recorder) Skip(args ...any) {
	r.skipped, r.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls f in its own goroutine, as the testing package runs a test.
func run(f func(testing.TB)) *recorder {
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

func TestSkipOrFail(t *testing.T) {
	missing := func(tb testing.TB) { NeedTool(tb, "hostfix-no-such-tool") }

	t.Setenv("HOSTFIX_REQUIRE_INTEGRATION", "")
	if r := run(missing); !r.skipped || r.failed || r.msg != "needs hostfix-no-such-tool on PATH" {
		t.Errorf("locally a missing tool skips: %+v", r)
	}

	t.Setenv("HOSTFIX_REQUIRE_INTEGRATION", "1")
	if !Required() {
		t.Fatal("Required() is false with HOSTFIX_REQUIRE_INTEGRATION=1")
	}
	if r := run(missing); r.skipped || !r.failed || r.msg != "integration test cannot run: needs hostfix-no-such-tool on PATH (HOSTFIX_REQUIRE_INTEGRATION=1)" {
		t.Errorf("in CI a missing tool fails: %+v", r)
	}
	var paths []string
	if r := run(func(tb testing.TB) { paths = NeedTool(tb, "sh") }); r.skipped || r.failed || len(paths) != 1 {
		t.Errorf("a present tool neither skips nor fails: %+v %v", r, paths)
	}
}
