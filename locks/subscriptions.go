package locks

// subKey names a subscription: the index of a shared level and a key.
// Notified finds the level from the announcing store's scope.
type subKey struct {
	level uint8
	key   string
}

// subState says whether a subscription's OpSubscribe has been confirmed.
type subState uint8

const (
	// subPending: the OpSubscribe is on its way; the flights in the
	// subscription wait in phaseSubscribing, and Notified ignores it.
	subPending subState = iota
	// subActive: the store confirmed it at activeSince, and announces
	// every release and write of the key from then on.
	subActive
)

// subscription is this node's subscription to the release notifications of
// one (level, key), counted by the flights that wait on it: the first
// flight of the node to wait there sends OpSubscribe (joinSub), the last to
// stop waiting sends OpUnsubscribe (leaveSub). Every flight listed is at
// that level, with inSub set and subIdx its index in flights. Only levels
// woken by WakeNotify have subscriptions.
type subscription struct {
	state       subState
	activeSince Time     // when the subscription was confirmed
	flights     []uint32 // slots of flights waiting on this key at this level
}

// Notified is the input "the store of scope announced at now that the lock of
// key was released or its value written". Every flight of this node waiting
// on that lock polls at once: one in phaseWaiting cancels its poll timer
// (EffectCancelTimer) and reads again (EffectStore, phaseRA); one whose read is
// already on its way is marked, so that a "held" reply, which the store may
// have given before the release, makes it read once more. Only a confirmed
// subscription is woken: the flights of a pending one are all in
// phaseSubscribing and check once it is confirmed. A notification for a
// scope without a level, or for a key no flight here waits on, is ignored.
func (m *Machine[V]) Notified(now Time, scope Scope, key string) {
	level := -1
	for i := m.firstLevel; i < len(m.levels); i++ {
		if m.levels[i].Scope == scope {
			level = i
		}
	}
	if level < 0 {
		return
	}
	s := m.subs[subKey{uint8(level), key}]
	if s == nil || s.state != subActive {
		return
	}
	for _, slot := range s.flights {
		f := m.flights[slot]
		switch f.phase {
		case phaseWaiting:
			m.cancelTimer(f, TimerPoll)
			m.sendReadOrAcquire(f, now)
		case phaseRA:
			// The store may have run the read before the release: if it
			// says "held", read again at once rather than at the next poll.
			f.notified = true
		}
	}
}

// joinSub registers f as waiting for a release of its current level's lock.
// The first flight of this node to wait subscribes; a flight whose read was
// sent before the subscription stood makes one last check once it does, so
// no release between its read and the subscription is missed. joinSub
// reports whether it sent or awaits that check; if not, f simply waits.
//
// It runs when a read-or-acquire in notify mode finds the lock held and f
// is not subscribed yet. It emits OpSubscribe when it creates the
// subscription; f then waits in phaseSubscribing, as it does when the
// subscription is still pending. When the subscription stands but f's read
// was sent before it was confirmed, it emits the last check (EffectStore) and
// f is in phaseRA. Otherwise it emits nothing and the caller sets the poll
// timer.
func (m *Machine[V]) joinSub(f *flight[V], now Time) bool {
	k := subKey{uint8(f.level), f.key.name}
	s := m.subs[k]
	if s == nil {
		if n := len(m.subPool); n > 0 {
			s = m.subPool[n-1]
			m.subPool = m.subPool[:n-1]
		} else {
			s = &subscription{}
		}
		s.state = subPending
		s.flights = s.flights[:0]
		m.subs[k] = s
		l := &m.levels[f.level]
		m.emitOp(Op[V]{Flight: f.id, Kind: OpSubscribe, Level: uint8(f.level), Scope: l.Scope, Key: f.key.name, KeyNum: f.key.num, KeyNumbered: f.key.numbered, Deadline: f.deadline})
	}
	f.inSub = true
	f.subIdx = len(s.flights)
	s.flights = append(s.flights, f.id.Slot)
	if s.state != subActive {
		f.phase = phaseSubscribing
		return true
	}
	if f.raSent < s.activeSince {
		// The read that found the lock held may have been served before the
		// subscription: check once more, now that a release will be heard.
		m.sendReadOrAcquire(f, now)
		return true
	}
	// The read was sent after the subscription was confirmed, so it reached
	// the store after the store registered it: any release since then will
	// be announced. A last check would only add load.
	return false
}

// leaveSub takes f out of its subscription, when f stops waiting at its
// level (stopWaiting) or ends (endFlight). The last flight of the node to
// leave drops the subscription and emits OpUnsubscribe. If the subscription
// was still pending, the unsubscribe follows the subscribe that is still on
// its way, and the subscribe's reply finds no subscription and is late.
func (m *Machine[V]) leaveSub(f *flight[V]) {
	k := subKey{uint8(f.level), f.key.name}
	s := m.subs[k]
	f.inSub = false
	if s == nil {
		return
	}
	last := len(s.flights) - 1
	if f.subIdx <= last {
		moved := s.flights[last]
		s.flights[f.subIdx] = moved
		m.flights[moved].subIdx = f.subIdx
		s.flights = s.flights[:last]
	}
	if len(s.flights) > 0 {
		return
	}
	delete(m.subs, k)
	m.subPool = append(m.subPool, s)
	l := &m.levels[f.level]
	m.emitOp(Op[V]{Flight: f.id, Kind: OpUnsubscribe, Level: uint8(f.level), Scope: l.Scope, Key: f.key.name, KeyNum: f.key.num, KeyNumbered: f.key.numbered})
}

// subscribeDone is the store's reply to OpSubscribe (StoreDone). It is
// matched to the node's subscription by (level, key); if that is not
// pending (it was dropped, or is already confirmed) the reply is late. On
// StatusOK the subscription stands from now: each of its flights in
// phaseSubscribing makes its last check (EffectStore, phaseRA). On failure the
// subscription is dropped without an unsubscribe (nothing was subscribed),
// its flights wait in phaseWaiting with a poll timer at PollInterval
// (EffectSetTimer), and the next flight to find the lock held subscribes
// again.
func (m *Machine[V]) subscribeDone(now Time, op Op[V], res Result[V]) {
	s := m.subs[subKey{op.Level, op.Key}]
	if s == nil || s.state != subPending {
		m.stats.LateReplies++
		return
	}
	if res.Status == StatusOK {
		s.state = subActive
		s.activeSince = now
		for _, slot := range s.flights {
			if f := m.flights[slot]; f.phase == phaseSubscribing {
				m.sendReadOrAcquire(f, now)
			}
		}
		return
	}
	// The subscription failed: its flights fall back to polling, and the
	// next one to find the lock held subscribes again.
	l := &m.levels[op.Level]
	for len(s.flights) > 0 {
		f := m.flights[s.flights[len(s.flights)-1]]
		s.flights = s.flights[:len(s.flights)-1]
		f.inSub = false
		if f.phase == phaseSubscribing {
			f.phase = phaseWaiting
			m.setTimer(f, TimerPoll, now.Add(l.PollInterval))
		}
	}
	delete(m.subs, subKey{op.Level, op.Key})
	m.subPool = append(m.subPool, s)
}
