package locks

// Handle names a request that is waiting, so that it can be cancelled. The
// zero Handle names nothing (the request was answered at once).
type Handle struct {
	// Flight is the flight the request joined or started.
	Flight FlightID
	// Index is the request's place among the flight's waiters: 0 for the
	// request that started the flight (its owner, whose ID the flight's
	// Fetch.Owner will carry), 1 and up for the followers that joined it
	// on the node level. A follower that later hedges keeps its Handle.
	Index uint32
	valid bool
}

// Valid reports whether the handle names a waiting request.
func (h Handle) Valid() bool { return h.valid }

// Request is the input "a request for key arrived at now". It replies at once
// on a node-cache hit (and returns the zero Handle); otherwise the request
// joins or starts a flight, and the returned Handle can cancel it.
func (m *Machine[V]) Request(now Time, id ReqID, key string) Handle {
	return m.request(now, id, key, m.keys.ref(key), 1)
}

// RequestDrawn is Request with the driver's uniform draw u in (0, 1] for
// XFetch (Config.XFetchBeta): the draw decides whether this request
// refreshes its key early (see xfetch.go). Request is RequestDrawn with u =
// 1, which never refreshes early; without XFetch the draw is ignored.
func (m *Machine[V]) RequestDrawn(now Time, id ReqID, key string, u float64) Handle {
	return m.request(now, id, key, m.keys.ref(key), u)
}

// request is Request and SimHooks.RequestNumbered once the key's keyRef is
// known.
// On a fresh node-cache entry it emits the reply (ServedHit) and returns
// the zero Handle, and with XFetch, when the draw u says so, starts the
// key's background refresh early; so it does on an entry within its stale-while-revalidate
// window (ServedStaleRevalidating), and starts the key's background refresh
// unless one runs (startRefresh). With a node level and a flight already in progress for
// the key, whatever its phase, the request joins it as a follower, and if
// no follower timer is pending it emits EffectSetTimer (TimerFollower, at now
// plus the node level's WaitTimeout); when the flight is a background
// refresh whose upstream call went out as Fetch.Background, the first
// request to join emits EffectExpediteFetch, since it now waits for that
// call. Otherwise it starts a flight (the
// key's node-level flight when there is a node level) and enters the first
// shared level: EffectSetTimer (TimerDeadline) and the first read-or-acquire
// (EffectStore), or, with no shared level, the upstream call (EffectFetch,
// CauseNoLock).
func (m *Machine[V]) request(now Time, id ReqID, key string, k keyRef, u float64) Handle {
	m.stats.Requests++
	e := m.keys.get(k)
	if e.cached && now < e.fresh {
		m.reply(id, key, now, ServedHit, e.value, nil, -1)
		if m.xfetch && e.flight == 0 && early(e.fresh.Sub(now), unpackDelta(e.delta), m.xfetchFactor(u)) {
			m.stats.EarlyRefreshes++
			m.startRefresh(k, e, id, now)
		}
		return Handle{}
	}
	if m.swr && e.cached && now < e.fresh.Add(m.swrNode) {
		level := int8(-1)
		if m.nodeLevel {
			level = 0
		}
		m.reply(id, key, now, ServedStaleRevalidating, e.value, nil, level)
		if e.flight == 0 {
			m.startRefresh(k, e, id, now)
		}
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
				m.setTimer(f, TimerFollower, now.Add(m.wait[0]))
			}
			if f.backgroundCall {
				// A background refresh's call, which the driver may have
				// queued, now has a caller.
				f.backgroundCall = false
				m.push(EffectExpediteFetch).Fetch = Fetch{Flight: f.id, Key: f.key.name, KeyNum: f.key.num, KeyNumbered: f.key.numbered, Level: -1}
			}
			return Handle{Flight: f.id, Index: uint32(i), valid: true}
		}
	}
	f := m.newFlight(k, id, now)
	if m.xfetch {
		f.early = float32(m.xfetchFactor(u))
	}
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
// moved to its key's follower hedge after its node-level wait (followerhedge.go)
// still waits there: it leaves the hedge, which is aborted if it was the last
// one waiting in it. Cancel reports whether the request was still waiting.
// It emits nothing unless it aborts a flight, and then what abort emits
// (EffectCancelFetch, OpRelease, EffectContend -1, EffectCancelTimer,
// OpUnsubscribe).
func (m *Machine[V]) Cancel(now Time, h Handle) bool {
	if !h.valid {
		return false
	}
	f := m.lookup(h.Flight)
	if f != nil && int(h.Index) < len(f.waiters) && f.waiting(int(h.Index)) {
		f.leave(int(h.Index))
		if f.live == 0 && !f.background {
			m.abort(f, now)
		}
		return true
	}
	// A follower that timed out and hedged, or joined a follower's hedge,
	// waits in that hedge, which may outlive the flight it left.
	if g, j := m.hedgeFor(h); g != nil {
		g.leave(j)
		if g.live == 0 {
			m.abort(g, now)
		}
		return true
	}
	return false
}
