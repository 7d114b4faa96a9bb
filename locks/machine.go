package locks

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/stampsim/stampsim/internal/prefetch"
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

type heldLock struct {
	acquired bool
	lost     bool
	token    Token
	fence    uint64
	leaseEnd Time // the lease ends no earlier than this
	sent     Time // when the last extension was sent
}

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

type subKey struct {
	level uint8
	key   string
}

type subState uint8

const (
	subPending subState = iota
	subActive
)

type subscription struct {
	state       subState
	activeSince Time     // when the subscription was confirmed
	flights     []uint32 // slots of flights waiting on this key at this level
}

// keyEntry is what a machine keeps about one key: its node-cache entry and
// the node-level flight that collapses its requests. Both live in one map
// (Machine.keys) so that a request costs one lookup, and a miss one more
// write to register its flight.
type keyEntry[V any] struct {
	value  V
	fresh  Time   // the value is fresh before this time
	flight uint32 // slot+1 of the key's node-level flight; 0: none
	cached bool   // value and fresh are set
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

// outbox holds a machine's effects: the batch being built and the one the
// driver is reading, with the waiter lists they lend. Machines of one
// driver may share one (ShareEffects).
type outbox[V any] struct {
	effects     []Effect[V]
	spare       []Effect[V]
	lent        [][]Waiter // waiter lists lent with the effects of the current batch
	refsAt      []int32    // effects of the current batch holding a waiter list or an error
	spareRefsAt []int32    // the same for the batch the driver is reading
	returned    [][]Waiter // lent with the batch the driver is reading
	pool        [][]Waiter // waiter lists ready for reuse
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

// Ready returns the effects produced since the last call. The slice is valid
// until the next call to Ready; inputs given while the driver works through
// it add to the next batch.
func (m *Machine[V]) Ready() []Effect[V] {
	o := m.out
	if len(o.returned) > 0 || len(o.lent) > 0 {
		m.recycle()
	}
	out := o.effects
	spare := o.spare
	// The batch before out is done with: drop what it holds that could be
	// large (waiter lists, errors, values that may hold pointers). The rest
	// is left for the next batch to write over, field by field (see push).
	switch {
	case cap(spare) > 1<<12:
		spare = nil // a burst of effects must not pin its memory either
	case m.ptrValues:
		clear(spare)
	default:
		for _, i := range o.spareRefsAt {
			spare[i].Waiters, spare[i].Reply.Err = nil, nil
		}
	}
	o.spareRefsAt, o.refsAt = o.refsAt, o.spareRefsAt[:0]
	o.effects = spare[:0]
	o.spare = out
	return out
}

// ShareEffects makes m collect its effects in the same buffers as other, so
// that a driver of hundreds of machines writes every batch into memory that
// is already in the CPU's caches, instead of into one cold buffer per
// machine. The driver must then take the effects of each input (Ready on the
// machine that got it) before it gives an input to another machine of the
// group, as a simulator does. Call it before giving m any input.
func (m *Machine[V]) ShareEffects(other *Machine[V]) { m.out = other.out }

// mayHoldPointers reports whether values of type V may hold pointers; it
// knows the numbers and booleans.
func mayHoldPointers[V any]() bool {
	switch any(*new(V)).(type) {
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, uintptr,
		float32, float64, complex64, complex128:
		return false
	}
	return true
}

// InFlight returns the number of flights in progress (for tests and gauges).
func (m *Machine[V]) InFlight() int { return len(m.flights) - len(m.free) }

// Request is the input "a request for key arrived at now". It replies at once
// on a node-cache hit (and returns the zero Handle); otherwise the request
// joins or starts a flight, and the returned Handle can cancel it.
func (m *Machine[V]) Request(now Time, id ReqID, key string) Handle {
	return m.request(now, id, key, m.keys.ref(key))
}

// RequestNumbered is Request for a key that Config.KeyNumber numbers
// keyNumber (it must be what KeyNumber returns for key): a simulator, which
// draws its keys as numbers, saves the machine numbering each key again.
func (m *Machine[V]) RequestNumbered(now Time, id ReqID, key string, keyNumber int) Handle {
	return m.request(now, id, key, m.keys.numbered(key, keyNumber))
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

// releaseLateGrant gives back a lock that the store granted to a
// read-or-acquire its flight no longer waits for (the flight timed out,
// was cancelled or ended while the operation was on its way). Nobody would
// publish or release it, so every other flight would wait for its lease to
// run out. The token was drawn for that one wait, so the compare-and-delete
// cannot touch a lock the flight holds now.
func (m *Machine[V]) releaseLateGrant(f *flight[V], now Time, op Op[V], res Result[V]) {
	if res.Status != StatusAcquired || int(op.Level) >= len(m.levels) {
		return
	}
	if f != nil && f.held != nil && f.held[op.Level].acquired && f.held[op.Level].token == op.Token {
		return // a duplicate of the reply that made f the holder
	}
	m.emitOp(Op[V]{
		Flight: op.Flight, Kind: OpRelease, Level: op.Level, Scope: op.Scope, Key: op.Key, KeyNum: op.KeyNum,
		Token: op.Token, Deadline: now.Add(m.levels[op.Level].LeaseTTL),
	})
}

// Notified is the input "the store of scope announced at now that the lock of
// key was released or its value written". Every flight of this node waiting
// on that lock polls at once.
func (m *Machine[V]) Notified(now Time, scope Scope, key string) {
	level := -1
	for i := m.firstLevel; i < len(m.levels); i++ {
		if m.levels[i].Scope == scope {
			level = i
		}
	}
	if level < 0 {
		return
	}
	s := m.subs[subKey{uint8(level), key}]
	if s == nil || s.state != subActive {
		return
	}
	for _, slot := range s.flights {
		f := m.flights[slot]
		switch f.phase {
		case phaseWaiting:
			m.cancelTimer(f, TimerPoll)
			m.sendReadOrAcquire(f, now)
		case phaseRA:
			// The store may have run the read before the release: if it
			// says "held", read again at once rather than at the next poll.
			f.notified = true
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

// Fetched is the input "the upstream call of flight id finished at now" with
// the value, or with err when the upstream failed.
func (m *Machine[V]) Fetched(now Time, id FlightID, value V, err error) {
	f := m.lookup(id)
	if f == nil || f.phase != phaseFetching {
		m.stats.LateReplies++
		return
	}
	m.cancelTimer(f, TimerRenew)
	if err != nil {
		m.stats.UpstreamErrors++
		m.replyAll(f, ServedError, ServedError, *new(V), err, -1)
		m.releaseHeld(f, now)
		m.endFlight(f)
		return
	}
	owner := ServedFetched
	if f.hedge {
		owner = ServedHedged
	}
	m.finish(f, now, value, owner)
}

// --- flights ---------------------------------------------------------------

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

// enterLevel moves f to shared level i, or to the upstream call when there
// is none left.
func (m *Machine[V]) enterLevel(f *flight[V], now Time, i int) {
	f.level = i
	if i >= len(m.levels) {
		cause := CauseHolder
		if m.firstLevel >= len(m.levels) {
			cause = CauseNoLock
		}
		m.startFetch(f, now, cause, -1, false)
		return
	}
	l := &m.levels[i]
	f.deadline = now.Add(l.WaitTimeout)
	f.lastErr = false
	f.polls = 0
	f.token = Token{m.rng.Uint64(), m.rng.Uint64()}
	m.setTimer(f, TimerDeadline, f.deadline)
	m.sendReadOrAcquire(f, now)
}

func (m *Machine[V]) sendReadOrAcquire(f *flight[V], now Time) {
	l := &m.levels[f.level]
	f.raSeq++
	f.raSent = now
	f.phase = phaseRA
	m.emitOp(Op[V]{
		Flight: f.id, Seq: f.raSeq, Kind: OpReadOrAcquire, Level: uint8(f.level), Scope: l.Scope,
		Key: f.key.name, KeyNum: f.key.num, Token: f.token, TTL: l.LeaseTTL, FenceTTL: FenceTTL(*l, m.cfg.SharedCacheTTL),
		Deadline: f.deadline,
	})
}

func (m *Machine[V]) readOrAcquireDone(f *flight[V], now Time, res Result[V]) {
	i := f.level
	l := &m.levels[i]
	notified := f.notified
	f.notified = false
	switch res.Status {
	case StatusValue:
		m.stopWaiting(f)
		m.contendLeave(f, i)
		owner := ServedHit
		if f.waited {
			owner = ServedCollapsed
		}
		m.finish(f, now, res.Value, owner)
	case StatusAcquired:
		m.stopWaiting(f)
		m.contendEnter(f, i)
		m.stats.Levels[i].Acquisitions++
		// The store started the lease when it ran the read, no earlier than
		// when the read was sent.
		if f.held == nil {
			// The flight's first lock: most flights never take one (all
			// but one per lock key wait for its value), so the lock state
			// lives apart, allocated for the flight the first time it
			// takes a lock and kept when the flight is reused.
			f.held = new([MaxLevels]heldLock)
		}
		if !f.held[i].acquired {
			f.holding++
		}
		f.held[i] = heldLock{acquired: true, token: f.token, fence: res.Fence, leaseEnd: f.raSent.Add(l.LeaseTTL)}
		m.enterLevel(f, now, i+1)
	case StatusHeld:
		if !f.contend[i] {
			m.stats.Levels[i].Waits++
		}
		f.waited = true
		f.lastErr = false
		m.contendEnter(f, i)
		if notified {
			m.sendReadOrAcquire(f, now)
			return
		}
		if l.Wake == Notify && !f.inSub && m.joinSub(f, now) {
			return
		}
		f.phase = phaseWaiting
		m.setTimer(f, TimerPoll, now.Add(m.pollWait(f, l, res.TTL)))
	default: // StatusError and anything unexpected: not acquired; retry until the deadline
		f.lastErr = true
		f.phase = phaseWaiting
		m.setTimer(f, TimerPoll, now.Add(l.PollInterval))
	}
}

// pollWait returns how long f waits before it reads the lock again, given
// the lock's remaining lease (0 when unknown). In poll mode the poll is how
// a waiter learns of a release: every PollInterval, sooner if the lease
// runs out first. In notify mode, once f is subscribed, the notification is
// how it learns, and the poll only covers a lost one: it backs off,
// doubling from PollInterval, so that thousands of waiters (one-level and
// global make every request one) do not poll the store flat while they
// wait; it never waits past the lease's end, when a dead holder's lock
// frees itself.
func (m *Machine[V]) pollWait(f *flight[V], l *Level, ttl time.Duration) time.Duration {
	wait := l.PollInterval
	if l.Wake == Notify && f.inSub {
		wait = l.PollInterval << min(f.polls, 10)
		if f.polls < 255 {
			f.polls++
		}
	}
	if ttl > 0 && ttl < wait {
		wait = max(ttl, time.Millisecond)
	}
	return wait
}

// stopWaiting ends f's wait at its current level: no more polls, no deadline,
// no subscription.
func (m *Machine[V]) stopWaiting(f *flight[V]) {
	m.cancelTimer(f, TimerPoll)
	m.cancelTimer(f, TimerDeadline)
	if f.inSub {
		m.leaveSub(f)
	}
}

func (m *Machine[V]) contendEnter(f *flight[V], i int) {
	if f.contend[i] {
		return
	}
	f.contend[i] = true
	l := &m.levels[i]
	m.contend(f, l, i, 1)
}

func (m *Machine[V]) contendLeave(f *flight[V], i int) {
	if i < 0 || i >= MaxLevels || !f.contend[i] {
		return
	}
	f.contend[i] = false
	l := &m.levels[i]
	m.contend(f, l, i, -1)
}

// --- subscriptions ------------------------------------------------------------

// joinSub registers f as waiting for a release of its current level's lock.
// The first flight of this node to wait subscribes; a flight whose read was
// sent before the subscription stood makes one last check once it does, so
// no release between its read and the subscription is missed. joinSub
// reports whether it sent or awaits that check; if not, f simply waits.
func (m *Machine[V]) joinSub(f *flight[V], now Time) bool {
	k := subKey{uint8(f.level), f.key.name}
	s := m.subs[k]
	if s == nil {
		if n := len(m.subPool); n > 0 {
			s = m.subPool[n-1]
			m.subPool = m.subPool[:n-1]
		} else {
			s = &subscription{}
		}
		s.state = subPending
		s.flights = s.flights[:0]
		m.subs[k] = s
		l := &m.levels[f.level]
		m.emitOp(Op[V]{Flight: f.id, Kind: OpSubscribe, Level: uint8(f.level), Scope: l.Scope, Key: f.key.name, KeyNum: f.key.num, Deadline: f.deadline})
	}
	f.inSub = true
	f.subIdx = len(s.flights)
	s.flights = append(s.flights, f.id.Slot)
	if s.state != subActive {
		f.phase = phaseSubscribing
		return true
	}
	if f.raSent < s.activeSince {
		// The read that found the lock held may have been served before the
		// subscription: check once more, now that a release will be heard.
		m.sendReadOrAcquire(f, now)
		return true
	}
	// The read was sent after the subscription was confirmed, so it reached
	// the store after the store registered it: any release since then will
	// be announced. A last check would only add load.
	return false
}

func (m *Machine[V]) leaveSub(f *flight[V]) {
	k := subKey{uint8(f.level), f.key.name}
	s := m.subs[k]
	f.inSub = false
	if s == nil {
		return
	}
	last := len(s.flights) - 1
	if f.subIdx <= last {
		moved := s.flights[last]
		s.flights[f.subIdx] = moved
		m.flights[moved].subIdx = f.subIdx
		s.flights = s.flights[:last]
	}
	if len(s.flights) > 0 {
		return
	}
	delete(m.subs, k)
	m.subPool = append(m.subPool, s)
	l := &m.levels[f.level]
	m.emitOp(Op[V]{Flight: f.id, Kind: OpUnsubscribe, Level: uint8(f.level), Scope: l.Scope, Key: f.key.name, KeyNum: f.key.num})
}

func (m *Machine[V]) subscribeDone(now Time, op Op[V], res Result[V]) {
	s := m.subs[subKey{op.Level, op.Key}]
	if s == nil || s.state != subPending {
		m.stats.LateReplies++
		return
	}
	if res.Status == StatusOK {
		s.state = subActive
		s.activeSince = now
		for _, slot := range s.flights {
			if f := m.flights[slot]; f.phase == phaseSubscribing {
				m.sendReadOrAcquire(f, now)
			}
		}
		return
	}
	// The subscription failed: its flights fall back to polling, and the
	// next one to find the lock held subscribes again.
	l := &m.levels[op.Level]
	for len(s.flights) > 0 {
		f := m.flights[s.flights[len(s.flights)-1]]
		s.flights = s.flights[:len(s.flights)-1]
		f.inSub = false
		if f.phase == phaseSubscribing {
			f.phase = phaseWaiting
			m.setTimer(f, TimerPoll, now.Add(l.PollInterval))
		}
	}
	delete(m.subs, subKey{op.Level, op.Key})
	m.subPool = append(m.subPool, s)
}

// --- timeouts -------------------------------------------------------------------

func (m *Machine[V]) levelTimedOut(f *flight[V], now Time) {
	if f.phase != phaseRA && f.phase != phaseSubscribing && f.phase != phaseWaiting {
		return
	}
	i := f.level
	l := &m.levels[i]
	m.stats.Levels[i].Timeouts++
	m.stopWaiting(f)
	m.contendLeave(f, i)
	switch l.OnTimeout {
	case Invoke:
		cause := CauseWaiterTimeout
		if f.lastErr {
			cause = CauseStoreError
		}
		m.startFetch(f, now, cause, int8(i), true)
	case Stale:
		if e := m.keys.get(f.key); e.cached && now < m.staleUntil(e) {
			m.replyAll(f, ServedStale, ServedStale, e.value, nil, int8(i))
			m.releaseHeld(f, now)
			m.endFlight(f)
			return
		}
		fallthrough
	default:
		m.replyAll(f, ServedError, ServedError, *new(V), ErrWaitTimeout, int8(i))
		m.releaseHeld(f, now)
		m.endFlight(f)
	}
}

// followersTimedOut gives up on every follower whose node-level wait has
// passed. Followers joined in time order, so their deadlines are in order too
// and one timer per flight covers them all.
func (m *Machine[V]) followersTimedOut(f *flight[V], now Time) {
	l := &m.levels[0]
	for f.head < len(f.waiters) {
		w := f.waiters[f.head]
		alive := f.waiting(f.head)
		if alive && now < w.Since.Add(l.WaitTimeout) {
			break
		}
		f.head++
		if !alive {
			continue
		}
		f.leave(f.head - 1)
		m.stats.Levels[0].Timeouts++
		switch l.OnTimeout {
		case Invoke:
			h := m.newFlight(f.key, w.ID, w.Since)
			h.hedgeOf = Handle{Flight: f.id, Index: uint32(f.head - 1), valid: true}
			m.hedges++
			m.startFetch(h, now, CauseFollowerTimeout, 0, true)
		case Stale:
			if e := m.keys.get(f.key); e.cached && now < m.staleUntil(e) {
				m.reply(w.ID, f.key.name, w.Since, ServedStale, e.value, nil, 0)
				continue
			}
			fallthrough
		default:
			m.reply(w.ID, f.key.name, w.Since, ServedError, *new(V), ErrWaitTimeout, 0)
		}
	}
	if f.live == 0 {
		m.abort(f, now)
		return
	}
	if f.head < len(f.waiters) {
		m.setTimer(f, TimerFollower, f.waiters[f.head].Since.Add(l.WaitTimeout))
	}
}

// --- the upstream call and its leases ----------------------------------------------

func (m *Machine[V]) startFetch(f *flight[V], now Time, cause Cause, level int8, hedge bool) {
	f.phase = phaseFetching
	f.hedge = hedge
	m.stats.Fetches[cause]++
	m.push(EffFetch).Fetch = Fetch{Flight: f.id, Key: f.key.name, KeyNum: f.key.num, Owner: f.waiters[0].ID, Cause: cause, Level: level}
	if m.anyRenewable && m.holdsRenewable(f) {
		m.setTimer(f, TimerRenew, now.Add(m.renewEvery))
	}
}

func (m *Machine[V]) holdsRenewable(f *flight[V]) bool {
	if f.holding == 0 {
		return false
	}
	for i := m.firstLevel; i < len(m.levels); i++ {
		if h := &f.held[i]; h.acquired && !h.lost && !m.levels[i].NoRenew {
			return true
		}
	}
	return false
}

func (m *Machine[V]) renew(f *flight[V], now Time) {
	if f.phase != phaseFetching || f.held == nil {
		return
	}
	for i := m.firstLevel; i < len(m.levels); i++ {
		h := &f.held[i]
		l := &m.levels[i]
		if !h.acquired || h.lost || l.NoRenew {
			continue
		}
		if now >= h.leaseEnd { // every extension since the last success failed
			h.lost = true
			m.stats.LeasesLost++
			continue
		}
		h.sent = now
		m.emitOp(Op[V]{
			Flight: f.id, Kind: OpExtend, Level: uint8(i), Scope: l.Scope,
			Key: f.key.name, KeyNum: f.key.num, Token: h.token, TTL: l.LeaseTTL, FenceTTL: FenceTTL(*l, m.cfg.SharedCacheTTL),
			Deadline: h.leaseEnd,
		})
	}
	if m.holdsRenewable(f) {
		m.setTimer(f, TimerRenew, now.Add(m.renewEvery))
	}
}

func (m *Machine[V]) extendDone(now Time, op Op[V], res Result[V]) {
	f := m.lookup(op.Flight)
	if f == nil || f.phase != phaseFetching {
		m.stats.LateReplies++
		return
	}
	if f.held == nil {
		return
	}
	h := &f.held[op.Level]
	if !h.acquired || h.lost {
		return
	}
	switch res.Status {
	case StatusOK:
		// The store renewed the lease somewhere between sending and now;
		// counting from the send is the safe side.
		h.leaseEnd = h.sent.Add(op.TTL)
	case StatusNotHeld:
		h.lost = true
		m.stats.LeasesLost++
	}
}

// finish replies to every waiter with value, fills the node cache and writes
// the value to every shared cache whose lock f holds, outermost first,
// releasing those locks.
func (m *Machine[V]) finish(f *flight[V], now Time, value V, owner Served) {
	if m.cfg.NodeCacheTTL > 0 {
		e := keyEntry[V]{value: value, fresh: now.Add(m.cfg.NodeCacheTTL), cached: true}
		if f.keyed {
			f.keyed = false // the flight ends here: unregister it in the same write
		} else {
			e.flight = m.keys.get(f.key).flight // a hedge leaves its key's flight alone
		}
		m.keys.set(f.key, e)
		m.sweepCache(now)
	}
	m.replyAll(f, owner, ServedCollapsed, value, nil, -1)
	for i := len(m.levels) - 1; i >= m.firstLevel && f.holding > 0; i-- {
		h := &f.held[i]
		if !h.acquired {
			continue
		}
		l := &m.levels[i]
		m.emitOp(Op[V]{
			Flight: f.id, Kind: OpPublish, Level: uint8(i), Scope: l.Scope, Key: f.key.name, KeyNum: f.key.num,
			Token: h.token, Fence: h.fence, TTL: m.cfg.SharedCacheTTL, FenceTTL: FenceTTL(*l, m.cfg.SharedCacheTTL),
			Value: value, Deadline: now.Add(l.LeaseTTL),
		})
		h.acquired = false
		f.holding--
		m.contendLeave(f, i)
	}
	m.endFlight(f)
}

// releaseHeld gives back every shared lock f holds, outermost first.
func (m *Machine[V]) releaseHeld(f *flight[V], now Time) {
	for i := len(m.levels) - 1; i >= m.firstLevel && f.holding > 0; i-- {
		h := &f.held[i]
		if !h.acquired {
			continue
		}
		l := &m.levels[i]
		m.emitOp(Op[V]{
			Flight: f.id, Kind: OpRelease, Level: uint8(i), Scope: l.Scope, Key: f.key.name, KeyNum: f.key.num,
			Token: h.token, Deadline: now.Add(l.LeaseTTL),
		})
		h.acquired = false
		f.holding--
		m.contendLeave(f, i)
	}
}

// staleUntil returns until when the node cache keeps e's value for the stale
// policy (it is fresh before e.fresh).
func (m *Machine[V]) staleUntil(e keyEntry[V]) Time { return e.fresh.Add(m.cfg.StaleFor) }

// sweepCache drops node-cache entries past their stale window that no flight
// uses. It walks the table once as many values have been cached as the last
// sweep kept (and at least sweepMin), so the table holds at most about twice
// max(sweepMin, entries in use) and a sweep costs O(1) per value cached.
// (Counting against the table's current size instead would never sweep again
// under a stream of new keys: the table grows as fast as the count.) Only
// entries no request can use are dropped, so the order in which the table is
// walked changes nothing a run observes. A small table matters more than the
// sweeps: a simulator's hundreds of machines must keep theirs in cache.
func (m *Machine[V]) sweepCache(now Time) {
	m.sinceSweep++
	if m.sinceSweep < max(sweepMin, m.afterSweep) {
		return
	}
	// An entry is stale for good once fresh+StaleFor <= now.
	kept := m.keys.sweep(now - Time(m.cfg.StaleFor))
	m.sinceSweep, m.afterSweep = 0, kept
}

// sweepMin is the fewest values a machine caches between two sweeps.
const sweepMin = 64

// --- effects --------------------------------------------------------------------

// push appends an effect of kind k to the batch and returns it for the
// caller to fill in. Only the fields of k are written: the entry is reused
// from an earlier batch, and building whole effects (256 bytes zeroed, then
// copied) for the few fields a kind has cost a simulation about 4% of its
// time. Ready has cleared what could be large (waiter lists, errors, and
// everything when V may hold pointers).
func (m *Machine[V]) push(k EffectKind) *Effect[V] {
	o := m.out
	n := len(o.effects)
	if n < cap(o.effects) {
		o.effects = o.effects[:n+1]
	} else {
		o.effects = append(o.effects, Effect[V]{})
	}
	e := &o.effects[n]
	e.Kind = k
	return e
}

// contend reports that f started (delta 1) or stopped (-1) holding or
// waiting for the lock of level i (l).
func (m *Machine[V]) contend(f *flight[V], l *Level, i int, delta int8) {
	e := m.push(EffContend)
	e.Delta = delta
	e.Op = Op[V]{Flight: f.id, Level: uint8(i), Scope: l.Scope, Key: f.key.name, KeyNum: f.key.num}
}

func (m *Machine[V]) emitOp(op Op[V]) {
	m.stats.Ops[op.Kind]++
	m.push(EffStore).Op = op
}

func (m *Machine[V]) setTimer(f *flight[V], k TimerKind, at Time) {
	f.timerSeq[k]++
	f.timerOn[k] = true
	e := m.push(EffSetTimer)
	e.Timer = Timer{Flight: f.id, Kind: k, Seq: f.timerSeq[k]}
	e.At = at
}

func (m *Machine[V]) cancelTimer(f *flight[V], k TimerKind) {
	if !f.timerOn[k] {
		return
	}
	f.timerOn[k] = false
	f.timerSeq[k]++
	m.push(EffCancelTimer).Timer = Timer{Flight: f.id, Kind: k, Seq: f.timerSeq[k]}
}

func (m *Machine[V]) reply(id ReqID, key string, since Time, s Served, v V, err error, level int8) {
	m.stats.Served[s]++
	if err != nil {
		m.out.refsAt = append(m.out.refsAt, int32(len(m.out.effects)))
	}
	e := m.push(EffReply)
	e.Reply = Reply[V]{ID: id, Key: key, Since: since, Served: s, Value: v, Err: err, Level: level}
	e.Waiters = nil
}

// replyAll answers every request still waiting for f: the owner with its
// own effect, the followers with one effect that lends them f's waiter list
// (compacted to those still waiting), so that a stampede of a million
// requests costs one effect, not a million. The list is the driver's to read
// until the next Ready; f takes a fresh one from the pool.
func (m *Machine[V]) replyAll(f *flight[V], owner, others Served, v V, err error, level int8) {
	if f.live == 0 {
		return
	}
	if f.waiting(0) {
		w := f.waiters[0]
		m.reply(w.ID, f.key.name, w.Since, owner, v, err, level)
	}
	n := 1
	for i := 1; i < len(f.waiters); i++ {
		if f.waiting(i) {
			f.waiters[n] = f.waiters[i]
			n++
		}
	}
	clear(f.gone)
	f.live = 0
	if n == 1 {
		return
	}
	m.stats.Served[others] += uint64(n - 1)
	m.out.refsAt = append(m.out.refsAt, int32(len(m.out.effects)))
	e := m.push(EffReply)
	e.Reply = Reply[V]{Key: f.key.name, Served: others, Value: v, Err: err, Level: level}
	e.Waiters = f.waiters[1:n]
	m.out.lent = append(m.out.lent, f.waiters)
	f.waiters = nil
}

// takeWaiters returns an empty waiter list, reusing one the driver is done
// with when there is one.
func (m *Machine[V]) takeWaiters() []Waiter {
	if n := len(m.out.pool); n > 0 {
		w := m.out.pool[n-1]
		m.out.pool = m.out.pool[:n-1]
		return w[:0]
	}
	return make([]Waiter, 0, 8)
}

// poolWaiters takes back a waiter list nothing uses any more. The pool
// keeps a bounded number, and at most one very large one, so that one huge
// stampede does not pin its memory.
func (m *Machine[V]) poolWaiters(w []Waiter) {
	o := m.out
	if len(o.pool) >= 64 || (cap(w) > 1<<14 && m.bigPooled()) {
		return
	}
	o.pool = append(o.pool, w[:0])
}

// recycle takes back the waiter lists lent with the effects of the batch the
// driver has finished (the one before the batch Ready is about to return).
func (m *Machine[V]) recycle() {
	o := m.out
	for _, w := range o.returned {
		m.poolWaiters(w)
	}
	clear(o.returned)
	o.returned, o.lent = o.lent, o.returned[:0]
}

func (m *Machine[V]) bigPooled() bool {
	for _, w := range m.out.pool {
		if cap(w) > 1<<14 {
			return true
		}
	}
	return false
}

// Prefetch is a hint that a request for the key that Config.KeyNumber
// numbers keyNumber is coming: it starts loading what the machine knows of
// the key into the CPU's caches, so that Request finds it there. It changes
// nothing the machine does or reports. A simulator, which draws its next
// arrival before it handles the current one, calls it an arrival ahead, with
// the number it drew (so no name is parsed twice).
func (m *Machine[V]) Prefetch(keyNumber int) {
	m.keys.prefetch(m.keys.numbered("", keyNumber))
}

// PrefetchFlight is a hint that a reply or timer for the flight in slot
// (FlightID.Slot) is coming: it starts loading the flight into the CPU's
// caches. It changes nothing the machine does or reports. A simulator calls
// it as it starts handling a reply from a distant store, before it reads
// the reply's record, so that the two loads overlap instead of following
// each other.
func (m *Machine[V]) PrefetchFlight(slot uint32) {
	if int(slot) < len(m.flights) {
		prefetch.Object(m.flights[slot])
	}
}
