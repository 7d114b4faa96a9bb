package world

import (
	"github.com/stampsim/stampsim/internal/prefetch"
	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/sim"
	"github.com/stampsim/stampsim/workloads"
)

type burst struct {
	start  sim.Time
	key    int
	nodes  []int32
	spread workloads.Spread
}

// drawAhead draws the node and key of a steady arrival two arrivals ahead,
// and has the CPU start loading what the next ones will need, in two
// stages: the machine of the arrival after next, and what the next
// arrival's machine (loaded one arrival ago) knows of its key. By the time
// an arrival is handled, a few events later, its memory is there; a
// machine's own fields must be in cache before it can find the key's
// entry, which is why the stages are an arrival apart. The node and key
// streams serve only the steady arrivals, so drawing them early draws the
// same values.
func (w *world) drawAhead() {
	w.aheadNode, w.aheadKey = w.afterNode, w.afterKey
	w.afterNode, w.afterKey = int32(w.rNode.IntN(len(w.nodes))), w.zipf.Next()
	if m := w.nodes[w.afterNode].m; m != nil {
		prefetch.Object(m)
	}
	if m := w.nodes[w.aheadNode].m; m != nil {
		m.SimHooks().Prefetch(w.aheadKey)
	}
}

func (w *world) nextBurst(i int) {
	b := &w.bursts[i]
	if off, ok := b.spread.Next(w.rBurst); ok {
		w.eng.AtLaneFixed(arrivalLane, b.start+sim.FromDuration(off), sim.Event{Kind: evBurst, A: int64(i)})
	}
}

func (w *world) request(now sim.Time, id int32, key int) {
	n := &w.nodes[id]
	if n.paused {
		// The request waits in the node's backlog like everything else.
		n.held = append(n.held, sim.Event{Kind: evArrival, Target: id, A: int64(key)})
		return
	}
	w.requests++
	if w.onRequest != nil {
		w.onRequest(now.Duration(), int(id), key)
	}
	if n.crashed {
		w.served[locks.ServedError]++
		w.crashedErrors++
		if w.rec != nil {
			w.rec.seriesRequest(false)
			w.rec.served(locks.ServedError, 1)
		}
		return
	}
	w.nextReq++
	n.outstanding++
	if w.rec != nil {
		w.rec.seriesRequest(true)
	}
	if w.rXFetch != nil {
		var u float64
		if w.xfetchDrawFn != nil {
			k := int64(id)<<32 | int64(key)
			u = w.xfetchDrawFn(int(id), key, w.xfetchReqs[k])
			w.xfetchReqs[k]++
		} else {
			u = 1 - w.rXFetch.Float64() // in (0, 1]
		}
		n.m.SimHooks().RequestNumberedDrawn(locks.Time(now), w.nextReq, w.keys[key], key, u)
	} else {
		n.m.SimHooks().RequestNumbered(locks.Time(now), w.nextReq, w.keys[key], key)
	}
	w.drain(now, id)
	if w.rec != nil {
		w.rec.seriesHanded()
		w.observeNode(id, key)
	}
}
