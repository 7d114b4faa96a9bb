package prefetch

import (
	"testing"
	"unsafe"
)

// The prefetches are hints: these check only that every form runs, on
// aligned and unaligned addresses and on zero lines, and changes nothing.
func TestPrefetchChangesNothing(t *testing.T) {
	buf := make([]byte, 1024)
	for i := range buf {
		buf[i] = byte(i)
	}
	Line(unsafe.Pointer(&buf[0]))
	At(&buf[3])
	Lines(unsafe.Pointer(&buf[0]), 0)
	Lines(unsafe.Pointer(&buf[5]), 15)
	type odd struct {
		_ [3]byte
		_ [200]byte // an object that starts off a cache line and spans several
	}
	var o odd
	Object(&o)
	Object(&buf)
	for i := range buf {
		if buf[i] != byte(i) {
			t.Fatalf("buf[%d] = %d after prefetching, want %d", i, buf[i], byte(i))
		}
	}
}
