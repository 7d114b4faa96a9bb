package locks

// keyTable holds a machine's keyEntry per key. Keys that Config.KeyNumber
// numbers below maxDenseKeys live in a slice indexed by that number; all
// others in a map by name. The slice is for simulators, which run hundreds of
// machines over the same numbered key space: a request then costs one load
// instead of a string hash and map probe (a quarter of a simulation's time
// went to those probes). A production driver leaves KeyNumber nil and every
// key goes to the map. Which side holds a key changes nothing else: an entry
// reads the same from either, and a zero entry means "nothing known".
type keyTable[V any] struct {
	number func(string) int
	dense  []keyEntry[V]
	sparse map[string]keyEntry[V]
}

// maxDenseKeys bounds the slice: 16,384 entries of a few dozen bytes per
// machine. Keys numbered above it (the long tail of a Zipf law) use the map,
// which the machine sweeps.
const maxDenseKeys = 1 << 14

func newKeyTable[V any](number func(string) int) keyTable[V] {
	return keyTable[V]{number: number, sparse: make(map[string]keyEntry[V])}
}

// index returns key's slot in the slice, or -1 when the map holds it.
func (t *keyTable[V]) index(key string) int {
	if t.number == nil {
		return -1
	}
	if n := t.number(key); n >= 0 && n < maxDenseKeys {
		return n
	}
	return -1
}

// get returns key's entry (the zero entry when none).
func (t *keyTable[V]) get(key string) keyEntry[V] {
	if i := t.index(key); i >= 0 {
		if i < len(t.dense) {
			return t.dense[i]
		}
		return keyEntry[V]{}
	}
	return t.sparse[key]
}

// set stores key's entry.
func (t *keyTable[V]) set(key string, e keyEntry[V]) {
	i := t.index(key)
	if i < 0 {
		t.sparse[key] = e
		return
	}
	if i >= len(t.dense) {
		grown := make([]keyEntry[V], min(max(2*len(t.dense), i+1, 64), maxDenseKeys))
		copy(grown, t.dense)
		t.dense = grown
	}
	t.dense[i] = e
}

// drop forgets key.
func (t *keyTable[V]) drop(key string) {
	if i := t.index(key); i >= 0 {
		if i < len(t.dense) {
			t.dense[i] = keyEntry[V]{}
		}
		return
	}
	delete(t.sparse, key)
}

// sweep drops the map's entries for which useless reports true, and returns
// how many the map keeps. The slice is not swept: its size is fixed by the
// key numbers, not by how many keys went through it.
func (t *keyTable[V]) sweep(useless func(keyEntry[V]) bool) int {
	for k, e := range t.sparse {
		if useless(e) {
			delete(t.sparse, k)
		}
	}
	return len(t.sparse)
}

// held returns how many keys the table knows (for tests).
func (t *keyTable[V]) held() int {
	n := len(t.sparse)
	for _, e := range t.dense {
		if e.cached || e.flight != 0 {
			n++
		}
	}
	return n
}
