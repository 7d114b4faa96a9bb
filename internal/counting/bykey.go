package counting

// ByKey holds a T per key number: the numbers below DenseKeys in a slice,
// grown as larger numbers come, the others in a map that keeps only non-zero
// values. It saves a hash lookup per use for the keys that matter most (the
// most popular, under Zipf, have the smallest numbers). The zero ByKey is
// empty and ready to use.
type ByKey[T comparable] struct {
	dense  []T
	sparse map[int]T
}

// DenseKeys is how many keys a ByKey keeps in its slice rather than in its
// map.
const DenseKeys = 1 << 16

// Get returns key's value (the zero value when none was set).
func (b *ByKey[T]) Get(key int) T {
	if key < len(b.dense) {
		return b.dense[key]
	}
	return b.sparse[key]
}

// Set sets key's value.
func (b *ByKey[T]) Set(key int, v T) {
	if key < len(b.dense) {
		b.dense[key] = v
		return
	}
	if key < DenseKeys {
		dense := make([]T, min(max(2*len(b.dense), key+1, 64), DenseKeys))
		copy(dense, b.dense)
		b.dense = dense
		b.dense[key] = v
		return
	}
	var zero T
	if v == zero {
		delete(b.sparse, key)
		return
	}
	if b.sparse == nil {
		b.sparse = make(map[int]T)
	}
	b.sparse[key] = v
}
