package sim

import (
	"fmt"
	"math"
	"slices"
)

// Event is what the engine delivers to the [Handler]. Its fields are owned by
// the caller: the engine copies the value when it is scheduled, never looks
// inside it, and hands the same value back when it fires. A typical world
// uses Kind to select what happens, Target to name the node, store or request
// it happens to, and A and B as arguments (a key number, a token, an
// incarnation, an [EventID]).
type Event struct {
	Kind   uint16
	Target int32
	A, B   int64
}

// Handler is called by [Engine.Run] once for each event, in order, with the
// virtual time at which the event fires (equal to [Engine.Now]). An engine has
// exactly one handler, fixed at construction; it switches on [Event.Kind].
//
// A handler may schedule and cancel events and call [Engine.Stop]. It must
// not call [Engine.Run] or [Engine.Reset].
type Handler func(now Time, ev Event)

// EventID identifies one scheduled event, for [Engine.Cancel]. The zero
// EventID identifies no event.
//
// An EventID stays valid only while its event is pending. Its slot in the
// engine's table is reused after the event fires or is cancelled, but every
// reuse bumps a 32-bit generation that is part of the ID, so a stale ID never
// cancels a different event. (A collision would take exactly 2^32 reuses of
// the same slot between taking the ID and cancelling with it.)
//
// An EventID fits in an int64 field of an [Event] by conversion.
type EventID uint64

func makeID(slot uint32, gen uint32) EventID { return EventID(uint64(gen)<<32 | uint64(slot)) }

func (id EventID) slot() uint32 { return uint32(id) }
func (id EventID) gen() uint32  { return uint32(id >> 32) }

// StopReason says why [Engine.Run] returned.
type StopReason uint8

const (
	// TimeLimit means that the next pending event is later than the limit
	// given to Run. The clock has been advanced to the limit.
	TimeLimit StopReason = iota + 1
	// EventLimit means that Run executed the number of events it was allowed.
	// The clock stays at the time of the last event executed.
	EventLimit
	// QueueEmpty means that no event is pending. The clock has been advanced
	// to the limit given to Run, unless that limit is [Forever].
	QueueEmpty
	// Stopped means that a handler called [Engine.Stop]. The clock stays at
	// the time of the event whose handler stopped the run.
	Stopped
)

// String returns the reason's name, for example "time limit".
func (r StopReason) String() string {
	switch r {
	case TimeLimit:
		return "time limit"
	case EventLimit:
		return "event limit"
	case QueueEmpty:
		return "queue empty"
	case Stopped:
		return "stopped"
	}
	return fmt.Sprintf("StopReason(%d)", uint8(r))
}

// entry is one element of the priority queue: an event and when it fires.
// key holds the insertion sequence number in its high 32 bits and the slot
// index in its low 32 bits; sequence numbers are unique among entries, so
// comparing keys compares sequence numbers and the slot index never decides
// the order.
//
// The payload lives in the entry itself, not in a side table indexed by
// slot: in the steady state the slot of the event at the top of the queue is
// a random one, and fetching a payload from a table of 100,000 slots costs a
// cache miss per event, which measured at about twice the time of the whole
// heap operation. Carrying 24 more bytes through the sifts costs about 10%.
type entry struct {
	at  Time
	key uint64
	ev  Event
}

func (a *entry) less(b *entry) bool {
	return a.at < b.at || (a.at == b.at && a.key < b.key)
}

func (a *entry) slot() int32 { return int32(uint32(a.key)) }

// arity is the number of children of each node of the heap; see
// bench_test.go for the measurements that chose it.
const arity = 2

// seqSpace is the number of sequence numbers that fit in an entry's key.
// When they run out, the live entries are renumbered in order (see renumber).
const seqSpace = 1 << 32

// Engine is a discrete-event engine: a virtual clock, a queue of pending
// events ordered by (time, insertion order), and one [Handler] that executes
// them. The zero Engine is not usable; create one with [New].
//
// An Engine is not safe for concurrent use. Run independent simulations on
// independent engines.
type Engine struct {
	handler Handler
	now     Time

	// heap is the priority queue, a min-heap on (at, key).
	heap []entry

	// Every entry in heap owns a slot, the low half of its key. gens[slot]
	// is the generation of the ID issued for the slot's pending event, or 0
	// when the slot is free or its event was cancelled. cancelledBits marks
	// the slots of cancelled entries still in the heap; it is 32 times
	// smaller than gens, so the check made on every pop stays in cache.
	gens          []uint32
	cancelledBits []uint64
	freeSlots     []int32 // stack of free slots; the last freed is reused first
	cancelled     int     // entries in heap whose event was cancelled
	gen           uint32  // last generation issued; never 0 once issued

	seq       uint64 // next sequence number
	seqLimit  uint64 // sequence numbers must stay < seqLimit (seqSpace, smaller in tests)
	renumbers int    // times renumber has run, for tests

	executed uint64
	running  bool
	stop     bool
}

// New returns an engine at time zero with an empty queue that will deliver
// every event to h. It panics if h is nil.
func New(h Handler) *Engine {
	if h == nil {
		panic("sim: New called with a nil Handler")
	}
	return &Engine{handler: h, seqLimit: seqSpace}
}

// Now returns the current virtual time: the time of the event being executed
// or, between runs, the time at which the last [Engine.Run] left the clock.
func (e *Engine) Now() Time { return e.now }

// Executed returns the number of events executed since the engine was made
// or last reset, over all runs. Cancelled events are not counted.
func (e *Engine) Executed() uint64 { return e.executed }

// Pending returns the number of events scheduled and neither executed nor
// cancelled.
func (e *Engine) Pending() int { return len(e.heap) - e.cancelled }

// At schedules ev to be delivered at virtual time t and returns its ID.
//
// Time never runs backwards: a t earlier than [Engine.Now] is clamped to
// Now, so the event runs after every event already scheduled for Now.
// Events scheduled for the same time run in the order they were scheduled.
func (e *Engine) At(t Time, ev Event) EventID {
	if t < e.now {
		t = e.now
	}
	if e.seq >= e.seqLimit {
		e.renumber()
	}
	var i int32
	if n := len(e.freeSlots); n > 0 {
		i = e.freeSlots[n-1]
		e.freeSlots = e.freeSlots[:n-1]
	} else {
		i = e.newSlot()
	}
	e.gen++
	if e.gen == 0 {
		e.gen = 1 // 0 marks a slot with nothing pending
	}
	e.gens[i] = e.gen
	e.push(entry{at: t, key: e.seq<<32 | uint64(uint32(i)), ev: ev})
	e.seq++
	return makeID(uint32(i), e.gen)
}

// newSlot grows the slot table by one slot and returns its index.
func (e *Engine) newSlot() int32 {
	n := len(e.gens)
	if n >= math.MaxInt32 {
		panic(fmt.Sprintf("sim: too many pending events (%d)", n))
	}
	e.gens = append(e.gens, 0)
	if n/64 >= len(e.cancelledBits) {
		e.cancelledBits = append(e.cancelledBits, 0)
	}
	return int32(n)
}

// After schedules ev to be delivered d after [Engine.Now] and returns its
// ID. A negative d is treated as zero, and a sum beyond [Forever] as Forever.
func (e *Engine) After(d Time, ev Event) EventID {
	t := e.now + d
	if d < 0 {
		t = e.now
	} else if t < e.now { // overflow
		t = Forever
	}
	return e.At(t, ev)
}

// Cancel removes the event with the given ID from the queue, so that it
// never fires, and reports whether it did so. It returns false, and does
// nothing, if the event has already fired or been cancelled, or if id is
// zero or stale. A handler may cancel any pending event, but not its own,
// which has already fired.
//
// Cancel costs amortised O(1): the entry stays in the heap, marked, and is
// dropped when it reaches the top. When marked entries outnumber live ones
// the heap is rebuilt without them, so memory stays proportional to the
// number of pending events.
func (e *Engine) Cancel(id EventID) bool {
	i, g := id.slot(), id.gen()
	if g == 0 || uint64(i) >= uint64(len(e.gens)) || e.gens[i] != g {
		return false
	}
	e.gens[i] = 0
	e.cancelledBits[i/64] |= 1 << (i % 64)
	e.cancelled++
	if e.cancelled > len(e.heap)/2 {
		e.compact()
	}
	return true
}

// Stop makes the current [Engine.Run] return [Stopped] once the handler
// that called Stop returns. Events still pending stay queued for a later
// Run. Stop has no effect outside a run.
func (e *Engine) Stop() {
	if e.running {
		e.stop = true
	}
}

// Peek returns the time of the next pending event, and false if there is
// none.
func (e *Engine) Peek() (Time, bool) {
	for len(e.heap) > 0 {
		i := e.heap[0].slot()
		if !e.isCancelled(i) {
			return e.heap[0].at, true
		}
		e.pop()
		e.dropCancelled(i)
	}
	return 0, false
}

// Run executes pending events in (time, insertion order) until one of
// these, checked in this order before each event:
//
//   - a handler has called [Engine.Stop]: returns [Stopped];
//   - maxEvents events have run in this call: returns [EventLimit]
//     (maxEvents == 0 means no limit);
//   - no event is pending: returns [QueueEmpty];
//   - the next event is later than until: returns [TimeLimit].
//
// So every event at a time <= until runs, unless the run stops early, and
// none later than until does. When Run returns TimeLimit or QueueEmpty the
// clock is left at until, as if an empty event had fired there, so a later
// At or After counts from until; the one exception is until == [Forever],
// which means no time limit and leaves the clock at the last event. When Run
// returns EventLimit or Stopped the clock stays at the last event executed.
// The clock never moves backwards: an until earlier than [Engine.Now] runs
// nothing and leaves Now as it was.
//
// Run panics if called from inside a handler.
func (e *Engine) Run(until Time, maxEvents uint64) StopReason {
	if e.running {
		panic("sim: Run called from inside a handler")
	}
	e.running = true
	e.stop = false
	defer func() { e.running = false }()

	var n uint64
	for {
		if e.stop {
			return Stopped
		}
		if maxEvents != 0 && n >= maxEvents {
			return EventLimit
		}
		if len(e.heap) == 0 {
			if until != Forever && until > e.now {
				e.now = until
			}
			return QueueEmpty
		}
		if e.heap[0].at > until {
			if until > e.now {
				e.now = until
			}
			return TimeLimit
		}
		top := e.heap[0]
		e.pop()
		i := top.slot()
		if e.isCancelled(i) {
			e.dropCancelled(i)
			continue
		}
		e.gens[i] = 0
		e.freeSlots = append(e.freeSlots, i)
		e.now = top.at
		n++
		e.executed++
		e.handler(top.at, top.ev)
	}
}

// Reset empties the queue and sets the clock and [Engine.Executed] back to
// zero, keeping the handler and the memory already allocated. IDs issued
// before Reset are stale afterwards: cancelling with one returns false.
func (e *Engine) Reset() {
	if e.running {
		panic("sim: Reset called from inside a handler")
	}
	for k := range e.heap {
		i := e.heap[k].slot()
		e.gens[i] = 0
		e.freeSlots = append(e.freeSlots, i)
	}
	clear(e.cancelledBits)
	e.heap = e.heap[:0]
	e.cancelled = 0
	e.seq = 0
	e.now = 0
	e.executed = 0
}

func (e *Engine) isCancelled(i int32) bool {
	return e.cancelledBits[i/64]&(1<<(i%64)) != 0
}

// dropCancelled frees slot i, whose cancelled entry has left the heap.
func (e *Engine) dropCancelled(i int32) {
	e.cancelledBits[i/64] &^= 1 << (i % 64)
	e.cancelled--
	e.freeSlots = append(e.freeSlots, i)
}

// compact removes every cancelled entry from the heap, frees their slots
// and restores the heap order.
func (e *Engine) compact() {
	h := e.heap[:0]
	for k := range e.heap {
		i := e.heap[k].slot()
		if e.isCancelled(i) {
			e.dropCancelled(i)
			continue
		}
		h = append(h, e.heap[k])
	}
	clear(e.heap[len(h):])
	e.heap = h
	for j := (len(h) - 2) / arity; j >= 0; j-- {
		e.down(j)
	}
}

// renumber runs when the sequence numbers that fit in an entry's key are
// used up. It drops cancelled entries, sorts the rest by (time, sequence),
// which is a valid heap, and gives them the sequence numbers 0, 1, 2, ...
// in that order, so ties keep breaking by insertion order.
func (e *Engine) renumber() {
	e.renumbers++
	e.compact()
	slices.SortFunc(e.heap, func(a, b entry) int {
		if a.less(&b) {
			return -1
		}
		if b.less(&a) {
			return 1
		}
		return 0
	})
	for k := range e.heap {
		e.heap[k].key = uint64(k)<<32 | e.heap[k].key&0xffffffff
	}
	e.seq = uint64(len(e.heap))
	if e.seq >= e.seqLimit {
		panic(fmt.Sprintf("sim: %d pending events exceed the sequence space %d", e.seq, e.seqLimit))
	}
}

// push adds en to the heap.
func (e *Engine) push(en entry) {
	e.heap = append(e.heap, en)
	e.up(len(e.heap) - 1)
}

// pop removes the top of the heap. It uses Floyd's bottom-up method: the
// hole left at the root moves down to a leaf, always to the smaller child
// (one comparison per level instead of two), and the last entry, which
// belongs near the bottom in the steady state, is sifted up from there.
func (e *Engine) pop() {
	h := e.heap
	n := len(h) - 1
	last := h[n]
	h = h[:n]
	e.heap = h
	if n == 0 {
		return
	}
	j := 0
	for {
		c := j*arity + 1
		if c >= n {
			break
		}
		m := c
		end := min(c+arity, n)
		for k := c + 1; k < end; k++ {
			if h[k].less(&h[m]) {
				m = k
			}
		}
		h[j] = h[m]
		j = m
	}
	for j > 0 {
		p := (j - 1) / arity
		if !last.less(&h[p]) {
			break
		}
		h[j] = h[p]
		j = p
	}
	h[j] = last
}

// up moves the entry at index j towards the root until its parent is not
// greater.
func (e *Engine) up(j int) {
	h := e.heap
	en := h[j]
	for j > 0 {
		p := (j - 1) / arity
		if !en.less(&h[p]) {
			break
		}
		h[j] = h[p]
		j = p
	}
	h[j] = en
}

// down moves the entry at index j towards the leaves until no child is
// smaller.
func (e *Engine) down(j int) {
	h := e.heap
	n := len(h)
	en := h[j]
	for {
		c := j*arity + 1
		if c >= n {
			break
		}
		// Find the smallest of up to arity children.
		m := c
		end := min(c+arity, n)
		for k := c + 1; k < end; k++ {
			if h[k].less(&h[m]) {
				m = k
			}
		}
		if !h[m].less(&en) {
			break
		}
		h[j] = h[m]
		j = m
	}
	h[j] = en
}
