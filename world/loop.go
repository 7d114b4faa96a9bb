package world

import (
	"time"

	"github.com/stampsim/stampsim/internal/prefetch"
	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/sim"
)

// Event kinds.
const (
	evArrival     uint16 = iota // steady Poisson arrival
	evBurst                     // the next request of burst A
	evStoreArrive               // op A reaches its store (B: zero or packStoreHint)
	evReply                     // op A's reply reaches its node (Target) (B: zero or packReplyHint)
	evNotify                    // a release notification for key A reaches node Target (B: packNotify)
	evTimer                     // a machine timer of node Target (A, B: packTimer)
	evFetchDone                 // upstream call A finishes at node Target
	evFault                     // fault A starts (B=0) or ends (B=1)
	evReplay                    // Options.Arrivals[A] arrives
)

// arrivalLane is the engine lane of arrivals (steady and burst): each
// source schedules its next request later than the one it is handling, so
// they come in time order and cost no heap operation; none is ever
// cancelled, so they take no slot either (sim.Engine.AtLaneFixed). The
// lanes below it are the timer lanes (world.laneDelays).
const arrivalLane = sim.MaxLanes - 1

func (w *world) handle(now sim.Time, ev sim.Event) {
	if w.rec != nil && now >= w.rec.end {
		w.advanceSeries(now)
	}
	switch ev.Kind {
	case evArrival:
		id, key := w.aheadNode, w.aheadKey
		if next := now + sim.FromDuration(w.poisson.Next(w.rArrive)); next < w.end {
			w.eng.AtLaneFixed(arrivalLane, next, ev)
			w.drawAhead()
		}
		w.request(now, id, key)
		return
	case evBurst:
		b := &w.bursts[ev.A]
		n := int32(0)
		if len(b.nodes) > 0 {
			n = b.nodes[w.rBurst.IntN(len(b.nodes))]
		} else {
			n = int32(w.rBurst.IntN(len(w.nodes)))
		}
		w.nextBurst(int(ev.A))
		w.request(now, n, b.key)
		return
	case evReplay:
		a := w.replay[ev.A]
		if next := ev.A + 1; next < int64(len(w.replay)) {
			w.eng.AtLaneFixed(arrivalLane, sim.FromDuration(w.replay[next].At), sim.Event{Kind: evReplay, A: next})
		}
		w.request(now, int32(a.Node), a.Key)
		return
	case evStoreArrive:
		if ev.B != 0 {
			prefetch.Object(&w.ops.items[ev.A])
			s, keyNum := unpackStoreHint(ev.B)
			w.stores[s].kv.Prefetch(keyNum)
		}
		w.storeArrive(now, int32(ev.A))
		return
	case evFault:
		w.fault(now, int(ev.A), ev.B == 1)
		return
	}
	// Everything else is delivered to a node, which may be paused or have
	// crashed since the event was scheduled.
	n := &w.nodes[ev.Target]
	if n.paused {
		n.held = append(n.held, ev)
		return
	}
	w.deliver(now, ev)
}

func (w *world) deliver(now sim.Time, ev sim.Event) {
	n := &w.nodes[ev.Target]
	lnow := locks.Time(now)
	key := -1 // the key the input concerns, for the series (observeNode)
	switch ev.Kind {
	case evReply:
		if ev.B != 0 {
			w.prefetchReply(n, ev)
		}
		r := &w.ops.items[ev.A]
		op, res, inc := r.op, r.res, r.inc
		w.ops.free(int32(ev.A))
		if inc != n.inc || n.crashed {
			return
		}
		n.m.StoreDone(lnow, op, res)
		key = int(op.KeyNum)
	case evNotify:
		scope, inc := unpackNotify(ev.B)
		if inc != n.inc || n.crashed {
			return
		}
		n.m.Notified(lnow, scope, w.keys[ev.A])
		key = int(ev.A)
	case evTimer:
		t, inc := unpackTimer(ev.A, ev.B)
		if inc != timerInc(n.inc) || n.crashed {
			return
		}
		if s := t.Slot(); s < len(n.timers) {
			n.timers[s] = 0
		}
		if w.rec != nil {
			// The flight may end in Fired: ask for its key before.
			if name, ok := n.m.FlightKey(t.Flight); ok {
				key = keyNumber(name)
			}
		}
		n.m.Fired(lnow, t)
	case evFetchDone:
		c := &w.calls.items[ev.A]
		flight, inc, region, err := c.flight, c.inc, c.region, c.err
		key = int(c.key)
		w.calls.free(int32(ev.A))
		w.upInflight--
		w.dups.Done(int(region), int(key), now.Duration(), err == nil)
		if inc != n.inc || n.crashed {
			return
		}
		w.fetchSerial++
		n.m.Fetched(lnow, flight, w.fetchSerial, err)
	}
	w.drain(now, ev.Target)
	if w.rec != nil && key >= 0 {
		w.observeNode(ev.Target, key)
	}
}

// farReply is how long after its operation was sent a reply must come for
// its handling to prefetch (prefetchReply).
var farReply = sim.FromDuration(4 * time.Millisecond)

// prefetchReply has the CPU start loading, all at once, what handling the
// reply ev will touch: its record, the flight it answers, the flight's
// timers and the machine's entry for the key. A reply from a store tens of
// milliseconds away finds all of them cold, and loaded one after the other
// as the code reaches them, each miss would wait for the one before.
func (w *world) prefetchReply(n *node, ev sim.Event) {
	prefetch.Object(&w.ops.items[ev.A])
	slot, keyNum := unpackReplyHint(ev.B)
	if s := int(slot) * int(locks.NumTimerKinds); s < len(n.timers) {
		prefetch.At(&n.timers[s])
	}
	hooks := n.m.SimHooks()
	hooks.Prefetch(int(keyNum))
	hooks.PrefetchFlight(slot)
}

// drain carries out the effects node id's machine asked for.
func (w *world) drain(now sim.Time, id int32) {
	n := &w.nodes[id]
	effs := n.m.Ready()
	for i := range effs {
		e := &effs[i]
		switch e.Kind {
		case locks.EffectStore:
			w.send(now, id, &e.Op)
		case locks.EffectSetTimer:
			w.setTimer(now, n, id, e.Timer, sim.Time(e.At))
		case locks.EffectCancelTimer:
			if s := e.Timer.Slot(); s < len(n.timers) && n.timers[s] != 0 {
				w.eng.Cancel(n.timers[s])
				n.timers[s] = 0
			}
		case locks.EffectFetch:
			w.fetch(now, id, &e.Fetch)
		case locks.EffectCancelFetch:
			// The upstream goes on working; the machine drops its answer.
		case locks.EffectExpediteFetch:
			// Every call, a background one too, started when it was asked
			// for: there is no queue to take it out of.
		case locks.EffectReply:
			if e.Waiters == nil {
				w.reply(now, n, &e.Reply)
				continue
			}
			r := e.Reply
			for _, wt := range e.Waiters {
				r.ID, r.Since = wt.ID, wt.Since
				w.reply(now, n, &r)
			}
		case locks.EffectContend:
			w.contend(n, &e.Op, int32(e.Delta))
		}
	}
}

func (w *world) setTimer(now sim.Time, n *node, id int32, t locks.Timer, at sim.Time) {
	s := t.Slot()
	for s >= len(n.timers) {
		n.timers = append(n.timers, 0)
	}
	if n.timers[s] != 0 {
		w.eng.Cancel(n.timers[s])
	}
	ev := sim.Event{Kind: evTimer, Target: id}
	ev.A, ev.B = packTimer(t, n.inc)
	// Most timers are a level's wait timeout or the renewal period ahead,
	// and most are cancelled long before they fire: those go to the
	// engine's lane for their delay, in time order, instead of its heap.
	for lane, d := range w.laneDelays {
		if at-now == d {
			n.timers[s] = w.eng.AtLane(lane, at, ev)
			return
		}
	}
	n.timers[s] = w.eng.At(at, ev)
}
