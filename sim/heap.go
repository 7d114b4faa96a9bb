package sim

import "math/bits"

// entry is one element of the priority queue: when an event fires, and
// which slot holds it. key holds the insertion sequence number in its high
// 32 bits and the slot index in its low 32 bits; sequence numbers are unique
// among entries, so comparing keys compares sequence numbers and the slot
// index never decides the order. Entries are 16 bytes, like those of the
// bare heap of (time, sequence) pairs the engine is benchmarked against, so
// that sifting moves no more memory than it has to.
type entry struct {
	at  Time
	key uint64
}

func (a *entry) less(b *entry) bool {
	return a.at < b.at || (a.at == b.at && a.key < b.key)
}

// before is less as a number, 1 or 0: (at, key) compared as one 128-bit
// number, with a subtraction and its borrow and no branch. Times are never
// negative, so comparing them unsigned keeps their order. A sift picks the
// smaller child with it: which child that is, is a coin toss, and a
// mispredicted branch cost more than the rest of the step.
func (a *entry) before(b *entry) uint64 {
	_, borrow := bits.Sub64(a.key, b.key, 0)
	_, borrow = bits.Sub64(uint64(a.at), uint64(b.at), borrow)
	return borrow
}

func (a *entry) slot() uint32 { return uint32(a.key) }

// bigQueue is the number of entries beyond which the queue moves from the
// binary heap to the radix heap (Engine.big).
const bigQueue = 1 << 14

// seqSpace is the number of sequence numbers that fit in an entry's key.
// When they run out, the live entries are renumbered in order (see renumber).
const seqSpace = 1 << 32

// heapify restores the heap order of the whole heap.
func (e *Engine) heapify() {
	for j := (len(e.heap) - 1) / 2; j >= 1; j-- {
		e.down(j)
	}
}

// toRadix moves the queue from heap to q. The event being executed must
// not be in heap (fired is false).
func (e *Engine) toRadix() {
	e.q.clear()
	e.q.last = e.now // no entry is earlier than the clock
	for _, en := range e.heap[1:] {
		e.q.push(en)
	}
	e.q.sortFirst() // the events at the clock came in heap order
	e.heap = e.heap[:1]
	e.big = true
}

// toHeap moves the queue from q back to heap.
func (e *Engine) toHeap() {
	e.q.each(func(en entry) { e.heap = append(e.heap, en) })
	e.q.clear()
	e.heapify()
	e.big = false
}

// popBig removes q's first entry, and moves the queue back to heap if it
// has become small.
func (e *Engine) popBig() {
	e.q.pop()
	if e.q.len() < e.smallAt {
		e.toHeap()
	}
}

// push adds en to the heap.
func (e *Engine) push(en entry) {
	e.heap = append(e.heap, en)
	h := e.heap
	j := len(h) - 1
	for j > 1 {
		p := j / 2
		if !en.less(&h[p]) {
			break
		}
		h[j] = h[p]
		j = p
	}
	h[j] = en
}

// pop removes the root of the heap.
func (e *Engine) pop() {
	n := len(e.heap) - 1
	e.heap[1] = e.heap[n]
	e.heap = e.heap[:n]
	if n > 2 {
		e.down(1)
	}
}

// down moves the entry at index j towards the leaves until no child is
// smaller.
func (e *Engine) down(j int) {
	h := e.heap
	n := len(h)
	en := h[j]
	for {
		c := 2 * j
		if c >= n {
			break
		}
		if c+1 < n {
			c += int(h[c+1].before(&h[c]))
		}
		if !h[c].less(&en) {
			break
		}
		h[j] = h[c]
		j = c
	}
	h[j] = en
}
