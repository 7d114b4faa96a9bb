package locks

import "time"

// enterLevel moves f to shared level i, or to the upstream call when there
// is none left. It runs when a flight starts (request, at the first shared
// level) and when it takes a level's lock (readOrAcquireDone, at the next
// one). At a level it draws the token for the wait, arms the wait's
// deadline (EffectSetTimer, TimerDeadline) and sends the first read-or-acquire
// (EffectStore): f is in phaseRA. Past the last level f holds every lock, or
// the topology has none, and startFetch emits the upstream call (EffectFetch,
// CauseHolder or CauseNoLock) and the renewal timer when a lease needs it:
// f is in phaseFetching.
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

// sendReadOrAcquire sends f's read-or-acquire at its current level
// (EffectStore) and moves f to phaseRA. The same operation is the first read
// at a level (enterLevel), a poll (Fired, TimerPoll), a wake-up (Notified),
// a read again after a notification raced the last one
// (readOrAcquireDone), and the last check once a subscription stands
// (joinSub, subscribeDone). Each is numbered with the next raSeq, carries
// the wait's token and deadline, and sets raSent, from which a lease it is
// granted is counted. It is only called when no other read-or-acquire of f
// is on its way.
func (m *Machine[V]) sendReadOrAcquire(f *flight[V], now Time) {
	l := &m.levels[f.level]
	f.raSeq++
	f.raSent = now
	f.phase = phaseRA
	m.emitOp(Op[V]{
		Flight: f.id, Seq: f.raSeq, Kind: OpReadOrAcquire, Level: uint8(f.level), Scope: l.Scope,
		Key: f.key.name, KeyNum: f.key.num, KeyNumbered: f.key.numbered, Token: f.token, TTL: l.LeaseTTL, FenceTTL: FenceTTL(*l, m.cfg.SharedCacheTTL),
		Deadline: f.deadline,
	})
}

// readOrAcquireDone is the reply to the read-or-acquire f waits for in
// phaseRA (StoreDone has checked that it is that one). What it does depends
// on the reply:
//
//   - StatusValue: the shared cache has the value (double-checked locking).
//     f stops waiting (EffectCancelTimer, perhaps OpUnsubscribe), reports
//     EffectContend -1 and finishes: the replies, the node-cache fill, an
//     OpPublish for every inner level whose lock f holds. f ends.
//   - StatusAcquired: f takes the lock, with its fence and a lease counted
//     from when the read was sent. It stops waiting, reports EffectContend +1
//     and enters the next level (enterLevel): phaseRA there, or
//     phaseFetching past the last.
//   - StatusHeld: f waits; it reports EffectContend +1 (and counts a wait) the
//     first time at this level. If a notification came while the read was
//     on its way, it reads again at once (phaseRA). Otherwise, in notify
//     mode and not yet subscribed, it joins the level's subscription
//     (joinSub): OpSubscribe and phaseSubscribing, or a last check
//     (phaseRA), or neither. Otherwise it sets a poll timer (pollWait) and
//     waits in phaseWaiting.
//   - anything else (StatusError): the store failed. f polls again after
//     PollInterval in phaseWaiting, and remembers the failure (lastErr) so
//     that a timeout at this level hedges with CauseStoreError.
//
// The level's deadline timer runs on through every wait and retry, until
// stopWaiting cancels it.
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
		if l.Wake == WakeNotify && !f.inSub && m.joinSub(f, now) {
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
// frees itself. Each call for a subscribed waiter counts one more
// safety-net poll (f.polls, reset when f enters a level).
func (m *Machine[V]) pollWait(f *flight[V], l *Level, ttl time.Duration) time.Duration {
	wait := l.PollInterval
	if l.Wake == WakeNotify && f.inSub {
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
// no subscription. It runs when the wait is over (a value or the lock
// found, or the deadline passed), and emits EffectCancelTimer for the timers
// still pending and, if f was the node's last flight in the subscription,
// OpUnsubscribe.
func (m *Machine[V]) stopWaiting(f *flight[V]) {
	m.cancelTimer(f, TimerPoll)
	m.cancelTimer(f, TimerDeadline)
	if f.inSub {
		m.leaveSub(f)
	}
}

// contendEnter reports (EffectContend +1) that f holds or waits for the lock
// of level i, unless f already has: it runs when a read-or-acquire finds
// the lock held or takes it.
func (m *Machine[V]) contendEnter(f *flight[V], i int) {
	if f.contend[i] {
		return
	}
	f.contend[i] = true
	l := &m.levels[i]
	m.contend(f, l, i, 1)
}

// contendLeave reports (EffectContend -1) that f no longer holds or waits for
// the lock of level i, if it had reported that it did: it runs when the
// wait ends with a value or a timeout, when f publishes or releases the
// lock, and when f is aborted. An i outside the levels (f.level before the
// first level or past the last) reports nothing.
func (m *Machine[V]) contendLeave(f *flight[V], i int) {
	if i < 0 || i >= MaxLevels || !f.contend[i] {
		return
	}
	f.contend[i] = false
	l := &m.levels[i]
	m.contend(f, l, i, -1)
}
