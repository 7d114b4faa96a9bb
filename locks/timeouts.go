package locks

// levelTimedOut is TimerDeadline: f has waited at its current shared level
// for the level's WaitTimeout, counted from when it entered the level,
// through every poll, subscription and retry, and the level's OnTimeout
// policy applies to the whole flight. It acts in phaseRA, phaseSubscribing
// and phaseWaiting (any other phase ignores it; the deadline is cancelled
// before a flight leaves them). f stops waiting (EffectCancelTimer, perhaps
// OpUnsubscribe) and reports EffectContend -1, then:
//
//   - PolicyInvoke: f hedges (EffectFetch, CauseWaiterTimeout, or
//     CauseStoreError when its last read failed) and is in phaseFetching. It
//     keeps the inner locks it holds, and their renewal, and publishes to them
//     when the value comes.
//   - PolicyStale: if the node cache still holds a value for the key within its
//     stale window, every waiter gets it (ServedStale); if not, as PolicyFail.
//   - PolicyFail: every waiter gets ErrWaitTimeout (ServedError).
//
// A background refresh that nobody has joined gives up instead: it counts
// OutcomeFailed, gives back its locks and ends. One that requests joined
// past the hard TTL applies the policy for them, and counts OutcomeFailed
// too when that ends it without a value (PolicyStale, PolicyFail).
//
// A flight's followers can make it hedge sooner: when the node level's wait
// of one of them passes first, under PolicyInvoke, f hedges as here
// (followerTimedOut), with CauseFollowerTimeout and level 0, and this
// deadline is cancelled.
//
// With PolicyStale and PolicyFail f gives back its inner locks (OpRelease,
// EffectContend -1) and ends. A read-or-acquire still on its way arrives late,
// and a lock it grants is given back then (releaseLateGrant).
func (m *Machine[V]) levelTimedOut(f *flight[V], now Time) {
	if f.phase != phaseRA && f.phase != phaseSubscribing && f.phase != phaseWaiting {
		return
	}
	i := f.level
	l := &m.levels[i]
	m.stats.Levels[i].Timeouts++
	m.stopWaiting(f)
	m.contendLeave(f, i)
	if f.background && f.live == 0 { // a refresh nobody waits for gives up
		m.refreshEnded(f, OutcomeFailed)
		m.releaseHeld(f, now)
		m.endFlight(f)
		return
	}
	switch l.OnTimeout {
	case PolicyInvoke:
		cause := CauseWaiterTimeout
		if f.lastErr {
			cause = CauseStoreError
		}
		m.startFetch(f, now, cause, int8(i), true)
	case PolicyStale:
		if e := m.keys.get(f.key); e.cached && now < m.staleUntil(e) {
			m.replyAll(f, ServedStale, ServedStale, e.value, nil, int8(i))
			m.refreshEnded(f, OutcomeFailed)
			m.releaseHeld(f, now)
			m.endFlight(f)
			return
		}
		fallthrough
	default:
		m.replyAll(f, ServedError, ServedError, *new(V), ErrWaitTimeout, int8(i))
		m.refreshEnded(f, OutcomeFailed)
		m.releaseHeld(f, now)
		m.endFlight(f)
	}
}

// followersTimedOut gives up on every follower whose node-level wait has
// passed. Followers joined in time order, so their deadlines are in order too
// and one timer per flight covers them all.
//
// A follower's wait is the node level's wait timeout as it is when the
// timer fires (m.wait[0]: it moves for an adaptive level), counted from its
// arrival; one timeout for all keeps the deadlines in arrival order.
//
// It is TimerFollower, set for the oldest follower still waiting, and runs in
// whatever phase f is. Each follower past its node-level WaitTimeout counts a
// node-level timeout and gets the node level's OnTimeout. PolicyInvoke does
// not give each its own upstream call (followerTimedOut, followerhedge.go): if
// f still waits at a shared level, f itself hedges for everyone (EffectFetch,
// CauseFollowerTimeout, level 0) and the follower stays on it; if f already
// fetches, the follower hedges with a flight of its own, reachable from its
// Handle, unless its key already has such a follower hedge in flight, which
// it joins; a follower of a flight that hedged for its followers stays. Under
// PolicyStale the follower leaves f and is served the node cache's value if
// it is within its stale window (ServedStale), and otherwise, as PolicyFail,
// ErrWaitTimeout (ServedError). If nobody is left waiting for f (its owner
// was cancelled and the last follower left), f is aborted; otherwise the
// timer is set again (EffectSetTimer) for the next follower.
func (m *Machine[V]) followersTimedOut(f *flight[V], now Time) {
	l := &m.levels[0]
	for f.head < len(f.waiters) {
		i := f.head
		w := f.waiters[i]
		alive := f.waiting(i)
		if alive && now < w.Since.Add(m.wait[0]) {
			break
		}
		f.head++
		if !alive {
			continue
		}
		m.stats.Levels[0].Timeouts++
		if l.OnTimeout == PolicyInvoke {
			m.followerTimedOut(f, i, now)
			continue
		}
		f.leave(i)
		if l.OnTimeout == PolicyStale {
			if e := m.keys.get(f.key); e.cached && now < m.staleUntil(e) {
				m.reply(w.ID, f.key.name, w.Since, ServedStale, e.value, nil, 0)
				continue
			}
		}
		m.reply(w.ID, f.key.name, w.Since, ServedError, *new(V), ErrWaitTimeout, 0)
	}
	if f.live == 0 && !f.background {
		m.abort(f, now)
		return
	}
	if f.head < len(f.waiters) {
		m.setTimer(f, TimerFollower, f.waiters[f.head].Since.Add(m.wait[0]))
	}
}
