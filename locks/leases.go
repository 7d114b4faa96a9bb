package locks

// heldLock is what a flight knows of a shared lock it took: the token and
// fence the store gave it and until when its lease surely lasts.
type heldLock struct {
	// acquired: f took the lock and has not yet published or released it.
	acquired bool
	// lost: renewal found another token holding the lock, or let the
	// lease run out. f stops extending it, but still publishes to it: the
	// store refuses the value if a newer fence has written since, and
	// deletes the lock only if f's token still holds it.
	lost     bool
	token    Token
	fence    uint64
	leaseEnd Time // the lease ends no earlier than this
	sent     Time // when the last extension was sent
}

// holdsRenewable reports whether f holds a lock whose lease it should
// extend while its upstream call runs: acquired, not lost, at a level that
// renews. It decides whether startFetch and renew arm TimerRenew.
func (m *Machine[V]) holdsRenewable(f *flight[V]) bool {
	if f.holding == 0 {
		return false
	}
	for i := m.firstLevel; i < len(m.levels); i++ {
		if h := &f.held[i]; h.acquired && !h.lost && !m.levels[i].NoRenew {
			return true
		}
	}
	return false
}

// renew is TimerRenew, every renewEvery while f's upstream call runs (in
// phaseFetching; any other phase ignores it). For each lock f holds at a
// level that renews it emits OpExtend, whose deadline is the lease's
// current end; a lease whose end has passed since the last extension that
// succeeded is marked lost instead (Stats.LeasesLost) and no longer
// extended. While a renewable lease is left it sets the timer again
// (EffectSetTimer).
func (m *Machine[V]) renew(f *flight[V], now Time) {
	if f.phase != phaseFetching || f.held == nil {
		return
	}
	for i := m.firstLevel; i < len(m.levels); i++ {
		h := &f.held[i]
		l := &m.levels[i]
		if !h.acquired || h.lost || l.NoRenew {
			continue
		}
		if now >= h.leaseEnd { // every extension since the last success failed
			h.lost = true
			m.stats.LeasesLost++
			continue
		}
		h.sent = now
		m.emitOp(Op[V]{
			Flight: f.id, Kind: OpExtend, Level: uint8(i), Scope: l.Scope,
			Key: f.key.name, KeyNum: f.key.num, KeyNumbered: f.key.numbered, Token: h.token, TTL: l.LeaseTTL, FenceTTL: FenceTTL(*l, m.cfg.SharedCacheTTL),
			Deadline: h.leaseEnd,
		})
	}
	if m.holdsRenewable(f) {
		m.setTimer(f, TimerRenew, now.Add(m.renewEvery))
	}
}

// extendDone is the store's reply to an OpExtend (StoreDone); it is late
// unless f is still fetching. On StatusOK the lease now ends op.TTL after
// the latest extension was sent. StatusNotHeld means another token holds
// the lock: the lease is lost (Stats.LeasesLost) and not extended again.
// An error changes nothing: the next renew tries again, until the lease's
// end passes. It emits nothing; a lost lease does not stop the upstream
// call.
func (m *Machine[V]) extendDone(now Time, op Op[V], res Result[V]) {
	f := m.lookup(op.Flight)
	if f == nil || f.phase != phaseFetching {
		m.stats.LateReplies++
		return
	}
	if f.held == nil {
		return
	}
	h := &f.held[op.Level]
	if !h.acquired || h.lost {
		return
	}
	switch res.Status {
	case StatusOK:
		// The store renewed the lease somewhere between sending and now;
		// counting from the send is the safe side.
		h.leaseEnd = h.sent.Add(op.TTL)
	case StatusNotHeld:
		h.lost = true
		m.stats.LeasesLost++
	}
}

// releaseHeld gives back every shared lock f holds, outermost first: an
// OpRelease (a compare-and-delete by token) and EffectContend -1 for each. It
// runs when a flight ends without a value to publish: its upstream call failed,
// a wait timed out with PolicyFail or PolicyStale, or it was aborted. A flight
// with a value publishes instead (finish), which also releases the lock.
func (m *Machine[V]) releaseHeld(f *flight[V], now Time) {
	for i := len(m.levels) - 1; i >= m.firstLevel && f.holding > 0; i-- {
		h := &f.held[i]
		if !h.acquired {
			continue
		}
		l := &m.levels[i]
		m.emitOp(Op[V]{
			Flight: f.id, Kind: OpRelease, Level: uint8(i), Scope: l.Scope, Key: f.key.name, KeyNum: f.key.num, KeyNumbered: f.key.numbered,
			Token: h.token, Deadline: now.Add(l.LeaseTTL),
		})
		h.acquired = false
		f.holding--
		m.contendLeave(f, i)
	}
}

// releaseLateGrant gives back a lock that the store granted to a
// read-or-acquire its flight no longer waits for (the flight timed out,
// was cancelled or ended while the operation was on its way). Nobody would
// publish or release it, so every other flight would wait for its lease to
// run out. The token was drawn for that one wait, so the compare-and-delete
// cannot touch a lock the flight holds now.
//
// It runs for every late read-or-acquire reply (StoreDone) and acts only on
// StatusAcquired: it emits one OpRelease with the read's own token, and no
// contention change, since the flight never counted itself as holding that
// lock.
func (m *Machine[V]) releaseLateGrant(f *flight[V], now Time, op Op[V], res Result[V]) {
	if res.Status != StatusAcquired || int(op.Level) >= len(m.levels) {
		return
	}
	if f != nil && f.held != nil && f.held[op.Level].acquired && f.held[op.Level].token == op.Token {
		return // a duplicate of the reply that made f the holder
	}
	m.emitOp(Op[V]{
		Flight: op.Flight, Kind: OpRelease, Level: op.Level, Scope: op.Scope, Key: op.Key, KeyNum: op.KeyNum, KeyNumbered: op.KeyNumbered,
		Token: op.Token, Deadline: now.Add(m.levels[op.Level].LeaseTTL),
	})
}
