package synflood

import (
	"slices"
	"testing"
)

func TestRadixSort(t *testing.T) {
	for _, n := range []int{0, 1, 255, 256, 1000, 100000} {
		a := make([]uint32, n)
		x := uint32(2463534242)
		for i := range a {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			a[i] = x
			if i%7 == 0 && i > 0 {
				a[i] = a[i-1] // duplicates
			}
		}
		want := append([]uint32(nil), a...)
		slices.Sort(want)
		got := radixSort(a)
		if !slices.Equal(got, want) {
			t.Fatalf("n=%d: not sorted", n)
		}
	}
}
