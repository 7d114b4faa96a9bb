package world

import (
	"time"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/sim"
)

func (w *world) reply(now sim.Time, n *node, r *locks.Reply[V]) {
	n.outstanding--
	w.served[r.Served]++
	lat := now - sim.Time(r.Since)
	us := int64(lat) / 1000
	w.latency.record(us)
	if w.series {
		sec := int(now / sim.Time(time.Second))
		if sec != w.secLatencyAt {
			w.closeSecond()
			w.secLatencyAt = sec
		}
		w.secLatency.record(us)
		if r.Served == locks.ServedError {
			w.sErrors = bump(w.sErrors, now)
		}
	}
}

func (w *world) closeSecond() {
	if w.secLatency.all().TotalCount() == 0 {
		return
	}
	for len(w.sP99) <= w.secLatencyAt {
		w.sP99 = append(w.sP99, 0)
	}
	w.sP99[w.secLatencyAt] = float64(w.secLatency.all().ValueAtQuantile(99)) / 1000
	w.secLatency.h.Reset()
}

func (w *world) contend(now sim.Time, n *node, op *locks.Op[V], delta int32) {
	// A store serves one scope, and a topology has at most one level per
	// scope, so the store and the key name the lock.
	s, k := &w.stores[n.stores[op.Scope]], int(op.KeyNum)
	c := s.contenders.Get(k) + delta
	s.contenders.Set(k, c)
	if int(c) > w.levelPeak[op.Level] {
		w.levelPeak[op.Level] = int(c)
	}
	if w.series && delta > 0 {
		s := &w.sContenders[op.Level]
		sec := int(now / sim.Time(time.Second))
		for len(*s) <= sec {
			*s = append(*s, 0)
		}
		if int(c) > (*s)[sec] {
			(*s)[sec] = int(c)
		}
	}
}

func bump(s []uint64, now sim.Time) []uint64 {
	sec := int(now / sim.Time(time.Second))
	for len(s) <= sec {
		s = append(s, 0)
	}
	s[sec]++
	return s
}
