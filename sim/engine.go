package sim

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
