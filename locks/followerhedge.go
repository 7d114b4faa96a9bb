package locks

// The node's follower hedge: what PolicyInvoke does for a follower whose
// node-level wait has passed. The node lock exists to funnel a node's
// requests for a key into one upstream call, and it must not stop doing so
// exactly when the lock behind it fails: if each timed-out follower started
// a call of its own, a dead holder at the region (whose lease outlives the
// node level's wait) would turn a node's thousand followers into a thousand
// upstream calls. So a node never has more than one upstream call for a key
// in flight because its followers timed out:
//
//   - while the key's flight still waits at a shared level (phaseRA,
//     phaseSubscribing, phaseWaiting), the flight itself hedges, as a
//     shared level's timeout does under PolicyInvoke: it stops waiting
//     there, keeps the inner locks it holds and publishes to them, and calls
//     the upstream for everyone (CauseFollowerTimeout, level 0). The
//     follower stays on it.
//   - once the flight fetches (its call is slow), the first follower to time
//     out hedges with a flight of its own (its follower hedge), and every
//     later one, of that flight or of a later flight of the key, joins that
//     hedge while it is in flight instead of starting another.
//   - a follower stays on its flight if the flight hedged for its followers,
//     or if the flight's call went out less than a node-level wait ago. A
//     follower's hedge is a hedge against a slow call, and a call younger
//     than the follower's own wait is not slow: it is as young as the hedge
//     the follower would start. Without this, a flight that hedged at a
//     shared level (whose deadline, with equal waits, comes just before its
//     followers', since its owner arrived first), or that had just taken the
//     lock, would have its followers start calls microseconds after its own.
//
// A follower that stayed on a flight or joined a hedge does not time out
// again: it waits for that call as it would for a hedge of its own.
//
// A flight's owner and followers are served as any hedge's: the owner
// ServedHedged, the followers ServedCollapsed, whether or not they were
// among those who timed out. Every follower whose wait passed counts one
// node-level timeout (LevelStats.Timeouts); the shared level whose wait was
// cut short counts none, since its own deadline did not pass.

// hedgeRecord is what a machine keeps about its follower hedge for a key.
type hedgeRecord struct {
	// flight is the follower hedge.
	flight FlightID
	// handles[j] is the Handle that the hedge's waiters[j] was given when it
	// joined its key's flight, before it timed out and moved here, so that
	// Cancel can still find it.
	handles []Handle
}

// followerTimedOut applies PolicyInvoke to waiters[i] of f, a follower whose
// node-level wait has passed (see the rules above). It emits what
// startFetch emits when it starts a call (and, when f hedges, what
// stopWaiting and contendLeave emit first), and nothing when the follower
// stays on f or joins the key's follower hedge.
func (m *Machine[V]) followerTimedOut(f *flight[V], i int, now Time) {
	if f.followerHedge || (f.phase == phaseFetching && now < f.raSent.Add(m.wait[0])) {
		return // f's call is the node's one for its followers, or as young as a hedge
	}
	w := f.waiters[i]
	given := Handle{Flight: f.id, Index: uint32(i), valid: true}
	if r := m.hedged[f.key]; r != nil {
		g := m.flights[r.flight.Slot]
		f.leave(i)
		m.join(g, w.ID, w.Since)
		r.handles = append(r.handles, given)
		return
	}
	switch f.phase {
	case phaseRA, phaseSubscribing, phaseWaiting:
		m.stopWaiting(f)
		m.contendLeave(f, f.level)
		f.followerHedge = true
		m.startFetch(f, now, CauseFollowerTimeout, 0, true)
		return
	}
	f.leave(i)
	g := m.newFlight(f.key, w.ID, w.Since)
	g.followerHedge = true
	if m.hedged == nil {
		m.hedged = make(map[keyRef]*hedgeRecord)
	}
	m.hedged[f.key] = &hedgeRecord{flight: g.id, handles: []Handle{given}}
	m.startFetch(g, now, CauseFollowerTimeout, 0, true)
}

// hedgeFor returns the follower hedge that the request given h moved to
// after its node-level wait, and its index there, or nil when it waits in
// none. It looks only at the live follower hedges (one per key at most, and
// only while a key's flight is slow), so a machine without one pays nothing.
func (m *Machine[V]) hedgeFor(h Handle) (*flight[V], int) {
	for _, r := range m.hedged {
		for j, given := range r.handles {
			if given == h {
				if g := m.lookup(r.flight); g != nil && g.waiting(j) {
					return g, j
				}
				return nil, 0
			}
		}
	}
	return nil, 0
}

// forgetHedge drops f's record if f is its key's follower hedge: endFlight
// calls it for every flight that made its call for its followers.
func (m *Machine[V]) forgetHedge(f *flight[V]) {
	f.followerHedge = false
	if r := m.hedged[f.key]; r != nil && r.flight == f.id {
		delete(m.hedged, f.key)
	}
}
