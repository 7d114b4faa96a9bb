package world

import (
	"errors"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/sim"
	"github.com/stampsim/stampsim/topology"
)

var errUpstream = errors.New("upstream error")

var errUpstreamOverload = errors.New("upstream over its limit")

type callRec struct {
	node   int32
	inc    uint32
	flight locks.FlightID
	region int32 // the call's (region, key), for duplicate counting
	key    int32
	err    error
}

func (w *world) fetch(now sim.Time, id int32, f *locks.Fetch) {
	n := &w.nodes[id]
	w.upstream[f.Cause]++
	key := int(f.KeyNum)
	if w.dups.Start(int(n.region), key, now.Duration()) {
		w.duplicates[f.Cause]++
	}

	w.upInflight++
	if w.rec != nil {
		w.rec.seriesFetch(w.upInflight)
	}
	i := w.calls.alloc()
	c := &w.calls.items[i]
	c.node, c.inc, c.flight, c.region, c.key = id, n.inc, f.Flight, n.region, int32(key)
	var lat float64
	lock, rank := 0, -1 // the call's identity, when validation numbers calls
	if w.upLatencyFn != nil || w.upErrorFn != nil {
		lock = LockInstance(w.shape, w.topo, int(id))
		ck := int64(lock)<<32 | int64(key)
		rank = w.upCalls[ck]
		w.upCalls[ck]++
	}
	if w.upLatencyFn != nil {
		lat = float64(w.upLatencyFn(lock, key, rank))
	} else {
		lat = float64(w.upLatency.Sample(w.rUp))
	}
	if f, ok := active(w.upSlow, now); ok {
		lat *= f
	}
	if capacity := w.sc.Upstream.Capacity; capacity > 0 && w.upInflight > capacity {
		lat *= float64(w.upInflight) / float64(capacity)
	}
	if limit := w.sc.Upstream.FailAbove; limit > 0 && w.upInflight > limit {
		c.err = errUpstreamOverload
		lat = 0
	} else if rate, ok := active(w.upErrors, now); ok && w.errorDraw(lock, key, rank) < rate {
		c.err = errUpstream
	}
	if c.err != nil {
		w.upErrorsN++
	}
	w.eng.At(now+sim.Time(lat), sim.Event{Kind: evFetchDone, Target: id, A: int64(i)})
}

// errorDraw is the draw that decides whether a call during an
// upstream-errors fault fails: Options.UpstreamErrorDraw of the call's
// identity when it is set, else the next of the upstream stream.
func (w *world) errorDraw(lock, key, rank int) float64 {
	if w.upErrorFn != nil {
		return w.upErrorFn(lock, key, rank)
	}
	return w.rUp.Float64()
}

// LockInstance numbers the lock that decides node's upstream calls under
// topo: the store of the outermost shared level, as
// topology.Shape.StoreOf numbers stores, or, for a topology without a
// shared level, -1-node (each node decides alone).
func LockInstance(s topology.Shape, topo locks.Topology, node int) int {
	if len(topo.Levels) == 0 || !topo.Levels[len(topo.Levels)-1].Scope.Shared() {
		return -1 - node
	}
	return s.StoreOf(node, topology.Scope(topo.Levels[len(topo.Levels)-1].Scope))
}
