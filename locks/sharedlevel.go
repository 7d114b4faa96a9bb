package locks

import "time"

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
		Key: f.key.name, KeyNum: f.key.num, Token: f.token, TTL: l.LeaseTTL, Deadline: f.deadline,
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
