package validate

import (
	"time"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/topology"
)

type contKey struct {
	store, level int
	key          string
}

// nodeObserver is one driver's Observer: it knows which node it is, so that
// contention is counted per store, as in the simulator.
type nodeObserver struct {
	w    *realWorld
	node int
}

func (o nodeObserver) StoreOp(scope locks.Scope, kind locks.OpKind, roundTrips, commands int, took time.Duration) {
	w := o.w
	now := time.Since(w.start)
	cut := took > 0 && w.faults.wasCut(o.node, now-took, now)
	if cut && commands == 0 {
		// A script that ran no command while its node was cut off never
		// reached the store (the proxy dropped it), which is how the
		// simulator counts an operation to a store that is down: no round
		// trip. The driver counts it as one, since it may have, as far as
		// a client can tell.
		roundTrips = 0
	}
	w.commands.Add(uint64(commands))
	sec := int(now / time.Second)
	w.mu.Lock()
	if roundTrips > 0 && took > 0 && !w.faults.wasHeld(o.node, now-took, now) {
		w.timed[o.node] = append(w.timed[o.node], roundTrip{start: now - took, took: took})
	}
	w.opsByKind[kind] += uint64(roundTrips)
	for len(w.perSecond) <= sec {
		w.perSecond = append(w.perSecond, 0)
	}
	w.perSecond[sec] += uint64(roundTrips)
	w.mu.Unlock()
}

func (o nodeObserver) Contend(level int, key string, delta int) {
	w := o.w
	k := contKey{store: w.shape.StoreOf(o.node, topology.Scope(w.realTopo.Levels[level].Scope)), level: level, key: key}
	w.mu.Lock()
	c := w.contenders[k] + delta
	if c == 0 {
		delete(w.contenders, k)
	} else {
		w.contenders[k] = c
	}
	w.levelPeak[level] = max(w.levelPeak[level], c)
	w.mu.Unlock()
}

func (o nodeObserver) Fetch(cause locks.Cause) {
	o.w.mu.Lock()
	o.w.causes[cause]++
	o.w.mu.Unlock()
}

func (o nodeObserver) Reply(served locks.Served, latency time.Duration) {
	o.w.mu.Lock()
	o.w.served[served]++
	_ = o.w.replyLat.RecordValue(latency.Microseconds())
	o.w.mu.Unlock()
}
