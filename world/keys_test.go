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
		if keyIndex(name) != i {
			t.Fatalf("keyIndex(%q) = %d, want %d", name, keyIndex(name), i)
		}
	}
	if n := len(keyNames(0)); n != 0 {
		t.Errorf("keyNames(0) has %d names", n)
	}
}
