// Package usage marks errors in what the user gave hostfix — a flag, an argument, the config
// file, or an input such as a queue directory that is not a qmail queue — as opposed to a
// failure while doing the work. cmd maps them to the "bad usage or bad input" exit code
// (2, or 3 UNKNOWN for check commands). It has no other job.
package usage
