package world

import (
	"strconv"
	"strings"

	"github.com/stampsim/stampsim/internal/counting"
)

// keyNames returns the names of n keys, "k0" to "k<n-1>", as slices of one
// string: one allocation instead of n, and names that sit together in
// memory, since a machine hashes the name on every request.
func keyNames(n int) []string {
	size := 0
	for i := range n {
		size += 2 + digitsAbove(i)
	}
	var b strings.Builder
	b.Grow(size)
	var tmp [24]byte
	for i := range n {
		b.WriteByte('k')
		b.Write(strconv.AppendInt(tmp[:0], int64(i), 10))
	}
	all := b.String()
	names := make([]string, n)
	start := 0
	for i := range names {
		end := start + 2 + digitsAbove(i)
		names[i] = all[start:end]
		start = end
	}
	return names
}

// digitsAbove returns the number of decimal digits of i >= 0, less one.
func digitsAbove(i int) int {
	d := 0
	for ; i >= 10; i /= 10 {
		d++
	}
	return d
}

// denseKeys is how many keys (the most popular, under Zipf) a simulated
// store keeps in a slice by number rather than in a map, 64 bytes each: as
// many as the world's other tables by key (counting.ByKey) keep in theirs.
const denseKeys = counting.DenseKeys

// keyNumber returns the number of key "k<number>", or -1 for any other
// string (so that memstore keeps it in its map).
func keyNumber(k string) int {
	if len(k) < 2 || len(k) > 19 || k[0] != 'k' || (k[1] == '0' && len(k) > 2) {
		return -1
	}
	n := 0
	for i := 1; i < len(k); i++ {
		c := k[i]
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}
