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
