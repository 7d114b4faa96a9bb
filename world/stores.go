package world

import (
	"errors"
	"time"

	"github.com/stampsim/stampsim/internal/counting"
	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/memstore"
	"github.com/stampsim/stampsim/sim"
)

type store struct {
	name      string
	scope     locks.Scope
	kv        *memstore.Store[V]
	busyUntil sim.Time
	inSystem  []sim.Time // finish times of ops not yet finished, in order
	head      int
	ops       uint64
	commands  uint64
	busy      time.Duration
	wait      histogram // µs
	waitSum   float64
	peakQueue int
	outages   []window
	slowdowns []window
	// contenders counts, per key, the flights holding or waiting for the
	// key's lock in this store (at the level of the store's scope).
	contenders counting.ByKey[int32]
	// busyFrom is when the busy period that ends at busyUntil began, and
	// stepBusy the busy time of the periods that ended in the open sample
	// of the series (seriesRec.seriesStoreOp): kept only with the series.
	busyFrom, stepBusy sim.Time
}

type opRec struct {
	node  int32
	inc   uint32
	store int32
	sent  sim.Time
	op    locks.Op[V]
	res   locks.Result[V]
}

func (w *world) send(now sim.Time, id int32, op *locks.Op[V]) {
	n := &w.nodes[id]
	i := w.ops.alloc()
	r := &w.ops.items[i]
	r.node, r.inc, r.store, r.sent, r.op = id, n.inc, n.stores[op.Scope], now, *op
	if _, cut := active(n.partitions[op.Scope], now); cut {
		w.fail(i, now+w.connectTimeout)
		return
	}
	d := w.netDelay(op.Scope, id)
	// The store will need the key's entry: load it now if the operation
	// gets there soon, or have storeArrive load it if it is far.
	var hint int64
	if d > farReply/2 {
		hint = packStoreHint(r.store, op.KeyNum)
	} else {
		w.stores[r.store].kv.Prefetch(op.KeyNum)
	}
	w.eng.At(now+d, sim.Event{Kind: evStoreArrive, A: int64(i), B: hint})
}

// fail answers op i with a store error at t.
func (w *world) fail(i int32, t sim.Time) {
	r := &w.ops.items[i]
	w.storeErrors++
	r.res = locks.Result[V]{Status: locks.StatusError, Err: errStoreDown}
	w.scheduleReply(i, t)
}

// scheduleReply delivers op i's result to its node at t. A reply that comes
// more than farReply after its operation left carries what prefetchReply
// needs.
func (w *world) scheduleReply(i int32, t sim.Time) {
	r := &w.ops.items[i]
	var hint int64
	if t-r.sent > farReply {
		hint = packReplyHint(&r.op)
	}
	w.eng.At(t, sim.Event{Kind: evReply, Target: r.node, A: int64(i), B: hint})
}

var errStoreDown = errors.New("store unreachable")

// storeArrive serves op i: the store is one server taking operations in
// arrival order, so an operation starts when it arrives or when the one
// before it finishes, whichever is later, and it sees the key space as it is
// at its start.
func (w *world) storeArrive(now sim.Time, i int32) {
	r := &w.ops.items[i]
	s := &w.stores[r.store]
	if _, down := active(s.outages, now); down {
		w.fail(i, max(now, r.sent+w.connectTimeout))
		return
	}
	for s.head < len(s.inSystem) && s.inSystem[s.head] <= now {
		s.head++
	}
	if s.head > 1024 && s.head*2 > len(s.inSystem) {
		s.inSystem = s.inSystem[:copy(s.inSystem, s.inSystem[s.head:])]
		s.head = 0
	}
	if q := len(s.inSystem) - s.head; q > s.peakQueue {
		s.peakQueue = q
	}
	start := max(now, s.busyUntil)
	if w.rec != nil {
		w.rec.seriesStoreOp(s, now, start)
	}
	a := s.kv.Apply(locks.Time(start), r.node, r.op)
	service := w.opOverhead + time.Duration(a.Commands)*w.serviceTime
	if f, slow := active(s.slowdowns, now); slow {
		service = time.Duration(float64(service) * f)
	}
	finish := start + sim.FromDuration(service)
	s.busyUntil = finish
	s.inSystem = append(s.inSystem, finish)
	s.ops++
	s.commands += uint64(a.Commands)
	s.busy += service
	waitUs := int64(start-now) / 1000
	s.wait.record(waitUs)
	s.waitSum += float64(start - now)
	w.opsByKind[r.op.Kind]++
	w.opsPerSec = bump(w.opsPerSec, now) // always: it gives the peak rate
	r.res = a.Result
	w.scheduleReply(i, finish+w.netDelay(s.scope, r.node))
	if a.Notify {
		for _, sub := range s.kv.Subscribers(r.op.Key) {
			sn := &w.nodes[sub]
			if _, cut := active(sn.partitions[s.scope], finish); cut {
				continue
			}
			w.eng.At(finish+w.netDelay(s.scope, sub), sim.Event{
				Kind: evNotify, Target: sub, A: int64(r.op.KeyNum), B: packNotify(s.scope, sn.inc),
			})
		}
	}
}
