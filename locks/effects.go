package locks

// outbox holds a machine's effects: the batch being built and the one the
// driver is reading, with the waiter lists they lend. Machines of one
// driver may share one (SimHooks.ShareEffects).
type outbox[V any] struct {
	effects     []Effect[V]
	spare       []Effect[V]
	lent        [][]Waiter // waiter lists lent with the effects of the current batch
	refsAt      []int32    // effects of the current batch holding a waiter list or an error
	spareRefsAt []int32    // the same for the batch the driver is reading
	returned    [][]Waiter // lent with the batch the driver is reading
	pool        [][]Waiter // waiter lists ready for reuse
}

// Ready returns the effects produced since the last call. The slice is valid
// until the next call to Ready; inputs given while the driver works through
// it add to the next batch.
func (m *Machine[V]) Ready() []Effect[V] {
	o := m.out
	if len(o.returned) > 0 || len(o.lent) > 0 {
		m.recycle()
	}
	out := o.effects
	spare := o.spare
	// The batch before out is done with: drop what it holds that could be
	// large (waiter lists, errors, values that may hold pointers). The rest
	// is left for the next batch to write over, field by field (see push).
	switch {
	case cap(spare) > 1<<12:
		spare = nil // a burst of effects must not pin its memory either
	case m.ptrValues:
		clear(spare)
	default:
		for _, i := range o.spareRefsAt {
			spare[i].Waiters, spare[i].Reply.Err = nil, nil
		}
	}
	o.spareRefsAt, o.refsAt = o.refsAt, o.spareRefsAt[:0]
	o.effects = spare[:0]
	o.spare = out
	return out
}

// mayHoldPointers reports whether values of type V may hold pointers; it
// knows the numbers and booleans.
func mayHoldPointers[V any]() bool {
	switch any(*new(V)).(type) {
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, uintptr,
		float32, float64, complex64, complex128:
		return false
	}
	return true
}

// push appends an effect of kind k to the batch and returns it for the
// caller to fill in. Only the fields of k are written: the entry is reused
// from an earlier batch, and building whole effects (256 bytes zeroed, then
// copied) for the few fields a kind has cost a simulation about 4% of its
// time. Ready has cleared what could be large (waiter lists, errors, and
// everything when V may hold pointers).
func (m *Machine[V]) push(k EffectKind) *Effect[V] {
	o := m.out
	n := len(o.effects)
	if n < cap(o.effects) {
		o.effects = o.effects[:n+1]
	} else {
		o.effects = append(o.effects, Effect[V]{})
	}
	e := &o.effects[n]
	e.Kind = k
	return e
}

// contend reports that f started (delta 1) or stopped (-1) holding or
// waiting for the lock of level i (l).
func (m *Machine[V]) contend(f *flight[V], l *Level, i int, delta int8) {
	e := m.push(EffectContend)
	e.Delta = delta
	e.Op = Op[V]{Flight: f.id, Level: uint8(i), Scope: l.Scope, Key: f.key.name, KeyNum: f.key.num, KeyNumbered: f.key.numbered}
}

// emitOp emits a store operation (EffectStore) and counts it in Stats.Ops:
// every operation the machine sends goes through it.
func (m *Machine[V]) emitOp(op Op[V]) {
	m.stats.Ops[op.Kind]++
	m.push(EffectStore).Op = op
}

// setTimer sets f's timer of kind k to fire at at (EffectSetTimer), replacing
// the pending one of that kind, if any: its new sequence number makes the
// replaced timer late should the driver fire it anyway.
func (m *Machine[V]) setTimer(f *flight[V], k TimerKind, at Time) {
	f.timerSeq[k]++
	f.timerOn[k] = true
	e := m.push(EffectSetTimer)
	e.Timer = Timer{Flight: f.id, Kind: k, Seq: f.timerSeq[k]}
	e.At = at
}

// cancelTimer cancels f's pending timer of kind k (EffectCancelTimer), and
// emits nothing when none is pending. A timer the driver fires before it
// sees the cancellation no longer matches and is dropped as late.
func (m *Machine[V]) cancelTimer(f *flight[V], k TimerKind) {
	if !f.timerOn[k] {
		return
	}
	f.timerOn[k] = false
	f.timerSeq[k]++
	m.push(EffectCancelTimer).Timer = Timer{Flight: f.id, Kind: k, Seq: f.timerSeq[k]}
}

// reply answers one request (an EffectReply without Waiters) and counts it in
// Stats.Served: a node-cache hit, a follower that timed out, the owner of a
// flight in replyAll. An effect that carries an error is noted in refsAt,
// so that Ready drops the error once the driver is done with the batch.
func (m *Machine[V]) reply(id ReqID, key string, since Time, s Served, v V, err error, level int8) {
	m.stats.Served[s]++
	if err != nil {
		m.out.refsAt = append(m.out.refsAt, int32(len(m.out.effects)))
	}
	e := m.push(EffectReply)
	e.Reply = Reply[V]{ID: id, Key: key, Since: since, Served: s, Value: v, Err: err, Level: level}
	e.Waiters = nil
}

// replyAll answers every request still waiting for f: the owner with its
// own effect, the followers with one effect that lends them f's waiter list
// (compacted to those still waiting), so that a stampede of a million
// requests costs one effect, not a million. The list is the driver's to read
// until the next Ready. replyAll leaves f with nobody waiting (live 0, gone
// cleared) and, when it lent the list, without one: the caller ends f in
// the same input.
func (m *Machine[V]) replyAll(f *flight[V], owner, others Served, v V, err error, level int8) {
	if f.live == 0 {
		return
	}
	if f.waiting(0) {
		w := f.waiters[0]
		m.reply(w.ID, f.key.name, w.Since, owner, v, err, level)
	}
	n := 1
	for i := 1; i < len(f.waiters); i++ {
		if f.waiting(i) {
			f.waiters[n] = f.waiters[i]
			n++
		}
	}
	clear(f.gone)
	f.live = 0
	if n == 1 {
		return
	}
	m.stats.Served[others] += uint64(n - 1)
	m.out.refsAt = append(m.out.refsAt, int32(len(m.out.effects)))
	e := m.push(EffectReply)
	e.Reply = Reply[V]{Key: f.key.name, Served: others, Value: v, Err: err, Level: level}
	e.Waiters = f.waiters[1:n]
	m.out.lent = append(m.out.lent, f.waiters)
	f.waiters = nil
}

// takeWaiters returns an empty waiter list, reusing one the driver is done
// with when there is one.
func (m *Machine[V]) takeWaiters() []Waiter {
	if n := len(m.out.pool); n > 0 {
		w := m.out.pool[n-1]
		m.out.pool = m.out.pool[:n-1]
		return w[:0]
	}
	return make([]Waiter, 0, 8)
}

// poolWaiters takes back a waiter list nothing uses any more. The pool
// keeps a bounded number, and at most one very large one, so that one huge
// stampede does not pin its memory.
func (m *Machine[V]) poolWaiters(w []Waiter) {
	o := m.out
	if len(o.pool) >= 64 || (cap(w) > 1<<14 && m.bigPooled()) {
		return
	}
	o.pool = append(o.pool, w[:0])
}

// recycle takes back the waiter lists lent with the effects of the batch the
// driver has finished (the one before the batch Ready is about to return).
func (m *Machine[V]) recycle() {
	o := m.out
	for _, w := range o.returned {
		m.poolWaiters(w)
	}
	clear(o.returned)
	o.returned, o.lent = o.lent, o.returned[:0]
}

// bigPooled reports whether the pool already keeps a list with room for
// more than 1<<14 waiters; poolWaiters keeps at most one such.
func (m *Machine[V]) bigPooled() bool {
	for _, w := range m.out.pool {
		if cap(w) > 1<<14 {
			return true
		}
	}
	return false
}
