package real

import (
	"context"
	"sync"
	"time"

	"github.com/stampsim/stampsim/locks"
)

// Feeding the machine: each input is fed under d.mu, its effects collected
// there, and the I/O they ask for started after d.mu is released.

// batch is the I/O and the observer calls one input asked for, to be done
// after d.mu is released.
type batch struct {
	ops       []locks.Op[[]byte]
	drains    []*subscriber
	fetches   []*fetchRun
	expedites []*fetchRun // background refreshes a caller joined
	contends  []locks.Effect[[]byte]
	replies   []replyEvent
}

type replyEvent struct {
	served  locks.Served
	latency time.Duration
}

var batchPool = sync.Pool{New: func() any { return new(batch) }}

// collect takes the machine's effects and does, under d.mu, what must be
// done in order: timers, replies, the bookkeeping of fetches, the queue of
// subscriptions. It returns the rest, or nil when there is none.
//
// A closed driver starts I/O only for inputs that come from Close itself or
// from a goroutine counted in opsWG (tracked): a lock granted to an
// operation still in flight at Close must be given back, and only counted
// goroutines may add to opsWG while Close waits for it.
func (d *Driver) collect(now locks.Time, tracked bool) *batch {
	effs := d.m.Ready()
	if len(effs) == 0 {
		return nil
	}
	io := tracked || !d.closed
	b := batchPool.Get().(*batch)
	obs := d.cfg.obs != nil
	for i := range effs {
		e := &effs[i]
		if d.starter != nil {
			// The effects of a request answered at once: the first to name
			// a flight is a background refresh's start.
			switch e.Kind {
			case locks.EffectSetTimer:
				d.registerOwner(e.Timer.Flight, d.starter)
				d.starter = nil
			case locks.EffectStore:
				d.registerOwner(e.Op.Flight, d.starter)
				d.starter = nil
			case locks.EffectFetch:
				d.registerOwner(e.Fetch.Flight, d.starter)
				d.starter = nil
			}
		}
		switch e.Kind {
		case locks.EffectStore:
			if !io {
				continue
			}
			st := d.stores[e.Op.Scope]
			if st == nil {
				d.cfg.log.Error("store operation for a scope without a store", "op", e.Op.Kind, "scope", e.Op.Scope, "key", e.Op.Key)
				continue
			}
			d.opsWG.Add(1)
			if e.Op.Kind == locks.OpSubscribe || e.Op.Kind == locks.OpUnsubscribe {
				st.subs.enqueue(e.Op)
				b.drains = append(b.drains, st.subs)
			} else {
				b.ops = append(b.ops, e.Op)
			}
		case locks.EffectSetTimer:
			d.setMachineTimer(e.Timer, e.At)
		case locks.EffectCancelTimer:
			d.cancelMachineTimer(e.Timer)
		case locks.EffectFetch:
			if !io {
				continue
			}
			b.fetches = append(b.fetches, d.startFetch(now, e.Fetch))
			d.opsWG.Add(1)
		case locks.EffectCancelFetch:
			if fr := d.fetches[e.Fetch.Flight]; fr != nil {
				delete(d.fetches, e.Fetch.Flight)
				fr.reported = true
				d.removeTimer(fr.deadline)
				fr.cancel()
			}
		case locks.EffectExpediteFetch:
			if !io {
				continue
			}
			if fr := d.fetches[e.Fetch.Flight]; fr != nil && fr.background {
				b.expedites = append(b.expedites, fr)
			}
		case locks.EffectReply:
			for r := range e.Replies {
				d.deliverReply(now, r, obs, b)
			}
		case locks.EffectContend:
			if obs {
				b.contends = append(b.contends, *e)
			}
		}
	}
	return b
}

// act does a batch's I/O and observer calls. Called without d.mu.
func (d *Driver) act(b *batch) {
	if b == nil {
		return
	}
	now := time.Now()
	for _, op := range b.ops {
		go d.runOp(op, now)
	}
	for _, s := range b.drains {
		go s.drain()
	}
	for _, fr := range b.fetches {
		d.launchFetch(fr)
	}
	for _, fr := range b.expedites {
		d.expedite(fr)
	}
	if o := d.cfg.obs; o != nil {
		for _, e := range b.contends {
			o.Contend(int(e.Op.Level), e.Op.Key, int(e.Delta))
		}
		for _, r := range b.replies {
			o.Reply(r.served, r.latency)
		}
	}
	clear(b.ops)
	clear(b.expedites)
	b.ops, b.drains, b.fetches, b.expedites, b.contends, b.replies = b.ops[:0], b.drains[:0], b.fetches[:0], b.expedites[:0], b.contends[:0], b.replies[:0]
	batchPool.Put(b)
}

// input feeds one input to the machine under d.mu and acts on its effects;
// tracked says that the caller runs in a goroutine counted in opsWG. A
// killed driver feeds nothing.
func (d *Driver) input(tracked bool, feed func(now locks.Time)) {
	d.mu.Lock()
	if d.killed {
		d.mu.Unlock()
		return
	}
	now := d.now()
	feed(now)
	b := d.collect(now, tracked)
	d.mu.Unlock()
	d.act(b)
}

// --- store operations -----------------------------------------------------------

func (d *Driver) opContext(deadline locks.Time) (context.Context, context.CancelFunc) {
	if deadline == 0 {
		return context.WithTimeout(d.life, opTimeout)
	}
	return context.WithDeadline(d.life, d.wall(deadline))
}

// runOp runs op, which the machine asked for at emitted.
func (d *Driver) runOp(op locks.Op[[]byte], emitted time.Time) {
	defer d.opsWG.Done()
	ctx, cancel := d.opContext(op.Deadline)
	o := d.stores[op.Scope].run(ctx, op)
	o.emitted = emitted
	cancel()
	d.storeDone(true, op, o)
}

// storeDone counts a finished store operation and feeds its result; tracked
// says that the caller runs in a goroutine counted in opsWG. The observer is
// told once the machine has the result, with the time from the machine
// asking for the operation to then: the round trip as the protocol sees it,
// the goroutines' waits for the CPU and the driver's mutex included.
func (d *Driver) storeDone(tracked bool, op locks.Op[[]byte], o outcome) {
	d.counts.op(op.Scope, op.Kind, o)
	if o.res.Status == locks.StatusError {
		d.cfg.log.Debug("store operation failed", "op", op.Kind, "scope", op.Scope, "key", op.Key, "err", o.res.Err)
	}
	var took time.Duration
	d.input(tracked, func(now locks.Time) {
		d.m.StoreDone(now, op, o.res)
		if !o.emitted.IsZero() {
			took = time.Since(o.emitted)
		}
	})
	if obs := d.cfg.obs; obs != nil {
		obs.StoreOp(op.Scope, op.Kind, o.roundTrips, o.commands, took)
	}
}

// notified feeds a release notification.
func (d *Driver) notified(scope locks.Scope, key string) {
	d.counts.notifications.Add(1)
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	now := d.now()
	d.m.Notified(now, scope, key)
	b := d.collect(now, false)
	d.mu.Unlock()
	d.act(b)
}

// deliverReply answers one request: it counts its wait, hands the reply to
// the caller blocked in Do, if it still waits, and notes it for the
// observer. Called under d.mu.
func (d *Driver) deliverReply(now locks.Time, r locks.Reply[[]byte], obs bool, b *batch) {
	latency := now.Sub(r.Since)
	if r.Served == locks.ServedCollapsed || r.Served == locks.ServedHedged || r.Served == locks.ServedStale ||
		(r.Served == locks.ServedError && r.Level >= 0) {
		d.wait.observe(latency)
	}
	if req := d.reqs[r.ID]; req != nil {
		delete(d.reqs, r.ID)
		req.ch <- r
	}
	if obs {
		b.replies = append(b.replies, replyEvent{r.Served, latency})
	}
}
