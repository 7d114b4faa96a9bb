package sim

import (
	"fmt"
	"slices"
)

// compact removes every cancelled entry from the heap and the lanes, frees
// their slots and restores the heap order.
func (e *Engine) compact() {
	for k := range e.lanes {
		l := &e.lanes[k]
		if l.fixed { // nothing in it can be cancelled
			continue
		}
		q := l.q[:0]
		for _, en := range l.q[l.head:] {
			if i := en.slot(); e.slots[i].state == slotCancelled {
				e.release(i)
				continue
			}
			q = append(q, en)
		}
		l.q, l.head = q, 0
	}
	e.resetActive()
	e.pickBest()
	e.cancelled = 0
	if e.big {
		e.q.filter(func(en entry) bool {
			if i := en.slot(); e.slots[i].state == slotCancelled {
				e.release(i)
				return false
			}
			return true
		})
		if e.q.len() < e.smallAt {
			e.toHeap()
		}
		return
	}
	h := e.heap[:1]
	for _, en := range e.heap[1:] {
		i := en.slot()
		if e.slots[i].state == slotCancelled {
			e.release(i)
			continue
		}
		h = append(h, en)
	}
	e.heap = h
	e.heapify()
}

// renumber runs when the sequence numbers that fit in an entry's key are
// used up. It drops cancelled entries, sorts the rest by (time, sequence),
// which is a valid heap, and gives them the sequence numbers 0, 1, 2, ...
// in that order, so ties keep breaking by insertion order.
func (e *Engine) renumber() {
	e.renumbers++
	e.compact()
	// Sort the heap's and the lanes' entries together, each tagged with
	// where it lives, and give them back in order: a sorted array is a
	// valid heap, and each lane gets its entries in the order it had them.
	type tagged struct {
		en   entry
		lane int
	}
	all := make([]tagged, 0, e.queued())
	for _, en := range e.heap[1:] {
		all = append(all, tagged{en, -1})
	}
	e.q.each(func(en entry) { all = append(all, tagged{en, -1}) })
	e.q.clear()
	for k := range e.lanes {
		l := &e.lanes[k]
		for _, en := range l.q[l.head:] {
			all = append(all, tagged{en, k})
		}
		if l.fixed { // a lane's entries keep their order: evs stays parallel
			l.evs = l.evs[:copy(l.evs, l.evs[l.head:])]
		}
		l.q, l.head = l.q[:0], 0
	}
	slices.SortFunc(all, func(a, b tagged) int {
		if a.en.less(&b.en) {
			return -1
		}
		if b.en.less(&a.en) {
			return 1
		}
		return 0
	})
	e.heap = e.heap[:1]
	for k, t := range all {
		t.en.key = uint64(k)<<32 | uint64(t.en.slot())
		switch {
		case t.lane >= 0:
			e.lanes[t.lane].q = append(e.lanes[t.lane].q, t.en)
		case e.big:
			e.q.push(t.en) // in order, so ties in its first bucket stay in order
		default:
			e.heap = append(e.heap, t.en)
		}
	}
	e.resetActive()
	e.pickBest()
	e.seq = uint64(len(all))
	if e.seq >= e.seqLimit {
		panic(fmt.Sprintf("sim: %d pending events exceed the sequence space %d", e.seq, e.seqLimit))
	}
}
