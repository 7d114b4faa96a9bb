package sim

import (
	"cmp"
	"math/bits"
	"slices"
)

// radix is the engine's priority queue of entries while it is large (see
// Engine.big): a radix heap, which works because a simulation's clock never
// runs backwards. No entry is added earlier than the last one taken out (the
// engine clamps every time to Now, and Now is at least the time of every
// entry taken), so entries can be sorted into buckets by how far they are
// from that time, last:
//
//   - first holds the entries at exactly last, in key (insertion) order,
//     from head on;
//   - b[i], for i from 1 to 63, holds the entries whose time first differs
//     from last in bit i-1 (so they are later than last by 2^(i-1) to
//     2^i), in no order.
//
// Adding an entry appends it to its bucket. Taking the first entry takes
// the head of first; when first is empty, the lowest non-empty bucket's
// smallest entry becomes last, and the bucket's entries are dealt to the
// lower buckets they now belong in (those at the new last to first, which
// is then sorted). Buckets above it stay right: their entries differ from
// the old last above the bucket's bit, where the new last agrees with the
// old. Each entry moves down a few times in its life, through sequential
// memory, where a binary heap sifts it through a dozen levels of random
// memory on every push and pop.
//
// The buckets are lists of fixed-size chunks from one pool: the bucket
// that holds most of the queue changes as time passes powers of two, and
// arrays of their own would each grow to the largest size they ever held,
// many times what the queue needs at once.
type radix struct {
	last  Time
	first []entry // the entries at last, in key order, from head on
	head  int
	b     [64]bucket // b[0] is unused: its entries are in first
	mask  uint64     // bit i set: b[i] holds entries
	n     int        // entries queued, in first and the buckets

	// low is the smallest entry of b[lowB], the lowest non-empty bucket,
	// when lowOK: what peek returns when first is empty, worked out once
	// by a scan and kept up to date by push.
	low   entry
	lowB  int
	lowOK bool

	free []*chunk // chunks no bucket uses

	// lists holds the empty chunk lists of spilled buckets, for the next
	// bucket to fill. A bucket sees its first entries when the clock first
	// nears a power of two as large as its range, so over a run the buckets
	// come into use in turn; passing the lists on, instead of growing one
	// for each, keeps the steady state free of allocations.
	lists [][]*chunk
}

// chunkLen is the number of entries in a chunk: 2 KiB.
const chunkLen = 128

type chunk [chunkLen]entry

// bucket is a list of chunks, all full but the last, which holds tail
// entries.
type bucket struct {
	chunks []*chunk
	tail   int
}

// len returns the number of entries queued.
func (q *radix) len() int { return q.n }

// push adds en. Entries at last must come in key order, as new events do
// (their keys grow); a caller that adds them in another order calls
// sortFirst afterwards.
func (q *radix) push(en entry) {
	if en.at < q.last {
		q.rebase(en.at)
	}
	q.n++
	i := bits.Len64(uint64(en.at ^ q.last))
	if i == 0 {
		q.first = append(q.first, en)
		return
	}
	q.add(i, en)
	if q.lowOK && i <= q.lowB {
		// en is in the lowest bucket, or below it in an empty one.
		if i < q.lowB || en.less(&q.low) {
			q.low, q.lowB = en, i
		}
	}
}

// add appends en to bucket i (i >= 1).
func (q *radix) add(i int, en entry) {
	b := &q.b[i]
	if b.tail == chunkLen || len(b.chunks) == 0 {
		if cap(b.chunks) == 0 && len(q.lists) > 0 {
			b.chunks = q.lists[len(q.lists)-1]
			q.lists = q.lists[:len(q.lists)-1]
		}
		b.chunks = append(b.chunks, q.newChunk())
		b.tail = 0
	}
	b.chunks[len(b.chunks)-1][b.tail] = en
	b.tail++
	q.mask |= 1 << i
}

// newChunk returns a chunk from the pool, or a new one.
func (q *radix) newChunk() *chunk {
	if n := len(q.free); n > 0 {
		c := q.free[n-1]
		q.free = q.free[:n-1]
		return c
	}
	return new(chunk)
}

// entries returns the entries of chunk k of b.
func (b *bucket) entries(k int) []entry {
	if k == len(b.chunks)-1 {
		return b.chunks[k][:b.tail]
	}
	return b.chunks[k][:]
}

// peek returns the first entry; the queue must not be empty.
func (q *radix) peek() *entry {
	if q.head < len(q.first) {
		return &q.first[q.head]
	}
	if !q.lowOK {
		q.findLow()
	}
	return &q.low
}

// findLow sets low to the smallest entry of the lowest non-empty bucket;
// first must be empty and some bucket not.
func (q *radix) findLow() {
	i := bits.TrailingZeros64(q.mask)
	b := &q.b[i]
	low := b.chunks[0][0]
	for k := range b.chunks {
		for _, en := range b.entries(k) {
			if en.less(&low) {
				low = en
			}
		}
	}
	q.low, q.lowB, q.lowOK = low, i, true
}

// pop removes the first entry; the queue must not be empty.
func (q *radix) pop() {
	if q.head == len(q.first) {
		q.spill()
	}
	q.head++
	q.n--
	if q.head == len(q.first) {
		q.first, q.head = q.first[:0], 0
	}
}

// spill makes the lowest non-empty bucket's smallest entry the new last
// and deals the bucket's entries to the buckets they now belong in; first
// must be empty.
func (q *radix) spill() {
	if !q.lowOK {
		q.findLow()
	}
	i := q.lowB
	q.last = q.low.at
	q.lowOK = false
	q.mask &^= 1 << i
	old := q.b[i]
	q.b[i] = bucket{} // nothing is dealt back to b[i]
	for k, c := range old.chunks {
		for _, en := range old.entries(k) {
			if j := bits.Len64(uint64(en.at ^ q.last)); j == 0 {
				q.first = append(q.first, en)
			} else {
				q.add(j, en)
			}
		}
		q.free = append(q.free, c) // dealt: the next bucket to grow takes it
	}
	clear(old.chunks)
	if q.lists == nil {
		q.lists = make([][]*chunk, 0, len(q.b))
	}
	q.lists = append(q.lists, old.chunks[:0])
	// The entries at the new last came in the bucket's order (there is
	// almost always one).
	q.sortFirst()
}

// sortFirst puts first in key order, after entries were added to it out of
// order: by spill, or by a load of entries in no order.
func (q *radix) sortFirst() {
	if f := q.first[q.head:]; len(f) > 1 {
		slices.SortFunc(f, func(a, b entry) int { return cmp.Compare(a.key, b.key) })
	}
}

// filter keeps the entries for which keep returns true, in their order.
func (q *radix) filter(keep func(entry) bool) {
	q.lowOK = false
	f := q.first[:0]
	for _, en := range q.first[q.head:] {
		if keep(en) {
			f = append(f, en)
		}
	}
	q.first, q.head = f, 0
	q.n = len(f)
	for i := 1; i < len(q.b); i++ {
		if q.mask&(1<<i) == 0 {
			continue
		}
		// Write the kept entries back from the start of the bucket's
		// chunks: the write position never passes the read position.
		b := &q.b[i]
		w := 0
		for k := range b.chunks {
			for _, en := range b.entries(k) {
				if keep(en) {
					b.chunks[w/chunkLen][w%chunkLen] = en
					w++
				}
			}
		}
		used := (w + chunkLen - 1) / chunkLen
		q.free = append(q.free, b.chunks[used:]...)
		clear(b.chunks[used:])
		b.chunks = b.chunks[:used]
		b.tail = w - (used-1)*chunkLen
		q.n += w
		if w == 0 {
			b.tail = 0
			q.mask &^= 1 << i
		}
	}
}

// each calls f for every entry, in no particular order.
func (q *radix) each(f func(entry)) {
	for _, en := range q.first[q.head:] {
		f(en)
	}
	for i := 1; i < len(q.b); i++ {
		b := &q.b[i]
		for k := range b.chunks {
			for _, en := range b.entries(k) {
				f(en)
			}
		}
	}
}

// clear empties the queue, keeping last and the chunks, in the pool.
func (q *radix) clear() {
	q.first, q.head = q.first[:0], 0
	for i := range q.b {
		b := &q.b[i]
		q.free = append(q.free, b.chunks...)
		clear(b.chunks)
		b.chunks, b.tail = b.chunks[:0], 0
	}
	q.mask, q.n, q.lowOK = 0, 0, false
}

// rebase makes t, which is earlier than last and than every entry, the new
// last, and sorts every entry into its bucket again. It runs when an entry
// comes earlier than last, which the engine leaves at most at the clock:
// only taking out cancelled entries ahead of the clock (Peek, or a Run
// that then finds the queue empty) moves it past, and then the queue is
// almost always empty.
func (q *radix) rebase(t Time) {
	var all []entry
	q.each(func(en entry) { all = append(all, en) })
	q.clear()
	q.last = t
	for _, en := range all {
		q.push(en)
	}
}
