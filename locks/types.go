package locks

import (
	"errors"
	"fmt"
	"time"
)

// Time is a point on the driver's clock: nanoseconds since an epoch the
// driver chooses (the start of a simulation, or the moment a real driver was
// built, read from a monotonic clock). The machine only compares and adds.
type Time int64

// Add returns t+d.
func (t Time) Add(d time.Duration) Time { return t + Time(d) }

// ReqID names a request. The driver chooses it and gets it back in the reply.
type ReqID uint64

// Token is the random 128-bit value that proves who holds a shared lock.
type Token struct{ Hi, Lo uint64 }

// String returns the token as 32 hexadecimal digits, the form stores keep.
func (t Token) String() string { return fmt.Sprintf("%016x%016x", t.Hi, t.Lo) }

// Served says how a request got its reply.
type Served uint8

// The ways a request is served.
const (
	// ServedHit: the node cache had the value, or the request's own flight
	// found it in a shared cache on its first read.
	ServedHit Served = iota
	// ServedCollapsed: the request waited for someone else's fetch, on this
	// node or, through a shared lock, on another.
	ServedCollapsed
	// ServedFetched: the request's flight held every lock and called the
	// upstream.
	ServedFetched
	// ServedHedged: the request's wait timed out and it called the upstream
	// without the lock.
	ServedHedged
	// ServedStale: the request's wait timed out and it got the node cache's
	// expired value.
	ServedStale
	// ServedError: the request failed (upstream error, or a timeout with the
	// fail policy).
	ServedError
	// ServedStaleRevalidating: the request got at once a value past its soft
	// TTL and within its hard TTL (stale-while-revalidate, Level.HardTTL)
	// while one background refresh of the key runs.
	ServedStaleRevalidating
	// NumServed is the number of Served values.
	NumServed
)

var servedNames = [...]string{"hit", "collapsed", "fetched", "hedged", "stale", "error", "revalidating"}

// String returns the name used in results.
func (s Served) String() string {
	if int(s) < len(servedNames) {
		return servedNames[s]
	}
	return fmt.Sprintf("served(%d)", uint8(s))
}

// Cause says why an upstream call was made.
type Cause uint8

// The causes of upstream calls.
const (
	// CauseHolder: the flight held the outermost shared lock.
	CauseHolder Cause = iota
	// CauseNoLock: the topology has no shared level (none, node-only).
	CauseNoLock
	// CauseFollowerTimeout: requests waiting for their node's flight gave up:
	// the flight hedged for them, or one of them hedged for every follower
	// of the key that times out while its call is in flight.
	CauseFollowerTimeout
	// CauseWaiterTimeout: a flight waiting for a shared lock gave up and
	// hedged.
	CauseWaiterTimeout
	// CauseStoreError: a flight hedged because the store kept failing until
	// its wait timeout passed.
	CauseStoreError
	// NumCauses is the number of Cause values.
	NumCauses
)

var causeNames = [...]string{"holder", "no-lock", "node-follower-timeout", "waiter-timeout", "store-error"}

// String returns the name used in results.
func (c Cause) String() string {
	if int(c) < len(causeNames) {
		return causeNames[c]
	}
	return fmt.Sprintf("cause(%d)", uint8(c))
}

// Outcome says how a background refresh ended (stale-while-revalidate,
// XFetch): a flight that no caller waits for, started to put a fresh value
// in the caches before the stale one runs out.
type Outcome uint8

// The outcomes of a background refresh.
const (
	// OutcomeRefreshed: the refresh called the upstream and cached its
	// value.
	OutcomeRefreshed Outcome = iota
	// OutcomeSuperseded: the refresh found a fresh value in a shared cache,
	// put there by another node's refresh, and cached that instead.
	OutcomeSuperseded
	// OutcomeFailed: the upstream call failed, the wait for a lock timed
	// out, or the machine was aborted; the stale value is served on until
	// its hard TTL.
	OutcomeFailed
	// NumOutcomes is the number of Outcome values.
	NumOutcomes
)

var outcomeNames = [...]string{"refreshed", "superseded", "failed"}

// String returns the name used in results.
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome(%d)", uint8(o))
}

// Errors the machine replies with. Drivers wrap them with the key.
var (
	// ErrWaitTimeout: the wait at a level timed out and the policy was fail,
	// or stale with no stale value held.
	ErrWaitTimeout = errors.New("lock wait timed out")
	// ErrAborted: the flight was aborted (Close).
	ErrAborted = errors.New("lock flight aborted")
)

// OpKind names a compound store operation. Each is atomic on the store and
// costs one round trip.
type OpKind uint8

// The store operations.
const (
	// OpReadOrAcquire reads the scope's cache entry; on a miss it sets the
	// lock if absent (token, lease TTL) and bumps the key's fence. It is
	// also a waiter's poll.
	OpReadOrAcquire OpKind = iota
	// OpPublish writes the value if its fence is not older than the last one
	// accepted, deletes the lock if the token still holds it, and notifies
	// subscribers.
	OpPublish
	// OpExtend renews the lease if the token still holds the lock.
	OpExtend
	// OpRelease deletes the lock if the token still holds it and notifies
	// subscribers (a holder that gives up).
	OpRelease
	// OpSubscribe subscribes this node to release notifications for the key.
	OpSubscribe
	// OpUnsubscribe ends that subscription.
	OpUnsubscribe
	// NumOpKinds is the number of OpKind values.
	NumOpKinds
)

var opNames = [...]string{"read_or_acquire", "publish", "extend", "release", "subscribe", "unsubscribe"}

// String returns the name used in results.
func (k OpKind) String() string {
	if int(k) < len(opNames) {
		return opNames[k]
	}
	return fmt.Sprintf("op(%d)", uint8(k))
}

// FlightID names one flight of one machine: a slot and the generation of that
// slot, so that a late reply for a finished flight is recognised and dropped.
type FlightID struct{ Slot, Gen uint32 }

// Op is a store operation the driver must run against the store of Op.Scope
// and report back with Machine.StoreDone, passing the same Op.
type Op[V any] struct {
	Flight FlightID
	Seq    uint32 // distinguishes successive polls of one flight
	Kind   OpKind
	Level  uint8 // index of the level in the topology
	Scope  Scope
	// KeyNumbered says that the machine numbers Key (SimHooks.NumberKeys)
	// and KeyNum is its number: a driver that numbers its keys reads it
	// instead of parsing Key. Otherwise KeyNum is 0 and means nothing.
	KeyNumbered bool
	KeyNum      uint32
	Key         string
	Token       Token         // OpReadOrAcquire, OpPublish, OpExtend, OpRelease
	Fence       uint64        // OpPublish: the fence the holder got
	TTL         time.Duration // lease TTL (acquire, extend) or cache TTL (publish)
	// FenceTTL is how long the key's fence counter and last accepted fence
	// must live on after this operation (OpReadOrAcquire that takes the
	// lock, OpExtend that renews it, OpPublish that writes): the longer of
	// the level's lease and the shared cache TTL, which is when every lock
	// and every value that the fences order has expired (see FenceTTL).
	// Zero means that they never expire.
	FenceTTL time.Duration
	// Refresh is, for OpReadOrAcquire, how close to its expiry a cached
	// value counts as stale (stale-while-revalidate: the level's hard TTL
	// less its soft TTL): a value with at most this much time left is
	// returned with Result.Stale set, and the lock is tried as on a miss, so
	// that one flight refreshes it. Zero: every cached value is returned as
	// it is today.
	Refresh time.Duration
	// Early is, for OpReadOrAcquire, XFetch's factor beta·(-ln u) for the
	// flight's draw u: a cached value whose time left is at most its delta
	// times Early is answered as stale too. Zero: no early refresh.
	Early float64
	// Delta is, for OpPublish, how long the upstream call that produced
	// Value took (XFetch's delta), kept with the value; zero without XFetch.
	Delta time.Duration
	Value V // OpPublish
	// Deadline is when the machine stops caring about the reply; a driver
	// may use it as the operation's timeout.
	Deadline Time
}

// Status is the outcome of a store operation.
type Status uint8

// The outcomes.
const (
	// StatusValue: the cache held a value (OpReadOrAcquire).
	StatusValue Status = iota
	// StatusAcquired: the lock was taken; Fence is set (OpReadOrAcquire).
	StatusAcquired
	// StatusHeld: someone else holds the lock; TTL is its remaining lease,
	// or 0 when unknown (OpReadOrAcquire).
	StatusHeld
	// StatusOK: done (OpPublish, OpExtend, OpRelease, OpSubscribe,
	// OpUnsubscribe). For OpPublish, Written and Released say what.
	StatusOK
	// StatusNotHeld: the token no longer holds the lock (OpExtend,
	// OpRelease).
	StatusNotHeld
	// StatusError: the store failed or could not be reached; Err says why.
	StatusError
)

// Result is a store's reply to an Op.
type Result[V any] struct {
	Status   Status
	Value    V
	Fence    uint64
	TTL      time.Duration
	Written  bool // OpPublish: the value was written (its fence was not stale)
	Released bool // OpPublish: the lock was still ours and was deleted
	// Stale is set on a read-or-acquire's StatusAcquired or StatusHeld
	// when the cache held a value within Op.Refresh of its expiry, or due
	// for an early refresh by Op.Early: Value is that value and ValueTTL
	// its time left.
	Stale    bool
	ValueTTL time.Duration
	// Delta is the delta kept with a value returned by a read-or-acquire
	// (StatusValue, or Stale), or 0 when none was written with it.
	Delta time.Duration
	Err   error
}

// TimerKind names the timers a flight can have; each flight has at most one
// pending timer of each kind.
type TimerKind uint8

// The timer kinds.
const (
	// TimerDeadline fires when the current shared level's wait times out.
	TimerDeadline TimerKind = iota
	// TimerFollower fires when the oldest follower's node-level wait times
	// out.
	TimerFollower
	// TimerPoll fires when a waiter should poll again.
	TimerPoll
	// TimerRenew fires when the holder should extend its leases.
	TimerRenew
	// NumTimerKinds is the number of TimerKind values.
	NumTimerKinds
)

// Timer names a timer. A flight has at most one pending timer of each kind:
// setting one replaces the previous one of the same Slot().
type Timer struct {
	Flight FlightID
	Kind   TimerKind
	Seq    uint32
}

// Slot returns a small dense number for the timer's (flight slot, kind), so
// that a driver can keep pending timers in a slice: setting a timer replaces
// whatever was pending in the same slot.
func (t Timer) Slot() int { return int(t.Flight.Slot)*int(NumTimerKinds) + int(t.Kind) }

// Fetch is an upstream call the driver must make, reporting the result with
// Machine.Fetched.
type Fetch struct {
	Flight FlightID
	Key    string
	// Owner is the request that owns the flight: its first request, or the
	// follower that hedged. A driver that holds an upstream function per
	// request calls the owner's.
	Owner ReqID
	// KeyNum and KeyNumbered are as in Op.
	KeyNum      uint32
	KeyNumbered bool
	Cause       Cause
	// Level is the level whose timeout caused a hedge (CauseWaiterTimeout,
	// CauseStoreError, CauseFollowerTimeout), or -1.
	Level int8
	// Background says that no caller waited for the call when the machine
	// asked for it: it is a background refresh (stale-while-revalidate,
	// XFetch), Owner names the request that set it off, already answered,
	// and no request that joined the flight was still waiting. A driver may
	// hold such a call back (the real driver queues it for a bounded number
	// of goroutines). Should a request join the flight while the call is on
	// its way, the machine says so, once, with EffectExpediteFetch.
	Background bool
}

// Reply is the answer to one request.
type Reply[V any] struct {
	ID    ReqID
	Key   string
	Since Time // when the request arrived, so a driver can measure latency
	Value V
	Err   error
	// Served says how the request was served.
	Served Served
	// Level is the level whose timeout produced a stale or error reply, the
	// level whose cache held the value of a ServedStaleRevalidating reply
	// (the node level for the node cache), or -1.
	Level int8
}

// EffectKind names what an Effect asks the driver to do.
type EffectKind uint8

// The effects.
const (
	// EffectStore: run Effect.Op.
	EffectStore EffectKind = iota
	// EffectSetTimer: call Machine.Fired with Effect.Timer at Effect.At,
	// replacing any pending timer in the same slot.
	EffectSetTimer
	// EffectCancelTimer: drop the pending timer in Effect.Timer's slot.
	EffectCancelTimer
	// EffectFetch: call the upstream as Effect.Fetch says.
	EffectFetch
	// EffectCancelFetch: the flight was aborted; the driver may cancel the call.
	EffectCancelFetch
	// EffectReply: deliver Effect.Reply, or, when Effect.Waiters is set, one
	// reply to each waiter (see Effect.Replies).
	EffectReply
	// EffectContend: Effect.Delta flights (+1 or -1) started or stopped holding
	// or waiting for the lock of Effect.Op.Level on Effect.Op.Key. Drivers
	// sum these over nodes to find peak contenders.
	EffectContend
	// EffectExpediteFetch: a request now waits for the upstream call of
	// flight Effect.Fetch.Flight, which went out as Fetch.Background (a
	// request joined a background refresh while its call was on its way).
	// A driver that holds background calls back must start this one at
	// once if it has not started; one that starts every call when asked
	// has nothing to do. It comes at most once per call.
	EffectExpediteFetch
)

// Waiter is a request waiting in a flight: its ID and when it arrived.
type Waiter struct {
	ID    ReqID
	Since Time
}

// Effect is one thing the machine asks its driver to do. Only the fields
// that its Kind names are set: the others may hold what an earlier effect
// left there, and must not be read. (The machine reuses its effects and
// writes only what a kind needs, which a simulator of hundreds of machines
// notices.)
type Effect[V any] struct {
	Kind EffectKind
	// Delta is set for EffectContend.
	Delta int8
	// Timer is set for EffectSetTimer and EffectCancelTimer, At for
	// EffectSetTimer.
	Timer Timer
	At    Time
	// Op is set for EffectStore, and for EffectContend, where its Flight, Level,
	// Scope, Key, KeyNumbered and KeyNum name the lock.
	Op Op[V]
	// Reply is the reply of an EffectReply. When Waiters is not nil the same
	// reply goes to each of them instead (with their ID and Since): the
	// followers of a flight are answered with one effect. Use Replies to
	// walk both cases.
	Reply   Reply[V]
	Waiters []Waiter
	// Fetch is set for EffectFetch, EffectCancelFetch and
	// EffectExpediteFetch; the last two name the call by its Flight and
	// Key (Level is -1, Owner, Cause and Background are not set).
	Fetch Fetch
}

// Replies calls yield with each reply an EffectReply carries, in order.
func (e *Effect[V]) Replies(yield func(Reply[V]) bool) {
	if e.Waiters == nil {
		yield(e.Reply)
		return
	}
	r := e.Reply
	for _, w := range e.Waiters {
		r.ID, r.Since = w.ID, w.Since
		if !yield(r) {
			return
		}
	}
}

// Sub returns the duration t-u.
func (t Time) Sub(u Time) time.Duration { return time.Duration(t - u) }
