package locks

import (
	"math/bits"

	"github.com/stampsim/stampsim/internal/prefetch"
)

// keyTable holds a machine's keyEntry per key. Keys that the simulator
// numbers (SimHooks.NumberKeys) live in an open-addressing table of their
// own (numTable), keyed by number; all others in a Go map by name. The
// numbered table is for simulators, which run hundreds of machines over one
// numbered key space: a request then costs one integer hash and, almost
// always, one cache line, where a map probe hashes and compares the name
// and touches three lines (a quarter of a simulation's time went to those
// probes). A production driver numbers nothing and every key goes to the
// map. Which side holds a key changes nothing else: an entry reads the same
// from either, a zero entry means "nothing known", and both are swept the
// same way.
type keyTable[V any] struct {
	number func(string) int // SimHooks.NumberKeys; nil: keys by name only
	nums   numTable[V]
	names  map[string]keyEntry[V]
}

// newKeyTable returns an empty table that keeps every key by name until
// SimHooks.NumberKeys gives it a numbering.
func newKeyTable[V any]() keyTable[V] {
	return keyTable[V]{names: make(map[string]keyEntry[V])}
}

// keyRef is a key as the machine carries it: its name and, when numbered,
// its number (kept by number), else kept by name. The number is worked out
// once, when a request arrives, and travels with the flight and its
// operations (Op.KeyNum, Op.KeyNumbered), so no one parses the name twice.
// With the flag beside the number it is as large as a name and a number
// alone.
type keyRef struct {
	name     string
	num      uint32
	numbered bool
}

// ref returns key's keyRef.
func (t *keyTable[V]) ref(key string) keyRef {
	if t.number == nil {
		return keyRef{name: key}
	}
	return t.numbered(key, t.number(key))
}

// numbered returns the keyRef of key, whose number under the table's
// numbering the caller already knows to be n (-1: not numbered).
func (t *keyTable[V]) numbered(key string, n int) keyRef {
	if t.number != nil && n >= 0 && n < 1<<32-1 {
		return keyRef{name: key, num: uint32(n), numbered: true}
	}
	return keyRef{name: key}
}

// get returns k's entry (the zero entry when none).
func (t *keyTable[V]) get(k keyRef) keyEntry[V] {
	if k.numbered {
		return t.nums.get(k.num)
	}
	return t.names[k.name]
}

// set stores k's entry.
func (t *keyTable[V]) set(k keyRef, e keyEntry[V]) {
	if k.numbered {
		t.nums.set(k.num, e)
		return
	}
	t.names[k.name] = e
}

// drop forgets k.
func (t *keyTable[V]) drop(k keyRef) {
	if k.numbered {
		t.nums.drop(k.num)
		return
	}
	delete(t.names, k.name)
}

// prefetch starts loading k's entry, if numbered, into the CPU's caches.
func (t *keyTable[V]) prefetch(k keyRef) {
	if k.numbered {
		t.nums.prefetch(k.num)
	}
}

// sweep drops the entries no request can use any more, those without a
// flight whose value was fresh no later than cutoff (see useless), and
// returns how many entries the table keeps.
func (t *keyTable[V]) sweep(cutoff Time) int {
	for k, e := range t.names {
		if useless(e, cutoff) {
			delete(t.names, k)
		}
	}
	return len(t.names) + t.nums.sweep(cutoff)
}

// useless reports whether e has no flight and its value stopped being fresh
// at or before cutoff.
func useless[V any](e keyEntry[V], cutoff Time) bool { return e.flight == 0 && e.fresh <= cutoff }

// held returns how many keys the table knows (for tests).
func (t *keyTable[V]) held() int { return len(t.names) + t.nums.used }

// numTable is a hash table from key numbers (below 2^32-1) to entries: open
// addressing with linear probing, at most half full, Fibonacci hashing, and
// deletion by backward shift, so there are no tombstones and a lookup stops
// at the first empty slot. With entries of 32 bytes, a probe almost always
// reads one cache line. A slot holds its key's number plus one, so that 0
// marks it empty; only slot and the methods' first lines know that.
type numTable[V any] struct {
	slots []numSlot[V] // len is 0 or a power of two
	shift uint         // 64 - log2(len(slots))
	used  int
}

// numSlot is one slot of a numTable: a key number and its entry.
type numSlot[V any] struct {
	num uint32 // key number + 1; 0: empty
	e   keyEntry[V]
}

// slot returns what a slot holds for key number n: n+1, never the 0 of an
// empty slot.
func slot(n uint32) uint32 { return n + 1 }

// home returns the slot where the probe for num (a slot's number, see
// slot) starts.
func (t *numTable[V]) home(num uint32) int {
	return int((uint64(num) * 0x9E3779B97F4A7C15) >> t.shift)
}

// find returns the index of the slot holding num (see slot), or -1.
func (t *numTable[V]) find(num uint32) int {
	if len(t.slots) == 0 {
		return -1
	}
	mask := len(t.slots) - 1
	for i := t.home(num); ; i = (i + 1) & mask {
		switch t.slots[i].num {
		case num:
			return i
		case 0:
			return -1
		}
	}
}

// get returns the entry of key number n (the zero entry when none).
func (t *numTable[V]) get(n uint32) keyEntry[V] {
	if i := t.find(slot(n)); i >= 0 {
		return t.slots[i].e
	}
	return keyEntry[V]{}
}

// prefetch starts loading the slot where the probe for key number n starts.
func (t *numTable[V]) prefetch(n uint32) {
	if len(t.slots) > 0 {
		prefetch.At(&t.slots[t.home(slot(n))])
	}
}

// set stores e for key number n; a zero e (nothing cached, no flight)
// drops n.
func (t *numTable[V]) set(n uint32, e keyEntry[V]) {
	if !e.cached && e.flight == 0 {
		t.drop(n)
		return
	}
	num := slot(n)
	if i := t.find(num); i >= 0 {
		t.slots[i].e = e
		return
	}
	if 2*(t.used+1) > len(t.slots) {
		t.resize(max(64, 2*len(t.slots)))
	}
	t.insert(num, e)
}

// insert puts num (a slot's number), which is not in the table, in its
// first free slot.
func (t *numTable[V]) insert(num uint32, e keyEntry[V]) {
	mask := len(t.slots) - 1
	i := t.home(num)
	for t.slots[i].num != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = numSlot[V]{num: num, e: e}
	t.used++
}

// drop removes key number n.
func (t *numTable[V]) drop(n uint32) {
	if i := t.find(slot(n)); i >= 0 {
		t.dropAt(i)
	}
}

// dropAt removes the entry in slot i, shifting back the entries after it in
// its probe run so that every entry stays reachable from its home slot.
func (t *numTable[V]) dropAt(i int) {
	mask := len(t.slots) - 1
	for j := (i + 1) & mask; t.slots[j].num != 0; j = (j + 1) & mask {
		// The entry at j may move to the hole at i if its home is not
		// cyclically in (i, j].
		h := t.home(t.slots[j].num)
		if (j-h)&mask >= (j-i)&mask {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = numSlot[V]{}
	t.used--
}

// resize rehashes the table into n slots (a power of two).
func (t *numTable[V]) resize(n int) {
	old := t.slots
	t.slots = make([]numSlot[V], n)
	t.shift = uint(64 - bits.TrailingZeros(uint(n)))
	t.used = 0
	for _, s := range old {
		if s.num != 0 {
			t.insert(s.num, s.e)
		}
	}
}

// sweep drops the entries that are useless at cutoff, in place, shrinks the
// table if it is then less than an eighth full, and returns how many it
// keeps.
func (t *numTable[V]) sweep(cutoff Time) int {
	n := len(t.slots)
	if t.used == 0 {
		return 0
	}
	// Walk once round the table from an empty slot (there is one: the
	// table is at most half full). Dropping the entry at i shifts later
	// entries of its probe run back, possibly into i, so i is looked at
	// again; entries only ever move back to slots not yet passed, and no
	// run crosses the empty slot the walk starts from.
	mask := n - 1
	start := 0
	for t.slots[start].num != 0 {
		start++
	}
	for k := 1; k < n; {
		i := (start + k) & mask
		if s := &t.slots[i]; s.num != 0 && useless(s.e, cutoff) {
			t.dropAt(i)
			continue
		}
		k++
	}
	for n > 64 && 8*t.used < n {
		n /= 2
	}
	if n < len(t.slots) {
		t.resize(n)
	}
	return t.used
}
