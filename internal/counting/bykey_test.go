package counting

import "testing"

// ByKey keeps small numbers in its slice and the rest in a map, and forgets
// the zero values it keeps in the map.
func TestByKey(t *testing.T) {
	var b ByKey[int32]
	for _, k := range []int{0, 5, 1000, DenseKeys - 1, DenseKeys, DenseKeys + 7} {
		if got := b.Get(k); got != 0 {
			t.Errorf("Get(%d) = %d before any Set", k, got)
		}
		b.Set(k, int32(k%100+1))
	}
	for _, k := range []int{0, 5, 1000, DenseKeys - 1, DenseKeys, DenseKeys + 7} {
		if got, want := b.Get(k), int32(k%100+1); got != want {
			t.Errorf("Get(%d) = %d, want %d", k, got, want)
		}
	}
	if len(b.dense) != DenseKeys || len(b.sparse) != 2 {
		t.Errorf("%d in the slice, %d in the map; want %d and 2", len(b.dense), len(b.sparse), DenseKeys)
	}
	b.Set(DenseKeys, 0)
	if len(b.sparse) != 1 {
		t.Errorf("the map keeps %d values after one went back to zero, want 1", len(b.sparse))
	}
}
