package sim

import (
	"fmt"
	"math"
	"math/bits"
)

// MaxLanes is the number of lanes an engine has; see [Engine.AtLane].
const MaxLanes = 8

// lane is a FIFO of entries in (at, key) order: q[head:] are queued. A
// lane fed by AtLaneFixed keeps its events beside their entries, in evs,
// and its entries have no slot (noSlot).
type lane struct {
	q     []entry
	evs   []Event // for a fixed lane: evs[i] is the event of q[i]
	head  int
	fixed bool
}

// noSlot is the slot of an entry whose event lives in a fixed lane.
const noSlot = math.MaxUint32

func (l *lane) len() int { return len(l.q) - l.head }

// popFront drops the head; the backing array is reused once it is empty or
// mostly consumed, so a lane's memory stays proportional to what it holds.
func (l *lane) popFront() {
	l.head++
	switch {
	case l.head == len(l.q):
		l.q, l.head = l.q[:0], 0
		l.evs = l.evs[:0]
	case l.head > 1024 && 2*l.head > len(l.q):
		l.q = l.q[:copy(l.q, l.q[l.head:])]
		if l.fixed {
			l.evs = l.evs[:copy(l.evs, l.evs[l.head:])]
		}
		l.head = 0
	}
}

// AtLane is At with a hint that speeds up long timers. A simulation sets
// many timers a fixed delay ahead (a lock's wait timeout, a lease renewal),
// and cancels most of them; in the heap they would make every operation
// slower. Events given to one lane in nondecreasing time order are kept in
// a FIFO queue instead of the heap, where adding, cancelling and firing
// cost O(1). An event earlier than the last one given to its lane goes to
// the heap. The lane changes nothing else: every event fires in (time,
// insertion order) as with At. lane must be below [MaxLanes].
func (e *Engine) AtLane(lane int, t Time, ev Event) EventID {
	if t < e.now {
		t = e.now
	}
	l := &e.lanes[lane]
	if n := len(l.q); n > l.head && t < l.q[n-1].at {
		return e.At(t, ev)
	}
	if l.fixed {
		panic(fmt.Sprintf("sim: AtLane on lane %d, which AtLaneFixed uses", lane))
	}
	en, id := e.enter(t, ev)
	l.q = append(l.q, en)
	e.laneLen++
	if l.len() == 1 {
		// The lane was empty: its new head is first if it comes before the
		// head of the lane that was.
		e.active |= 1 << lane
		if e.best < 0 || en.less(e.laneHead(e.best)) {
			e.best = lane
		}
	}
	return id
}

// AtLaneFixed is AtLane for an event that will never be cancelled, such as
// the next arrival of a steady stream: it returns no ID, and the event is
// kept in its lane, taking no slot. A lane given events this way must not
// be given any with AtLane. An event earlier than the last one in its lane
// goes to the heap, as with AtLane.
func (e *Engine) AtLaneFixed(lane int, t Time, ev Event) {
	if t < e.now {
		t = e.now
	}
	l := &e.lanes[lane]
	if n := len(l.q); n > l.head && t < l.q[n-1].at {
		e.At(t, ev)
		return
	}
	if !l.fixed {
		if l.len() > 0 {
			panic(fmt.Sprintf("sim: AtLaneFixed on lane %d, which AtLane uses", lane))
		}
		l.fixed = true
	}
	if e.seq >= e.seqLimit {
		e.settle()
		e.renumber()
	}
	en := entry{at: t, key: e.seq<<32 | noSlot}
	e.seq++
	l.q = append(l.q, en)
	e.laneLen++
	l.evs = append(l.evs, ev)
	if l.len() == 1 {
		e.active |= 1 << lane
		if e.best < 0 || en.less(e.laneHead(e.best)) {
			e.best = lane
		}
	}
}

// laneHead returns the first entry of lane i, which must not be empty.
func (e *Engine) laneHead(i int) *entry {
	l := &e.lanes[i]
	return &l.q[l.head]
}

// pickBest sets best to the lane whose head comes first, looking only at
// the lanes active marks as not empty.
func (e *Engine) pickBest() {
	e.best = -1
	for m := e.active; m != 0; m &= m - 1 {
		i := bits.TrailingZeros32(m)
		if e.best < 0 || e.laneHead(i).less(e.laneHead(e.best)) {
			e.best = i
		}
	}
}

// resetActive recomputes active and laneLen from the lanes, after they
// were rebuilt.
func (e *Engine) resetActive() {
	e.active, e.laneLen = 0, 0
	for i := range e.lanes {
		if n := e.lanes[i].len(); n > 0 {
			e.active |= 1 << i
			e.laneLen += n
		}
	}
}
