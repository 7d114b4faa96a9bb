package locks

// phase is where a flight stands in the protocol. Between two inputs a
// flight in use is in phaseRA, phaseSubscribing, phaseWaiting or
// phaseFetching; the table in doc.go lists every input and the phase it
// moves a flight to. At one level a flight goes back and forth between
// phaseRA and phaseSubscribing or phaseWaiting; from level to level it only
// moves outwards, and from the levels to phaseFetching, never back.
type phase uint8

const (
	// phaseIdle: the slot is free (its flight ended, and lookup treats it
	// as no flight), or newFlight has just set it up and the same input
	// moves it on.
	phaseIdle phase = iota
	// phaseRA: one read-or-acquire at f.level is on its way, the one
	// numbered f.raSeq. A flight never has two: every path that sends one
	// starts from a phase in which none is outstanding.
	phaseRA
	// phaseSubscribing: the lock was held, the level wakes waiters by
	// notification, and the subscription this node needs for it is on its
	// way; once confirmed, the flight makes a last check (a read-or-acquire).
	phaseSubscribing
	// phaseWaiting: the lock was held by someone else, or the store failed;
	// a poll timer is set, and in notify mode a notification may come first.
	phaseWaiting
	// phaseFetching: the upstream call is on its way, either as the holder
	// of every shared level or as a hedge without them; the flight stays
	// here until it ends.
	phaseFetching
)

// flight is one attempt to get a key's value through the lock levels, on
// behalf of one request (its owner) and, with a node level, of the requests
// for the same key that joined it (its followers). Most of the protocol's
// unwritten rules are rules about a flight; the fields below say them where
// they live.
//
// Its fields are ordered so that those every flight touches share its
// first three cache lines (a simulator runs hundreds of machines, whose
// flights are cold each time they are touched). It is 240 bytes, the most
// the Go allocator's 240-byte class holds (TestFlightSize): a topology without a node level makes every
// request a flight, and a stampede keeps millions of them at once.
type flight[V any] struct {
	// id is the flight's slot in Machine.flights and the slot's generation.
	// Slots are reused; the generation goes up when a flight ends, so an
	// input that names an earlier flight of the slot (a late reply, a
	// timer) finds nothing in lookup and is dropped.
	id    FlightID
	phase phase
	// keyed: f is its key's node-level flight, registered in
	// keyEntry.flight, and every request for the key that misses the node
	// cache joins it, whatever its phase. With a node level, the flight a
	// request starts for a key is keyed; a follower's hedge is not. finish
	// unregisters it in the same write that caches the value, endFlight
	// otherwise.
	keyed bool
	// waited: found a lock held on its way: the owner was collapsed.
	waited  bool
	lastErr bool // the last read-or-acquire at this level failed
	// notified: a release or write was announced while a read-or-acquire
	// was on its way, so a "held" reply may predate it.
	notified bool
	hedge    bool  // fetching without the outermost lock
	inSub    bool  // registered in its subscription (subIdx)
	polls    uint8 // safety-net polls at this level so far (notify mode)
	// contend[i]: f has reported itself (EffectContend +1) as holding or
	// waiting for level i's lock and not yet reported -1. contendEnter and
	// contendLeave only act on a change, so every +1 gets exactly one -1.
	contend [MaxLevels]bool
	// raSeq numbers f's read-or-acquires (Op.Seq): only the reply to the
	// latest, while f is in phaseRA at the same level, moves f; any other
	// is late (and a lock it granted is given back, see releaseLateGrant).
	raSeq uint32
	// level is -1 before the flight enters a shared level, the index of
	// the shared level it is at while it reads, subscribes or waits, and
	// len(levels) once it holds every shared level and fetches. A flight
	// that hedged after its wait at level i timed out stays at i.
	level int
	// deadline is when the wait at the current level times out
	// (TimerDeadline, armed by enterLevel); every operation of that wait
	// carries it as Op.Deadline.
	deadline Time
	// raSent is when the last read-or-acquire was sent; in phaseFetching,
	// when the upstream call was, so that Fetched knows how long the value
	// took to compute (XFetch's delta, the adaptive wait timeouts).
	raSent Time
	key    keyRef

	// waiters[0] is the owner: the request that started the flight (for a
	// follower's hedge, that follower). Its ID is the Fetch.Owner of the
	// upstream call, a value is served to it as what the flight did (hit,
	// fetched, hedged) and to the followers as collapsed, and the follower
	// timer never times it out (head starts at 1): the node level's wait
	// is the followers' wait for the owner's flight. The owner may be
	// cancelled while followers wait; the flight goes on for them and
	// waiters[0] still names the owner for Fetch.Owner. The followers,
	// waiters[1:], are in the order they joined, which is the order of
	// their node-level deadlines.
	//
	// A flight of one request keeps its owner in owner, inside the flight;
	// the second to join moves the list to one from the pool
	// (Machine.join), so that most flights touch no memory but their own.
	waiters []Waiter
	gone    []uint64 // bit i set: waiters[i] no longer waits (answered, cancelled)
	// live counts the waiters still waiting. When it drops to 0 because
	// the last one was cancelled or timed out, nobody wants the flight's
	// result and the flight is aborted on the spot (Cancel,
	// followersTimedOut): its upstream call is cancelled and its locks
	// given back. A free slot always has live == 0 (Abort relies on it).
	// replyAll sets live to 0 and clears gone; the flight must end in the
	// same input.
	live  int
	head  int // oldest follower whose node-level deadline may not have passed
	owner [1]Waiter
	gone1 [1]uint64 // gone's first word, inside the flight

	// token is drawn afresh each time f enters a shared level and sent by
	// every read-or-acquire of that wait, so a lock granted to any of them
	// is f's with this token (held[i].token).
	token Token
	// timerSeq and timerOn: f has at most one pending timer of each kind.
	// setTimer and cancelTimer both bump the kind's sequence number, so a
	// timer the driver fires after it was replaced or cancelled does not
	// match and is dropped as late (Fired).
	timerSeq [NumTimerKinds]uint32
	timerOn  [NumTimerKinds]bool
	holding  uint8 // levels whose lock f holds (held[i].acquired)
	// background: f is its key's background refresh (revalidate.go): it
	// goes on with nobody waiting (live 0), where any other flight would
	// be aborted, and ends with an Outcome.
	background bool
	// backgroundCall: f's upstream call went out as Fetch.Background
	// (startFetch: nobody waited) and no request has joined f since. The
	// first request to join clears it and emits EffectExpediteFetch, so
	// that a driver that held the call back starts it (request).
	backgroundCall bool
	// early is XFetch's factor for f's reads at the shared levels,
	// beta·(-ln u) for its owner's draw u (Op.Early); 0 without XFetch.
	early float32
	// subIdx is f's index in its subscription's flights, while inSub. The
	// subscription is found by (f.level, key), so f leaves it (stopWaiting,
	// endFlight) before its level changes.
	subIdx int
	// followerHedge: f's upstream call is the one its node makes for the
	// key because followers timed out (CauseFollowerTimeout): f is the key's
	// flight and hedged for its followers, or a follower's hedge, recorded
	// in Machine.hedged (followerhedge.go). Followers that time out later
	// stay on it or join it rather than start another call.
	followerHedge bool

	// held is the state of the shared locks f holds, from its first
	// acquisition on (nil before): holding > 0 implies held != nil.
	held *[MaxLevels]heldLock
}

// waiting reports whether waiters[i] still waits.
func (f *flight[V]) waiting(i int) bool { return f.gone[i/64]&(1<<(i%64)) == 0 }

// leave marks waiters[i] as no longer waiting. A caller that takes live
// to 0 must end the flight (abort), since nobody waits for it any more.
func (f *flight[V]) leave(i int) {
	f.gone[i/64] |= 1 << (i % 64)
	f.live--
}

// join adds a waiter to f, arrived at now, and returns its index: the
// owner (index 0) when newFlight calls it, a follower when request does.
// Followers join in arrival order, which keeps their node-level deadlines
// in order for followersTimedOut. It emits nothing; the second waiter to
// join takes a list from the pool.
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

// lookup returns the flight that id names, or nil when that flight has
// ended: its slot is free, or has been reused by a later flight (another
// generation). Every input that names a flight by its FlightID (the
// replies to read-or-acquire and extend, Fired, Fetched) goes through it,
// so that what arrives for a finished flight is counted in
// Stats.LateReplies and dropped.
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

// newFlight takes a free slot, or a new one, for a flight of key on behalf
// of the request owner that arrived at now, and resets what the slot's
// previous flight left behind (endFlight has already cleared its timers,
// subscription, contention and locks; deadline, token and polls are set by
// enterLevel before they are read). It runs for a request that starts a
// flight (request) and for a follower that hedges (followersTimedOut). It
// emits nothing and leaves the flight in phaseIdle: the caller moves it on
// at once, with enterLevel or startFetch.
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
	f.background = false
	f.backgroundCall = false
	f.early = 0
	f.lastErr = false
	f.notified = false
	f.keyed = false
	f.followerHedge = false
	f.phase = phaseIdle
	return f
}

// endFlight frees f's slot: it is the last step of every way a flight
// ends (finish, a failed upstream call, a fail or stale timeout, abort).
// It cancels f's pending timers (EffectCancelTimer), takes f out of its
// subscription (the last flight to leave one sends OpUnsubscribe),
// unregisters f as its key's node-level flight, returns its waiter list to
// the pool unless replyAll lent it to the driver, and bumps the slot's
// generation, so that whatever is still on its way for f arrives late.
// Callers first answer f's waiters (replyAll) and give back its locks
// (finish, releaseHeld); endFlight emits nothing else.
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
	if f.followerHedge {
		m.forgetHedge(f)
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

// abort ends f at now without replying to anyone: it runs when nobody
// waits for f any more (Cancel, followersTimedOut: live reached 0) and when
// the caller has already replied (Abort). It may emit EffectCancelFetch when
// the upstream call is on its way, an OpRelease and EffectContend -1 for each
// lock f holds, EffectContend -1 for the level f waits at, and what endFlight
// emits.
func (m *Machine[V]) abort(f *flight[V], now Time) {
	if f.phase == phaseFetching {
		m.push(EffectCancelFetch).Fetch = Fetch{Flight: f.id, Key: f.key.name, KeyNum: f.key.num, KeyNumbered: f.key.numbered, Level: -1}
	}
	m.releaseHeld(f, now)
	if f.level >= 0 && f.level < len(m.levels) {
		m.contendLeave(f, f.level)
	}
	m.endFlight(f)
}
