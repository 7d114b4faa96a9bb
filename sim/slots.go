package sim

import (
	"fmt"
	"math"
)

// slot holds one scheduled event's payload and the state its ID is checked
// against. A slot is 32 bytes, two to a cache line.
type slot struct {
	ev    Event
	gen   uint32 // generation of the ID issued for the event in the slot
	state uint32 // slotFree, slotPending or slotCancelled
}

const (
	slotFree uint32 = iota
	slotPending
	slotCancelled
)

// enter takes a slot for ev and returns its queue entry and ID.
func (e *Engine) enter(t Time, ev Event) (entry, EventID) {
	if e.seq >= e.seqLimit {
		e.settle()
		e.renumber()
	}
	var i uint32
	if n := len(e.freeSlots); n > 0 {
		i = e.freeSlots[n-1]
		e.freeSlots = e.freeSlots[:n-1]
	} else {
		i = e.newSlot()
	}
	e.gen++
	if e.gen == 0 {
		e.gen = 1 // the zero EventID must stay invalid
	}
	e.slots[i] = slot{ev: ev, gen: e.gen, state: slotPending}
	en := entry{at: t, key: e.seq<<32 | uint64(i)}
	e.seq++
	return en, makeID(i, e.gen)
}

// newSlot grows the slot table by one slot and returns its index.
func (e *Engine) newSlot() uint32 {
	n := len(e.slots)
	if uint64(n) >= math.MaxUint32 {
		panic(fmt.Sprintf("sim: too many pending events (%d)", n))
	}
	e.slots = append(e.slots, slot{})
	return uint32(n)
}

// release frees slot i, which makes every ID issued for it stale, and
// puts it on the free stack.
func (e *Engine) release(i uint32) {
	e.slots[i].state = slotFree
	e.freeSlots = append(e.freeSlots, i)
}
