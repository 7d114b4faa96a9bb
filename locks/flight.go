package locks

type phase uint8

const (
	phaseIdle        phase = iota // between steps (never observed outside a call)
	phaseRA                       // a read-or-acquire is outstanding
	phaseSubscribing              // waiting for the subscription before the last check
	phaseWaiting                  // the lock is held by another; a poll timer is set
	phaseFetching                 // the upstream call is outstanding
)

// flight's fields are ordered so that those every flight touches share its
// first three cache lines (a simulator runs hundreds of machines, whose
// flights are cold each time they are touched). It is 232 bytes, in the Go
// allocator's 240-byte class: a topology without a node level makes every
// request a flight, and a stampede keeps millions of them at once.
type flight[V any] struct {
	id    FlightID
	phase phase
	keyed bool // the node-level flight of its key (keyEntry.flight)
	// waited: found a lock held on its way: the owner was collapsed.
	waited  bool
	lastErr bool // the last read-or-acquire at this level failed
	// notified: a release or write was announced while a read-or-acquire
	// was on its way, so a "held" reply may predate it.
	notified bool
	hedge    bool  // fetching without the outermost lock
	inSub    bool  // registered in its subscription (subIdx)
	polls    uint8 // safety-net polls at this level so far (notify mode)
	contend  [MaxLevels]bool
	raSeq    uint32
	level    int // index of the current shared level
	deadline Time
	raSent   Time // when the last read-or-acquire was sent
	key      keyRef

	// waiters[0] is the owner. A flight of one request keeps it in owner,
	// inside the flight; the second to join moves the list to one from the
	// pool (Machine.join), so that most flights touch no memory but their
	// own.
	waiters []Waiter
	gone    []uint64 // bit i set: waiters[i] no longer waits (answered, cancelled)
	live    int      // waiters still waiting
	head    int      // oldest follower whose node-level deadline may not have passed
	owner   [1]Waiter
	gone1   [1]uint64 // gone's first word, inside the flight

	token    Token
	timerSeq [NumTimerKinds]uint32
	timerOn  [NumTimerKinds]bool
	holding  uint8 // levels whose lock f holds (held[i].acquired)
	subIdx   int
	// hedgeOf is, for the flight of a follower that hedged after its
	// node-level wait, the Handle that follower was given, so that Cancel
	// can still find it.
	hedgeOf Handle

	// held is the state of the shared locks f holds, from its first
	// acquisition on (nil before): holding > 0 implies held != nil.
	held *[MaxLevels]heldLock
}

// waiting reports whether waiters[i] still waits.
func (f *flight[V]) waiting(i int) bool { return f.gone[i/64]&(1<<(i%64)) == 0 }

// leave marks waiters[i] as no longer waiting.
func (f *flight[V]) leave(i int) {
	f.gone[i/64] |= 1 << (i % 64)
	f.live--
}

// join adds a waiter to f and returns its index.
func (m *Machine[V]) join(f *flight[V], id ReqID, now Time) int {
	i := len(f.waiters)
	if i == cap(f.waiters) && i == 1 { // the owner is alone in f.owner
		f.waiters = append(m.takeWaiters(), f.waiters[0])
	}
	f.waiters = append(f.waiters, Waiter{ID: id, Since: now})
	if i/64 >= len(f.gone) {
		f.gone = append(f.gone, 0)
	}
	f.gone[i/64] &^= 1 << (i % 64)
	f.live++
	return i
}

func (m *Machine[V]) lookup(id FlightID) *flight[V] {
	if int(id.Slot) >= len(m.flights) {
		return nil
	}
	f := m.flights[id.Slot]
	if f.id.Gen != id.Gen || f.phase == phaseIdle {
		return nil
	}
	return f
}

func (m *Machine[V]) newFlight(key keyRef, owner ReqID, now Time) *flight[V] {
	var f *flight[V]
	if n := len(m.free); n > 0 {
		f = m.flights[m.free[n-1]]
		m.free = m.free[:n-1]
	} else {
		f = &flight[V]{id: FlightID{Slot: uint32(len(m.flights))}}
		f.gone = f.gone1[:0]
		m.flights = append(m.flights, f)
	}
	f.key = key
	f.waiters = f.owner[:0]
	f.live = 0
	m.join(f, owner, now)
	f.head = 1
	f.level = -1
	f.waited = false
	f.hedge = false
	f.lastErr = false
	f.notified = false
	f.keyed = false
	f.hedgeOf = Handle{}
	f.phase = phaseIdle
	return f
}

func (m *Machine[V]) endFlight(f *flight[V]) {
	for k := TimerKind(0); k < NumTimerKinds; k++ {
		if f.timerOn[k] {
			m.cancelTimer(f, k)
		}
	}
	if f.inSub {
		m.leaveSub(f)
	}
	if f.keyed {
		// A flight that filled the cache was unregistered by finish.
		if e := m.keys.get(f.key); e.cached {
			e.flight = 0
			m.keys.set(f.key, e)
		} else {
			m.keys.drop(f.key)
		}
		f.keyed = false
	}
	if f.hedgeOf.valid {
		f.hedgeOf = Handle{}
		m.hedges--
	}
	f.phase = phaseIdle
	f.id.Gen++
	f.key = keyRef{}
	f.contend = [MaxLevels]bool{}
	if f.holding > 0 { // every way to end a flight gives its locks back first
		*f.held = [MaxLevels]heldLock{}
		f.holding = 0
	}
	// A list of more than one waiter goes back to the pool, unless
	// replyAll lent it to the driver (and set it to nil).
	if cap(f.waiters) > 1 {
		m.poolWaiters(f.waiters)
	}
	f.waiters = nil
	m.free = append(m.free, f.id.Slot)
}

func (m *Machine[V]) abort(f *flight[V], now Time) {
	if f.phase == phaseFetching {
		m.push(EffCancelFetch).Fetch = Fetch{Flight: f.id, Key: f.key.name, KeyNum: f.key.num, Level: -1}
	}
	m.releaseHeld(f, now)
	if f.level >= 0 && f.level < len(m.levels) {
		m.contendLeave(f, f.level)
	}
	m.endFlight(f)
}
