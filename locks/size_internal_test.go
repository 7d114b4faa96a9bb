package locks

import (
	"testing"
	"unsafe"
)

// A flight stays within the allocator's 240-byte size class and a key table
// slot within 32 bytes: a stampede on a topology without a node level keeps
// millions of flights at once, and a probe of the key table should read one
// cache line.
func TestFlightSize(t *testing.T) {
	if n := unsafe.Sizeof(flight[uint64]{}); n > 240 {
		t.Errorf("flight is %d bytes, want at most 240", n)
	}
	if n := unsafe.Sizeof(numSlot[uint64]{}); n > 32 {
		t.Errorf("key table slot is %d bytes, want at most 32", n)
	}
}
