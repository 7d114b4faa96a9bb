package locks

import "time"

// startFetch moves f to phaseFetching and emits the upstream call
// (EffectFetch) on behalf of f's owner, counted under cause. It runs when f
// holds every shared level or the topology has none (enterLevel:
// CauseHolder or CauseNoLock), when a shared level's wait times out with
// PolicyInvoke (levelTimedOut: CauseWaiterTimeout or CauseStoreError, a hedge
// with that level), and, when a follower's node-level wait timed out with
// PolicyInvoke, for the key's flight or a follower's hedge (followerTimedOut:
// CauseFollowerTimeout, a hedge with level 0). The call is Fetch.Background
// when f is a background refresh that nobody waits for now: one that
// requests joined (past the hard TTL) and that one of them still waits in
// is not, since a driver may hold a background call back. If f holds a
// lease to renew it also arms TimerRenew (EffectSetTimer). Only Fetched, the
// cancellation of its last waiter and Abort take a flight out of
// phaseFetching.
func (m *Machine[V]) startFetch(f *flight[V], now Time, cause Cause, level int8, hedge bool) {
	f.phase = phaseFetching
	f.hedge = hedge
	f.raSent = now // from here on, when the call went out
	f.backgroundCall = f.background && f.live == 0
	m.stats.Fetches[cause]++
	m.push(EffectFetch).Fetch = Fetch{Flight: f.id, Key: f.key.name, KeyNum: f.key.num, KeyNumbered: f.key.numbered, Owner: f.waiters[0].ID, Cause: cause, Level: level, Background: f.backgroundCall}
	if m.anyRenewable && m.holdsRenewable(f) {
		m.setTimer(f, TimerRenew, now.Add(m.renewEvery))
	}
}

// Fetched is the input "the upstream call of flight id finished at now" with
// the value, or with err when the upstream failed.
//
// It is late unless the flight is in phaseFetching. It cancels the renewal
// timer. With a value the flight finishes: the owner is served fetched (or
// hedged, for a hedge) and the followers collapsed, the node cache is
// filled, and each held lock gets an OpPublish. With an error every waiter
// gets err (ServedError) and the locks are released (OpRelease) without a
// value. Either way the flight ends.
func (m *Machine[V]) Fetched(now Time, id FlightID, value V, err error) {
	m.FetchedIn(now, id, value, err, -1)
}

// FetchedIn is Fetched with the call's own duration, took, as the driver
// measured it: from when the upstream call actually started to when it
// returned. That is the duration kept with the value (XFetch's delta) and
// fed to the adaptive wait timeouts' estimator. A driver that runs some
// calls later than it was asked for (the real driver queues background
// refreshes for a bounded number of goroutines) passes it, so that the
// queueing is not taken for the upstream's latency. A negative took means
// unknown, and is then the time since the machine asked for the call, as
// in Fetched.
func (m *Machine[V]) FetchedIn(now Time, id FlightID, value V, err error, took time.Duration) {
	f := m.lookup(id)
	if f == nil || f.phase != phaseFetching {
		m.stats.LateReplies++
		return
	}
	if took < 0 {
		took = now.Sub(f.raSent)
	}
	m.cancelTimer(f, TimerRenew)
	if m.est != nil {
		m.observeFetch(took)
	}
	if err != nil {
		m.stats.UpstreamErrors++
		m.replyAll(f, ServedError, ServedError, *new(V), err, -1)
		m.refreshEnded(f, OutcomeFailed)
		m.releaseHeld(f, now)
		m.endFlight(f)
		return
	}
	owner := ServedFetched
	if f.hedge {
		owner = ServedHedged
	}
	m.finish(f, now, value, took, owner)
}

// finish replies to every waiter with value (computed in delta, which it
// keeps with the value for XFetch), fills the node cache and writes
// the value to every shared cache whose lock f holds, outermost first,
// releasing those locks. With TTL jitter (Config.TTLJitter) both TTLs are
// shortened by the fill's jitter draw.
//
// It runs when a flight has the value: from Fetched (the owner served
// fetched or hedged) and from a read-or-acquire that found it in a shared
// cache (the owner served hit, or collapsed if the flight had waited on its
// way). A hedge's value fills the node cache too, but leaves the key's
// node-level flight registered, since that flight still runs. It emits the
// replies, an OpPublish and EffectContend -1 per held lock, and what endFlight
// emits; f ends.
func (m *Machine[V]) finish(f *flight[V], now Time, value V, delta time.Duration, owner Served) {
	if !m.xfetch {
		delta = 0 // kept with values only for XFetch
	}
	nodeTTL, sharedTTL := m.cfg.NodeCacheTTL, m.cfg.SharedCacheTTL
	if m.cfg.TTLJitter > 0 {
		x := jitterDraw(f.key, now)
		nodeTTL, sharedTTL = m.jittered(nodeTTL, x), m.jittered(sharedTTL, x)
	}
	if nodeTTL > 0 {
		e := keyEntry[V]{value: value, fresh: now.Add(nodeTTL), delta: packDelta(delta), cached: true}
		if f.keyed {
			f.keyed = false // the flight ends here: unregister it in the same write
		} else {
			e.flight = m.keys.get(f.key).flight // a hedge leaves its key's flight alone
		}
		m.keys.set(f.key, e)
		m.sweepCache(now)
	}
	m.replyAll(f, owner, ServedCollapsed, value, nil, -1)
	if f.background {
		o := OutcomeSuperseded
		if owner == ServedFetched || owner == ServedHedged {
			o = OutcomeRefreshed
		}
		m.refreshEnded(f, o)
	}
	for i := len(m.levels) - 1; i >= m.firstLevel && f.holding > 0; i-- {
		h := &f.held[i]
		if !h.acquired {
			continue
		}
		l := &m.levels[i]
		m.emitOp(Op[V]{
			Flight: f.id, Kind: OpPublish, Level: uint8(i), Scope: l.Scope, Key: f.key.name, KeyNum: f.key.num, KeyNumbered: f.key.numbered,
			Token: h.token, Fence: h.fence, TTL: m.staleTTL(i, sharedTTL), FenceTTL: FenceTTL(*l, m.valueTTL[i]),
			Value: value, Delta: delta, Deadline: now.Add(l.LeaseTTL),
		})
		h.acquired = false
		f.holding--
		m.contendLeave(f, i)
	}
	m.endFlight(f)
}
