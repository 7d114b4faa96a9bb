package locks

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
