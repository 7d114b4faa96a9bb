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
	evStoreArrive               // op A reaches its store
	evReply                     // op A's reply reaches its node (Target)
	evNotify                    // a release notification for key A, scope B>>32, reaches node Target (incarnation B&mask)
	evTimer                     // a machine timer of node Target
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
			w.stores[ev.B>>32-1].kv.Prefetch(uint32(ev.B))
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
	case evNotify:
		if uint32(ev.B) != n.inc || n.crashed {
			return
		}
		n.m.Notified(lnow, locks.Scope(ev.B>>32), w.keys[ev.A])
	case evTimer:
		inc := uint32(ev.B >> 32 & 0xffffff)
		if inc != n.inc&0xffffff || n.crashed {
			return
		}
		t := locks.Timer{
			Flight: locks.FlightID{Slot: uint32(ev.A >> 32), Gen: uint32(ev.A)},
			Kind:   locks.TimerKind(ev.B >> 56),
			Seq:    uint32(ev.B),
		}
		if s := t.Slot(); s < len(n.timers) {
			n.timers[s] = 0
		}
		n.m.Fired(lnow, t)
	case evFetchDone:
		c := &w.calls.items[ev.A]
		flight, inc, region, key, err := c.flight, c.inc, c.region, c.key, c.err
		w.calls.free(int32(ev.A))
		w.upInflight--
		d := w.dups[region].get(int(key))
		d.inProgress--
		if err == nil {
			d.hasOK, d.lastOK = true, now
		}
		w.dups[region].set(int(key), d)
		if inc != n.inc || n.crashed {
			return
		}
		w.fetchSerial++
		n.m.Fetched(lnow, flight, w.fetchSerial, err)
	}
	w.drain(now, ev.Target)
}

// farReply is how long after its operation was sent a reply must come for
// its handling to prefetch (prefetchReply).
var farReply = sim.FromDuration(4 * time.Millisecond)

// replyHint packs what prefetchReply needs to know of a reply to op into
// an event's B: the flight's slot and the key's number.
func replyHint(op *locks.Op[V]) int64 {
	return int64(op.Flight.Slot)<<32 | int64(op.KeyNum)
}

// prefetchReply has the CPU start loading, all at once, what handling the
// reply ev will touch: its record, the flight it answers, the flight's
// timers and the machine's entry for the key. A reply from a store tens of
// milliseconds away finds all of them cold, and loaded one after the other
// as the code reaches them, each miss would wait for the one before.
func (w *world) prefetchReply(n *node, ev sim.Event) {
	prefetch.Object(&w.ops.items[ev.A])
	slot, keyNum := uint32(ev.B>>32), uint32(ev.B)
	if s := int(slot) * int(locks.NumTimerKinds); s < len(n.timers) {
		prefetch.At(&n.timers[s])
	}
	if keyNum > 0 {
		n.m.Prefetch(opKey(keyNum))
	}
	n.m.PrefetchFlight(slot)
}

// drain carries out the effects node id's machine asked for.
func (w *world) drain(now sim.Time, id int32) {
	n := &w.nodes[id]
	effs := n.m.Ready()
	for i := range effs {
		e := &effs[i]
		switch e.Kind {
		case locks.EffStore:
			w.send(now, id, &e.Op)
		case locks.EffSetTimer:
			w.setTimer(now, n, id, e.Timer, sim.Time(e.At))
		case locks.EffCancelTimer:
			if s := e.Timer.Slot(); s < len(n.timers) && n.timers[s] != 0 {
				w.eng.Cancel(n.timers[s])
				n.timers[s] = 0
			}
		case locks.EffFetch:
			w.fetch(now, id, &e.Fetch)
		case locks.EffCancelFetch:
			// The upstream goes on working; the machine drops its answer.
		case locks.EffReply:
			if e.Waiters == nil {
				w.reply(now, n, &e.Reply)
				continue
			}
			r := e.Reply
			for _, wt := range e.Waiters {
				r.ID, r.Since = wt.ID, wt.Since
				w.reply(now, n, &r)
			}
		case locks.EffContend:
			w.contend(now, n, &e.Op, int32(e.Delta))
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
	ev := sim.Event{
		Kind: evTimer, Target: id,
		A: int64(t.Flight.Slot)<<32 | int64(t.Flight.Gen),
		B: int64(t.Kind)<<56 | int64(n.inc&0xffffff)<<32 | int64(t.Seq),
	}
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
