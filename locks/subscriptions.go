package locks

type subKey struct {
	level uint8
	key   string
}

type subState uint8

const (
	subPending subState = iota
	subActive
)

type subscription struct {
	state       subState
	activeSince Time     // when the subscription was confirmed
	flights     []uint32 // slots of flights waiting on this key at this level
}

// Notified is the input "the store of scope announced at now that the lock of
// key was released or its value written". Every flight of this node waiting
// on that lock polls at once.
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
		m.emitOp(Op[V]{Flight: f.id, Kind: OpSubscribe, Level: uint8(f.level), Scope: l.Scope, Key: f.key.name, KeyNum: f.key.num, Deadline: f.deadline})
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
	m.emitOp(Op[V]{Flight: f.id, Kind: OpUnsubscribe, Level: uint8(f.level), Scope: l.Scope, Key: f.key.name, KeyNum: f.key.num})
}

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
