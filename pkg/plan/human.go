package plan

import "github.com/hostfix/hostfix/pkg/human"

// Thousands formats 1234567 as "1,234,567".
//
// Deprecated: use human.Count. Kept so branches written against the first API still build;
// remove once no caller is left.
func Thousands(n int64) string { return human.Count(n) }

// HumanBytes formats a size in SI units ("5.6 MB").
//
// Deprecated: use human.Bytes.
func HumanBytes(n int64) string { return human.Bytes(n) }
