package locks

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Config is what a Machine needs besides its topology.
type Config struct {
	// Topology is the list of lock levels; it must pass Validate.
	Topology Topology
	// NodeCacheTTL is how long a value stays fresh in the node cache. Zero
	// disables the node cache (every request goes to its flight).
	NodeCacheTTL time.Duration
	// SharedCacheTTL is how long a value stays in a shared cache. It must be
	// positive when the topology has a shared level.
	SharedCacheTTL time.Duration
	// StaleFor is how long past its TTL the node cache keeps a value for the
	// stale policy. Zero means no stale values are kept.
	StaleFor time.Duration
	// Seed seeds the generator of lock tokens. A simulation passes a seed
	// derived from its run seed; a production driver passes 32 bytes from
	// crypto/rand so that tokens cannot be guessed.
	Seed [32]byte
	// KeyNumber, when set, numbers keys (from 0, below 2^32-1) so that the
	// machine keeps them in a compact table of its own instead of a map
	// from names (one cache line per request instead of three). It returns
	// -1 for a key it does not number. A simulator whose keys are "k0", "k1",
	// ... sets it; a production driver leaves it nil. It changes nothing
	// the machine does, only where it keeps what it knows about a key.
	KeyNumber func(key string) int
}

// Handle names a request that is waiting, so that it can be cancelled. The
// zero Handle names nothing (the request was answered at once).
type Handle struct {
	Flight FlightID
	Index  uint32
	valid  bool
}

// Valid reports whether the handle names a waiting request.
func (h Handle) Valid() bool { return h.valid }

// LevelStats counts what happened at one level of the topology on one node.
type LevelStats struct {
	// Acquisitions counts locks taken (node level: flights started).
	Acquisitions uint64
	// Waits counts flights (node level: followers) that found the lock held
	// and waited.
	Waits uint64
	// Timeouts counts waits that timed out.
	Timeouts uint64
	// PeakContenders is, for the node level only, the most requests one
	// flight had at once. Shared levels span nodes: drivers sum EffContend.
	PeakContenders int
}

// Stats counts what one machine did. Drivers add machines' stats together.
type Stats struct {
	Requests       uint64
	Served         [NumServed]uint64
	Fetches        [NumCauses]uint64
	UpstreamErrors uint64
	Levels         [MaxLevels]LevelStats
	Ops            [NumOpKinds]uint64
	StoreErrors    uint64
	LeasesLost     uint64
	WritesRefused  uint64
	// LateReplies counts replies and timers that arrived after their flight
	// had moved on, and were dropped.
	LateReplies uint64
}

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

// Machine is the lock protocol for one node: it owns the node cache and the
// node's flights (one per key in flight when the topology has a node level,
// one per request otherwise). It has no clock, no goroutines and no I/O:
// every input carries the time, and every action is an Effect the driver
// collects with Ready. A Machine is not safe for concurrent use.
type Machine[V any] struct {
	cfg        Config
	levels     []Level
	nodeLevel  bool
	firstLevel int // index of the first shared level

	keys         keyTable[V]
	sinceSweep   int // values cached since the last sweep
	afterSweep   int // entries the last sweep kept
	flights      []*flight[V]
	free         []uint32
	subs         map[subKey]*subscription
	subPool      []*subscription
	out          *outbox[V]
	ptrValues    bool // V may hold pointers: Ready clears whole batches
	rng          *rand.ChaCha8
	stats        Stats
	renewEvery   time.Duration
	anyRenewable bool
	hedges       int // flights of followers that hedged (see flight.hedgeOf)
}

// NewMachine returns a machine for cfg, or an error naming the setting that
// is wrong.
func NewMachine[V any](cfg Config) (*Machine[V], error) {
	if err := cfg.Topology.Validate(); err != nil {
		return nil, err
	}
	m := &Machine[V]{
		cfg:    cfg,
		levels: cfg.Topology.Levels,
		keys:   newKeyTable[V](cfg.KeyNumber),
		subs:   make(map[subKey]*subscription),
		out:    new(outbox[V]),
		rng:    rand.NewChaCha8(cfg.Seed),
	}
	m.ptrValues = mayHoldPointers[V]()
	m.nodeLevel = len(m.levels) > 0 && m.levels[0].Scope == ScopeNode
	if m.nodeLevel {
		m.firstLevel = 1
	}
	for _, l := range m.levels[m.firstLevel:] {
		if cfg.SharedCacheTTL <= 0 {
			return nil, fmt.Errorf("shared cache TTL must be positive with shared level %s, got %v", l.LevelName(), cfg.SharedCacheTTL)
		}
		if !l.NoRenew {
			every := l.LeaseTTL / 3
			if !m.anyRenewable || every < m.renewEvery {
				m.renewEvery = every
			}
			m.anyRenewable = true
		}
	}
	if cfg.NodeCacheTTL < 0 || cfg.StaleFor < 0 {
		return nil, fmt.Errorf("node cache TTL and stale window must not be negative, got %v and %v", cfg.NodeCacheTTL, cfg.StaleFor)
	}
	return m, nil
}

// Topology returns the machine's topology.
func (m *Machine[V]) Topology() Topology { return m.cfg.Topology }

// Stats returns what the machine has counted so far.
func (m *Machine[V]) Stats() Stats { return m.stats }

// InFlight returns the number of flights in progress (for tests and gauges).
func (m *Machine[V]) InFlight() int { return len(m.flights) - len(m.free) }

// Request is the input "a request for key arrived at now". It replies at once
// on a node-cache hit (and returns the zero Handle); otherwise the request
// joins or starts a flight, and the returned Handle can cancel it.
func (m *Machine[V]) Request(now Time, id ReqID, key string) Handle {
	return m.request(now, id, key, m.keys.ref(key))
}

func (m *Machine[V]) request(now Time, id ReqID, key string, k keyRef) Handle {
	m.stats.Requests++
	e := m.keys.get(k)
	if e.cached && now < e.fresh {
		m.reply(id, key, now, ServedHit, e.value, nil, -1)
		return Handle{}
	}
	if m.nodeLevel {
		if e.flight != 0 {
			f := m.flights[e.flight-1]
			i := m.join(f, id, now)
			st := &m.stats.Levels[0]
			st.Waits++
			if f.live > st.PeakContenders {
				st.PeakContenders = f.live
			}
			if !f.timerOn[TimerFollower] {
				m.setTimer(f, TimerFollower, now.Add(m.levels[0].WaitTimeout))
			}
			return Handle{Flight: f.id, Index: uint32(i), valid: true}
		}
	}
	f := m.newFlight(k, id, now)
	if m.nodeLevel {
		f.keyed = true
		e.flight = f.id.Slot + 1
		m.keys.set(k, e)
		st := &m.stats.Levels[0]
		st.Acquisitions++
		if st.PeakContenders < 1 {
			st.PeakContenders = 1
		}
	}
	m.enterLevel(f, now, m.firstLevel)
	return Handle{Flight: f.id, Index: 0, valid: true}
}

// Cancel is the input "the request h was cancelled at now": it gets no reply.
// Its flight goes on for the others, unless it was the last one waiting, in
// which case the flight is aborted (its locks released). A follower that
// hedged after its node-level wait is still waiting, for its own upstream
// call, which cancelling it aborts. Cancel reports whether the request was
// still waiting.
func (m *Machine[V]) Cancel(now Time, h Handle) bool {
	if !h.valid {
		return false
	}
	f := m.lookup(h.Flight)
	if f != nil && int(h.Index) < len(f.waiters) && f.waiting(int(h.Index)) {
		f.leave(int(h.Index))
		if f.live == 0 {
			m.abort(f, now)
		}
		return true
	}
	// A follower that hedged waits in a flight of its own, which may outlive
	// the one it left.
	if g := m.hedgeFor(h); g != nil {
		g.leave(0)
		m.abort(g, now)
		return true
	}
	return false
}

// hedgeFor returns the live flight of the follower that was given h and
// hedged, or nil.
func (m *Machine[V]) hedgeFor(h Handle) *flight[V] {
	if m.hedges == 0 {
		return nil
	}
	for _, f := range m.flights {
		if f.hedgeOf == h && f.phase != phaseIdle && f.waiting(0) {
			return f
		}
	}
	return nil
}

// Abort ends every flight at now: waiting requests get ErrAborted, held locks
// are released, subscriptions and timers dropped. A driver calls it when it
// closes.
func (m *Machine[V]) Abort(now Time) {
	for _, f := range m.flights {
		if f.phase == phaseIdle && f.live == 0 {
			continue
		}
		m.replyAll(f, ServedError, ServedError, *new(V), ErrAborted, -1)
		m.abort(f, now)
	}
}

// StoreDone is the input "the store answered op with res at now". op must be
// the Op of the EffStore effect, unchanged.
func (m *Machine[V]) StoreDone(now Time, op Op[V], res Result[V]) {
	if res.Status == StatusError {
		m.stats.StoreErrors++
	}
	switch op.Kind {
	case OpReadOrAcquire:
		f := m.lookup(op.Flight)
		if f == nil || f.phase != phaseRA || f.level != int(op.Level) || f.raSeq != op.Seq {
			m.stats.LateReplies++
			m.releaseLateGrant(f, now, op, res)
			return
		}
		m.readOrAcquireDone(f, now, res)
	case OpSubscribe:
		m.subscribeDone(now, op, res)
	case OpExtend:
		m.extendDone(now, op, res)
	case OpPublish:
		if res.Status == StatusOK && !res.Written {
			m.stats.WritesRefused++
		}
	}
}

// Fired is the input "timer t fired at now".
func (m *Machine[V]) Fired(now Time, t Timer) {
	f := m.lookup(t.Flight)
	if f == nil || t.Kind >= NumTimerKinds || !f.timerOn[t.Kind] || f.timerSeq[t.Kind] != t.Seq {
		m.stats.LateReplies++
		return
	}
	f.timerOn[t.Kind] = false
	switch t.Kind {
	case TimerDeadline:
		m.levelTimedOut(f, now)
	case TimerPoll:
		if f.phase == phaseWaiting {
			m.sendReadOrAcquire(f, now)
		}
	case TimerFollower:
		m.followersTimedOut(f, now)
	case TimerRenew:
		m.renew(f, now)
	}
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
