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
