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
	if w.rec != nil {
		w.rec.seriesReply(r.Served, us)
	}
}

func (w *world) contend(n *node, op *locks.Op[V], delta int32) {
	// A store serves one scope, and a topology has at most one level per
	// scope, so the store and the key name the lock.
	s, k := &w.stores[n.stores[op.Scope]], int(op.KeyNum)
	c := s.contenders.Get(k) + delta
	s.contenders.Set(k, c)
	if int(c) > w.levelPeak[op.Level] {
		w.levelPeak[op.Level] = int(c)
	}
	if w.rec != nil {
		w.rec.seriesContend(int(op.Level), int(c-delta), int(c))
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
