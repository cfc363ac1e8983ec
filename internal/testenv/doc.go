// Package testenv decides whether integration tests can run here. Outside CI they skip
// when the machine lacks root or a tool; with HOSTFIX_REQUIRE_INTEGRATION=1 (set by .ci/run)
// a skip is a failure, so CI cannot pass by skipping.
package testenv
