package sim

import (
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/stampsim/stampsim/internal/prefetch"
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
// An EventID stays valid only while its event is pending. The ID names a
// slot in the engine's table, which is reused once the event fires or is
// cancelled, and a generation: every scheduled event gets the next value of
// the engine's 32-bit generation counter, so a stale ID never cancels the
// slot's next occupant. (It could only do so if exactly 2^32-1 events, or a
// multiple of that, were scheduled between the two, and the second took the
// same slot.)
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
	// Interrupted means that the function given to [Engine.SetInterrupt]
	// reported true. The clock stays at the last event executed, and the
	// events still pending stay queued.
	Interrupted
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
	case Interrupted:
		return "interrupted"
	}
	return fmt.Sprintf("StopReason(%d)", uint8(r))
}

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

// prefetchSlots is the size of the slot table beyond which Run prefetches
// the slots of the next events: 4096 slots are 128 KiB, about the size of a
// core's L2 cache. Below it the slots stay in cache and prefetching is
// wasted work.
const prefetchSlots = 4096

// bigQueue is the number of entries beyond which the queue moves from the
// binary heap to the radix heap (Engine.big).
const bigQueue = 1 << 14

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

	// heap is the priority queue while it is small: a binary min-heap on
	// (at, key), stored from index 1 so that the two children of node j,
	// 2j and 2j+1, share a cache line when the backing array is 32-byte
	// aligned, as large ones are (heap[0] is unused). The payloads live in
	// slots, so sifts move 16-byte entries only.
	heap []entry

	// big is set while the queue is large and lives in q, a radix heap,
	// instead of heap. A binary heap is the faster of the two with a few
	// thousand events pending; with tens of thousands, as in a stampede,
	// each of its sifts wanders through a dozen levels of memory that no
	// longer fits in cache, and the radix heap, which moves each entry a
	// few times through sequential memory, is twice as fast (see
	// bench_test.go). The queue moves to q when heap holds more than bigAt
	// entries, and back when q holds fewer than smallAt.
	big            bool
	q              radix
	bigAt, smallAt int

	// Every entry in heap or q owns a slot, named by the low half of its
	// key.
	slots     []slot
	freeSlots []uint32 // stack of free slots; the last freed is reused first
	cancelled int      // entries in the queue whose event was cancelled
	gen       uint32   // last generation issued; 0 is never issued

	seq       uint64 // next sequence number
	seqLimit  uint64 // sequence numbers must stay < seqLimit (seqSpace, smaller in tests)
	renumbers int    // times renumber has run, for tests

	// fired is true while a handler runs and the root of heap still holds
	// the entry of the event being executed. The first event the handler
	// schedules takes its place with one sift down, instead of a pop (sift
	// down) followed by a push (sift up): in the steady state of a
	// simulation almost every event schedules a successor. If the handler
	// schedules nothing, settle pops the entry when it returns.
	fired bool

	// lanes hold events the caller promised to schedule in time order
	// (AtLane), as FIFO queues beside the heap; best is the lane whose
	// head comes first, or -1 when all are empty. See AtLane.
	lanes   [MaxLanes]lane
	best    int
	active  uint32 // bit i set: lanes[i] is not empty
	laneLen int    // entries in all lanes

	executed uint64
	running  bool
	stop     bool

	// interrupted, if set, is asked every InterruptEvery events whether
	// the run must end; see SetInterrupt.
	interrupted func() bool
}

// InterruptEvery is how many events [Engine.Run] executes between two calls
// of the function given to [Engine.SetInterrupt]. A few thousand events take
// well under a millisecond even in a large world, so an interruption is
// noticed at once in wall time; and asking once per event would put a call
// on the hot path that the check exists to stay off.
const InterruptEvery = 4096

// SetInterrupt makes [Engine.Run] call interrupted before its first event
// and then once every [InterruptEvery] events, and return [Interrupted] as
// soon as it reports true. This is how a run is stopped from outside the
// simulation, for example on a signal: interrupted may read state that
// another goroutine sets (an atomic flag, or whether a context is done),
// and it is the only engine code that does; the engine itself stays
// single-threaded. Unlike the time limit, it works whether or not the
// virtual clock advances, so it also ends a run whose events all fall at
// one instant. A nil interrupted switches the check off. SetInterrupt must
// not be called from inside a handler; Reset keeps the function.
func (e *Engine) SetInterrupt(interrupted func() bool) {
	if e.running {
		panic("sim: SetInterrupt called from inside a handler")
	}
	e.interrupted = interrupted
}

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

// New returns an engine at time zero with an empty queue that will deliver
// every event to h. It panics if h is nil.
func New(h Handler) *Engine {
	if h == nil {
		panic("sim: New called with a nil Handler")
	}
	return &Engine{
		handler: h, seqLimit: seqSpace, heap: make([]entry, 1, 64), best: -1,
		bigAt: bigQueue, smallAt: bigQueue / 4,
	}
}

// Now returns the current virtual time: the time of the event being executed
// or, between runs, the time at which the last [Engine.Run] left the clock.
func (e *Engine) Now() Time { return e.now }

// Executed returns the number of events executed since the engine was made
// or last reset, over all runs. Cancelled events are not counted.
func (e *Engine) Executed() uint64 { return e.executed }

// Pending returns the number of events scheduled and neither executed nor
// cancelled.
func (e *Engine) Pending() int {
	n := e.queued() - e.cancelled
	if e.fired {
		n--
	}
	return n
}

// queued returns the number of entries in the queue and the lanes.
func (e *Engine) queued() int { return len(e.heap) - 1 + e.q.len() + e.laneLen }

// At schedules ev to be delivered at virtual time t and returns its ID.
//
// Time never runs backwards: a t earlier than [Engine.Now] is clamped to
// Now, so the event runs after every event already scheduled for Now.
// Events scheduled for the same time run in the order they were scheduled.
func (e *Engine) At(t Time, ev Event) EventID {
	if t < e.now {
		t = e.now
	}
	en, id := e.enter(t, ev)
	switch {
	case e.big:
		e.q.push(en)
	case e.fired:
		e.fired = false
		e.heap[1] = en
		e.down(1)
	default:
		e.push(en)
		if len(e.heap) > e.bigAt+1 {
			e.toRadix()
		}
	}
	return id
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
	i := id.slot()
	if uint64(i) >= uint64(len(e.slots)) {
		return false
	}
	s := &e.slots[i]
	if s.gen != id.gen() || s.state != slotPending {
		return false
	}
	s.state = slotCancelled
	e.cancelled++
	if e.cancelled > e.queued()/2 {
		e.settle()
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
	e.settle()
	for {
		top, lane, ok := e.next()
		if !ok {
			return 0, false
		}
		i := top.slot()
		if i == noSlot || e.slots[i].state != slotCancelled {
			return top.at, true
		}
		e.take(lane)
		e.release(i)
		e.cancelled--
	}
}

// next returns the first entry of the queue (heap or q) and the lanes, and
// the lane it heads (-1: the queue's); ok is false when all are empty.
func (e *Engine) next() (top entry, lane int, ok bool) {
	lane = -1
	if e.big {
		if e.q.len() > 0 {
			top, ok = *e.q.peek(), true
		}
	} else if len(e.heap) > 1 {
		top, ok = e.heap[1], true
	}
	if e.best >= 0 {
		l := &e.lanes[e.best]
		if h := &l.q[l.head]; !ok || h.less(&top) {
			return *h, e.best, true
		}
	}
	return top, lane, ok
}

// take removes the first entry of lane, or the queue's for lane -1.
func (e *Engine) take(lane int) {
	if lane < 0 {
		if e.big {
			e.popBig()
		} else {
			e.pop()
		}
		return
	}
	l := &e.lanes[lane]
	l.popFront()
	e.laneLen--
	if l.len() == 0 {
		e.active &^= 1 << lane
	}
	e.pickBest()
}

// Run executes pending events in (time, insertion order) until one of
// these, checked in this order before each event:
//
//   - a handler has called [Engine.Stop]: returns [Stopped];
//   - maxEvents events have run in this call: returns [EventLimit]
//     (maxEvents == 0 means no limit);
//   - the function given to [Engine.SetInterrupt] reports true (it is
//     asked before the first event and after every [InterruptEvery]):
//     returns [Interrupted];
//   - no event is pending: returns [QueueEmpty];
//   - the next event is later than until: returns [TimeLimit].
//
// So every event at a time <= until runs, unless the run stops early, and
// none later than until does. When Run returns TimeLimit or QueueEmpty the
// clock is left at until, as if an empty event had fired there, so a later
// At or After counts from until; the one exception is until == [Forever],
// which means no time limit and leaves the clock at the last event. When Run
// returns EventLimit, Stopped or Interrupted the clock stays at the last
// event executed.
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
	defer func() {
		e.settle() // if a handler panicked
		e.running = false
	}()

	// n counts the events executed in this call. The event limit and the
	// interruption are checked only when n reaches check: one compare per
	// event, the same cost as the event limit's test alone.
	var n, check uint64
	for {
		if e.stop {
			return Stopped
		}
		if n >= check {
			if maxEvents != 0 && n >= maxEvents {
				return EventLimit
			}
			if e.interrupted != nil && e.interrupted() {
				return Interrupted
			}
			check = n + InterruptEvery
			if maxEvents != 0 && check > maxEvents {
				check = maxEvents
			}
		}
		top, lane, ok := e.next()
		if !ok {
			if until != Forever && until > e.now {
				e.now = until
			}
			return QueueEmpty
		}
		i := top.slot()
		if i == noSlot { // the head of a fixed lane
			if top.at > until {
				if until > e.now {
					e.now = until
				}
				return TimeLimit
			}
			l := &e.lanes[lane]
			ev := l.evs[l.head]
			e.now = top.at
			n++
			e.executed++
			e.take(lane)
			e.handler(top.at, ev)
			continue
		}
		s := &e.slots[i]
		if top.at > until {
			// A queue holding only cancelled events is reported empty, so
			// that a cancelled far-future timer never decides the stop
			// reason. The cancelled entries stay queued until they come
			// due: taking them out now would take the radix heap past the
			// clock (see radix.rebase).
			if e.Pending() == 0 {
				if until != Forever && until > e.now {
					e.now = until
				}
				return QueueEmpty
			}
			if until > e.now {
				e.now = until
			}
			return TimeLimit
		}
		if s.state == slotCancelled {
			e.take(lane)
			e.release(i)
			e.cancelled--
			continue
		}
		ev := s.ev
		// The next event to fire is one of the root's children (or one
		// the handler is about to schedule, whose slot is in cache). Their
		// slots are random, and in a large table a miss on each would cost
		// as much as the whole heap operation, so start loading them now,
		// while the handler runs and the heap is sifted.
		if len(e.slots) > prefetchSlots && len(e.heap) > 3 {
			prefetch.At(&e.slots[e.heap[2].slot()])
			prefetch.At(&e.slots[e.heap[3].slot()])
		}
		e.release(i)
		e.now = top.at
		n++
		e.executed++
		switch {
		case lane >= 0:
			e.take(lane)
		case e.big:
			e.popBig()
			if e.big && e.q.len() > 0 {
				prefetch.At(&e.slots[e.q.peek().slot()])
			}
		default:
			e.fired = true
		}
		e.handler(top.at, ev)
		if e.fired {
			e.fired = false
			e.pop()
		}
	}
}

// Reset empties the queue and sets the clock and [Engine.Executed] back to
// zero, keeping the handler and the memory already allocated. IDs issued
// before Reset are stale afterwards: cancelling with one returns false.
func (e *Engine) Reset() {
	if e.running {
		panic("sim: Reset called from inside a handler")
	}
	for _, en := range e.heap[1:] {
		e.release(en.slot())
	}
	e.heap = e.heap[:1]
	e.q.each(func(en entry) { e.release(en.slot()) })
	e.q.clear()
	e.q.last = 0
	e.big = false
	for k := range e.lanes {
		l := &e.lanes[k]
		for _, en := range l.q[l.head:] {
			if i := en.slot(); i != noSlot {
				e.release(i)
			}
		}
		l.q, l.evs, l.head, l.fixed = l.q[:0], l.evs[:0], 0, false
	}
	e.best = -1
	e.active, e.laneLen = 0, 0
	e.cancelled = 0
	e.seq = 0
	e.now = 0
	e.executed = 0
}

// release frees slot i, which makes every ID issued for it stale, and
// puts it on the free stack.
func (e *Engine) release(i uint32) {
	e.slots[i].state = slotFree
	e.freeSlots = append(e.freeSlots, i)
}

// settle removes the entry of the event being executed from the root of
// the heap, if no event has taken its place yet (see Engine.fired), so that
// the heap holds only pending and cancelled entries.
func (e *Engine) settle() {
	if e.fired {
		e.fired = false
		e.pop()
	}
}

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
