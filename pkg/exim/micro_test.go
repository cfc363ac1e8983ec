package exim

import (
	"bytes"
	"testing"
)

func benchIndex(b *testing.B, pat []byte) {
	data, _ := benchLog(b, 32<<20)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		for pos := 0; ; {
			k := bytes.Index(data[pos:], pat)
			if k < 0 {
				break
			}
			n++
			pos += k + len(pat)
		}
	}
}
func BenchmarkIdxFailed(b *testing.B)  { benchIndex(b, markFailed) }
func BenchmarkIdxFailed2(b *testing.B) { benchIndex(b, []byte("authenticator failed")) }
func BenchmarkIdxA(b *testing.B)       { benchIndex(b, markAuth) }
func BenchmarkIdxNL(b *testing.B)      { benchIndex(b, []byte("\n")) }
func BenchmarkIdxA2(b *testing.B)      { benchIndex(b, []byte("A=")) }
func BenchmarkIdxAuthA(b *testing.B) {
	data, _ := benchLog(b, 32<<20)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for pos := 0; ; {
			k := indexAuth(data[pos:])
			if k < 0 {
				break
			}
			pos += k + 2
		}
	}
}
