package world

import (
	"fmt"
	"testing"
)

func TestKeyNames(t *testing.T) {
	names := keyNames(1234)
	if len(names) != 1234 {
		t.Fatalf("%d names, want 1234", len(names))
	}
	for i, name := range names {
		if want := fmt.Sprintf("k%d", i); name != want {
			t.Fatalf("key %d is named %q, want %q", i, name, want)
		}
		if keyNumber(name) != i {
			t.Fatalf("keyNumber(%q) = %d, want %d", name, keyNumber(name), i)
		}
	}
	if n := len(keyNames(0)); n != 0 {
		t.Errorf("keyNames(0) has %d names", n)
	}
}

func TestKeyNumber(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want int
	}{
		{"k0", 0}, {"k7", 7}, {"k123456", 123456},
		{"", -1}, {"k", -1}, {"x1", -1}, {"k-1", -1}, {"k1a", -1}, {"k07", -1}, {"k12345678901234567890", -1},
	} {
		if got := keyNumber(tc.key); got != tc.want {
			t.Errorf("keyNumber(%q) = %d, want %d", tc.key, got, tc.want)
		}
	}
}

// byKey keeps small numbers in its slice and the rest in a map, and forgets
// the zero values it keeps in the map.
func TestByKey(t *testing.T) {
	var b byKey[int32]
	for _, k := range []int{0, 5, 1000, denseKeys - 1, denseKeys, denseKeys + 7} {
		if got := b.get(k); got != 0 {
			t.Errorf("get(%d) = %d before any set", k, got)
		}
		b.set(k, int32(k%100+1))
	}
	for _, k := range []int{0, 5, 1000, denseKeys - 1, denseKeys, denseKeys + 7} {
		if got, want := b.get(k), int32(k%100+1); got != want {
			t.Errorf("get(%d) = %d, want %d", k, got, want)
		}
	}
	if len(b.dense) != denseKeys || len(b.sparse) != 2 {
		t.Errorf("%d in the slice, %d in the map; want %d and 2", len(b.dense), len(b.sparse), denseKeys)
	}
	b.set(denseKeys, 0)
	if len(b.sparse) != 1 {
		t.Errorf("the map keeps %d values after one went back to zero, want 1", len(b.sparse))
	}
}
