package locks

import (
	"fmt"
	"math"
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
	// TTLJitter spreads cache TTLs: each fill shortens the node-cache and
	// shared-cache TTL of its value by a fraction of itself drawn in
	// [0, TTLJitter) (see jitter.go). Zero, the default, keeps every TTL as
	// configured; it must be below 1.
	TTLJitter float64
	// XFetchBeta switches XFetch's early probabilistic refresh on with this
	// beta (1 is the paper's default; larger refreshes earlier): see
	// xfetch.go. Zero, the default, is off; it must not be negative. The
	// draws come with the requests (RequestDrawn).
	XFetchBeta float64
	// Seed seeds the generator of lock tokens. A simulation passes a seed
	// derived from its run seed; a production driver passes 32 bytes from
	// crypto/rand so that tokens cannot be guessed.
	Seed [32]byte
}

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
	// flight had at once. Shared levels span nodes: drivers sum EffectContend.
	PeakContenders int
}

// Stats counts what one machine did. Drivers add machines' stats together.
type Stats struct {
	// Requests counts the requests the machine was given.
	Requests uint64
	// Served counts replies by how they were served; each follower of a
	// flight counts once.
	Served [NumServed]uint64
	// Fetches counts upstream calls by cause.
	Fetches [NumCauses]uint64
	// UpstreamErrors counts upstream calls that failed.
	UpstreamErrors uint64
	// Levels counts what happened at each level of the topology.
	Levels [MaxLevels]LevelStats
	// Ops counts store operations sent, by kind.
	Ops [NumOpKinds]uint64
	// StoreErrors counts store replies with StatusError.
	StoreErrors uint64
	// LeasesLost counts leases that renewal found held by another token,
	// or let run out.
	LeasesLost uint64
	// WritesRefused counts publishes whose value the store refused because
	// a newer fence had written first.
	WritesRefused uint64
	// LateReplies counts replies and timers that arrived after their flight
	// had moved on, and were dropped.
	LateReplies uint64
	// Refreshes counts the background refreshes started
	// (stale-while-revalidate, XFetch), and RefreshOutcomes how those that
	// ended did. EarlyRefreshes counts those that an XFetch draw started at
	// the node cache, and EarlyReads the shared-cache reads that a store
	// answered as due for an early refresh.
	Refreshes       uint64
	RefreshOutcomes [NumOutcomes]uint64
	EarlyRefreshes  uint64
	EarlyReads      uint64
}

// Machine is the lock protocol for one node: it owns the node cache and the
// node's flights (one per key in flight when the topology has a node level,
// one per request otherwise). It has no clock, no goroutines and no I/O:
// every input carries the time, and every action is an Effect the driver
// collects with Ready. A Machine is not safe for concurrent use.
//
// The inputs are Request, Cancel, StoreDone, Fired, Notified, Fetched and
// Abort. Each runs to completion and leaves every flight in a phase in
// which it waits for something outside the machine: a store reply, a
// timer, a notification or the upstream call (see the table in the package
// documentation).
type Machine[V any] struct {
	cfg       Config
	levels    []Level
	nodeLevel bool // levels[0] is the node level
	// firstLevel is the index of the first shared level: 1 with a node
	// level, else 0. It is len(levels) when there is no shared level
	// (none, node-only), and then every flight calls the upstream at once.
	firstLevel int

	keys       keyTable[V]
	sinceSweep int // values cached since the last sweep
	afterSweep int // entries the last sweep kept
	// flights holds every flight the machine has had at once, by slot
	// (FlightID.Slot); it never shrinks, and a flight's pointer stays put,
	// so a slot's timers and operations can name it by number. free lists
	// the slots whose flight ended, for newFlight to reuse.
	flights []*flight[V]
	free    []uint32
	// subs holds this node's subscriptions to release notifications, one
	// per (shared level, key) that some flight of the node waits on in
	// notify mode (see subscription).
	subs    map[subKey]*subscription
	subPool []*subscription
	// out is where effects are written until Ready takes them; machines
	// that share effects (SimHooks.ShareEffects) share one.
	out       *outbox[V]
	ptrValues bool // V may hold pointers: Ready clears whole batches
	rng       *rand.ChaCha8
	stats     Stats
	// renewEvery is how often a holder extends its leases while the
	// upstream call runs: a third of the shortest lease among the levels
	// that renew (anyRenewable says there is one).
	renewEvery   time.Duration
	anyRenewable bool
	// hedged holds, per key, the node's follower hedge in flight: the
	// flight a follower started when its node-level wait passed while its
	// key's flight fetched, which later timed-out followers join
	// (followerhedge.go). It is nil until the first one.
	hedged map[keyRef]*hedgeRecord
	// swr: some level has stale-while-revalidate (Level.HardTTL), and
	// swrNode is how long past its soft TTL a node-cache entry is served
	// stale (see revalidate.go). refresh[i] is shared level i's stale window
	// (Op.Refresh) and valueTTL[i] how long its cache keeps a value: the
	// shared cache TTL plus that window.
	swr      bool
	xfetch   bool // XFetch is on (Config.XFetchBeta > 0)
	swrNode  time.Duration
	refresh  [MaxLevels]time.Duration
	valueTTL [MaxLevels]time.Duration
	// wait[i] is level i's wait timeout now: its WaitTimeout, or for an
	// adaptive level what observeFetch last set; est estimates the call
	// durations, nil unless some level adapts.
	wait [MaxLevels]time.Duration
	est  *durationEstimator
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
		keys:   newKeyTable[V](),
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
	if !(cfg.TTLJitter >= 0 && cfg.TTLJitter < 1) { // also refuses NaN
		return nil, fmt.Errorf("TTL jitter must be a fraction in [0, 1), got %v", cfg.TTLJitter)
	}
	if !(cfg.XFetchBeta >= 0 && cfg.XFetchBeta <= math.MaxFloat64) { // also refuses NaN and +Inf
		return nil, fmt.Errorf("XFetch beta must be a finite number at least 0, got %v", cfg.XFetchBeta)
	}
	m.xfetch = cfg.XFetchBeta > 0
	for i, l := range m.levels {
		m.wait[i] = l.WaitTimeout
		if l.AdaptiveQuantile > 0 && m.est == nil {
			m.est = new(durationEstimator)
		}
	}
	if err := m.setRevalidate(); err != nil {
		return nil, err
	}
	return m, nil
}

// Topology returns the machine's topology.
func (m *Machine[V]) Topology() Topology { return m.cfg.Topology }

// Stats returns what the machine has counted so far.
func (m *Machine[V]) Stats() Stats { return m.stats }

// InFlight returns the number of flights in progress (for tests and gauges).
func (m *Machine[V]) InFlight() int { return len(m.flights) - len(m.free) }

// Abort ends every flight at now: waiting requests get ErrAborted, held locks
// are released, subscriptions and timers dropped. A driver calls it when it
// closes. It emits, for each flight, the replies (EffectReply), then what
// abort emits: EffectCancelFetch for an upstream call on its way, OpRelease for
// each lock held, EffectContend -1, EffectCancelTimer and OpUnsubscribe.
func (m *Machine[V]) Abort(now Time) {
	for _, f := range m.flights {
		if f.phase == phaseIdle && f.live == 0 {
			continue
		}
		m.replyAll(f, ServedError, ServedError, *new(V), ErrAborted, -1)
		m.refreshEnded(f, OutcomeFailed)
		m.abort(f, now)
	}
}

// StoreDone is the input "the store answered op with res at now". op must be
// the Op of the EffectStore effect, unchanged.
//
// A read-or-acquire's reply moves its flight (readOrAcquireDone) only if
// the flight still waits for that very operation: still in phaseRA, at the
// same level, with the same Op.Seq. Any other is late: it is counted, and
// a lock it granted is given back at once (releaseLateGrant). Replies to a
// subscribe go to subscribeDone, to an extend to extendDone; a publish's
// reply only counts a refused write, and those of release and unsubscribe
// change nothing. Every StatusError is counted in Stats.StoreErrors.
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

// Fired is the input "timer t fired at now". A timer that was cancelled or
// replaced since it was set, or whose flight has ended, is late: counted
// and dropped. Otherwise: TimerDeadline ends the wait at the flight's
// current level (levelTimedOut); TimerPoll makes a waiting flight read the
// lock again; TimerFollower times out the followers whose node-level wait
// has passed (followersTimedOut); TimerRenew extends the holder's leases
// (renew).
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
