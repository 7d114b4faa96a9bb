package sim

import (
	"fmt"
	"slices"
	"testing"
)

// scheduler is the engine's API as the random workload uses it, so the same
// workload can drive the real engine and the reference below.
type scheduler interface {
	Now() Time
	At(t Time, ev Event) EventID
	AtLane(lane int, t Time, ev Event) EventID
	AtLaneFixed(lane int, t Time, ev Event)
	After(d Time, ev Event) EventID
	Cancel(id EventID) bool
	Run(until Time, maxEvents uint64) StopReason
	Stop()
	Pending() int
	Executed() uint64
}

// refEngine is the reference the engine is checked against: the same
// semantics, written the obvious way, with a linear scan for the next event.
type refEngine struct {
	h        Handler
	now      Time
	seq      uint64
	pending  []refEvent
	executed uint64
	stop     bool
	running  bool
}

type refEvent struct {
	at  Time
	seq uint64
	ev  Event
}

func newRef(h Handler) *refEngine { return &refEngine{h: h} }

func (r *refEngine) Now() Time        { return r.now }
func (r *refEngine) Pending() int     { return len(r.pending) }
func (r *refEngine) Executed() uint64 { return r.executed }

func (r *refEngine) Stop() {
	if r.running {
		r.stop = true
	}
}

func (r *refEngine) At(t Time, ev Event) EventID {
	r.seq++
	r.pending = append(r.pending, refEvent{at: max(t, r.now), seq: r.seq, ev: ev})
	return EventID(r.seq)
}

// AtLane is At: lanes are a hint that must change nothing.
func (r *refEngine) AtLane(_ int, t Time, ev Event) EventID { return r.At(t, ev) }

// AtLaneFixed is At too.
func (r *refEngine) AtLaneFixed(_ int, t Time, ev Event) { r.At(t, ev) }

func (r *refEngine) After(d Time, ev Event) EventID {
	switch {
	case d < 0:
		d = 0
	case r.now+d < r.now:
		return r.At(Forever, ev)
	}
	return r.At(r.now+d, ev)
}

func (r *refEngine) Cancel(id EventID) bool {
	for i, p := range r.pending {
		if EventID(p.seq) == id {
			r.pending = slices.Delete(r.pending, i, i+1)
			return true
		}
	}
	return false
}

func (r *refEngine) Run(until Time, maxEvents uint64) StopReason {
	r.running, r.stop = true, false
	defer func() { r.running = false }()
	for n := uint64(0); ; {
		if r.stop {
			return Stopped
		}
		if maxEvents != 0 && n >= maxEvents {
			return EventLimit
		}
		if len(r.pending) == 0 {
			if until != Forever {
				r.now = max(r.now, until)
			}
			return QueueEmpty
		}
		next := 0
		for i, p := range r.pending {
			q := r.pending[next]
			if p.at < q.at || (p.at == q.at && p.seq < q.seq) {
				next = i
			}
		}
		p := r.pending[next]
		if p.at > until {
			r.now = max(r.now, until)
			return TimeLimit
		}
		r.pending = slices.Delete(r.pending, next, next+1)
		r.now = p.at
		n++
		r.executed++
		r.h(p.at, p.ev)
	}
}

// randomWorkload drives a scheduler with a seeded random workload that
// exercises everything at once: handlers that schedule future events (with
// many ties), cancel pending, fired and cancelled events, call Stop; and a
// driver that runs in slices with random time and event limits. It returns
// a trace of everything observable.
func randomWorkload(seed uint64, events int, mk func(Handler) scheduler) []string {
	rng := NewStreams(seed).Stream("workload")
	var (
		s     scheduler
		quiet bool // handlers stop scheduling, cancelling and stopping
		trace []string
		ids   []EventID
		label int32
	)
	schedule := func() {
		label++
		e := Event{Kind: uint16(rng.IntN(4)), Target: label, A: rng.Int64(), B: int64(len(ids))}
		var id EventID
		switch rng.IntN(8) {
		case 7:
			// Never cancelled, in a lane of their own, mostly in order.
			s.AtLaneFixed(MaxLanes-2, s.Now()+Time(rng.IntN(60)), e)
			return
		case 0:
			id = s.At(s.Now()+Time(rng.IntN(3)), e) // many ties
		case 1:
			id = s.At(s.Now()-Time(rng.IntN(5)), e) // clamped to now
		case 2:
			id = s.After(Time(rng.ExpFloat64()*100), e)
		case 3:
			id = s.After(Time(rng.IntN(1000)), e)
		case 4:
			id = s.AtLane(0, s.Now()+300, e) // a fixed delay: always in its lane
		case 5:
			id = s.AtLane(1, s.Now()+Time(rng.IntN(400)), e) // often out of order: the heap
		default:
			id = s.AtLane(MaxLanes-1, s.Now()+Time(rng.IntN(3))-1, e) // ties, some clamped
		}
		ids = append(ids, id)
	}
	cancel := func() {
		if len(ids) == 0 {
			return
		}
		k := rng.IntN(len(ids))
		trace = append(trace, fmt.Sprintf("cancel #%d = %v", k, s.Cancel(ids[k])))
	}
	s = mk(func(now Time, ev Event) {
		trace = append(trace, fmt.Sprintf("%d: kind=%d target=%d a=%d b=%d", now, ev.Kind, ev.Target, ev.A, ev.B))
		if quiet || len(trace) > 4*events {
			return // let the queue drain
		}
		for range rng.IntN(3) + rng.IntN(2) { // 1.5 new events per event on average
			schedule()
		}
		if rng.IntN(3) == 0 {
			cancel()
		}
		if rng.IntN(50) == 0 {
			s.Stop()
		}
	})
	for range 20 {
		schedule()
	}
	for s.Pending() > 0 {
		until := s.Now() + Time(rng.IntN(500))
		if rng.IntN(10) == 0 {
			until = Forever
		}
		reason := s.Run(until, uint64(rng.IntN(50)))
		trace = append(trace, fmt.Sprintf("run(%d) = %v at %d, pending %d, executed %d", until, reason, s.Now(), s.Pending(), s.Executed()))
		if rng.IntN(2) == 0 {
			cancel()
		}
	}
	// Events that will fire, then cancelled ones far off, no more of them
	// than live ones so that Cancel leaves them in the engine's heap: once
	// the live ones have fired, the queue is empty, not waiting for the
	// cancelled ones' time.
	quiet = true
	live := 1 + rng.IntN(3)
	for range live {
		s.After(Time(rng.IntN(5)), Event{Kind: 9})
	}
	for range rng.IntN(live + 1) {
		s.Cancel(s.After(Time(100+rng.IntN(1000)), Event{}))
	}
	until := s.Now() + 10
	reason := s.Run(until, 0)
	trace = append(trace, fmt.Sprintf("run(%d) = %v at %d, pending %d", until, reason, s.Now(), s.Pending()))
	return trace
}

func refScheduler(h Handler) scheduler { return newRef(h) }

// runRandomWorkload runs randomWorkload on the real engine, after letting
// configure adjust the engine's internals.
func runRandomWorkload(seed uint64, events int, configure func(*Engine)) []string {
	return randomWorkload(seed, events, func(h Handler) scheduler {
		e := New(h)
		if configure != nil {
			configure(e)
		}
		return e
	})
}

// TestMatchesReference is the property test: for many seeds, the engine and
// the naive reference produce the same trace for the same random workload.
func TestMatchesReference(t *testing.T) {
	seeds := uint64(50)
	if testing.Short() {
		seeds = 10
	}
	for seed := range seeds {
		checkAgainstReference(t, seed, 500)
	}
}

func checkAgainstReference(t *testing.T, seed uint64, events int) {
	t.Helper()
	checkAgainstReferenceWith(t, seed, events, queueSmall)
}

// queueMode says which priority queue the engine under test uses (see
// Engine.big).
type queueMode uint8

const (
	queueSmall    queueMode = iota // the defaults: these workloads stay in the binary heap
	queueBig                       // the radix heap from the first event on, never back
	queueSwitches                  // from one to the other and back, every few dozen events
	numQueueModes
)

func (m queueMode) String() string {
	return [...]string{"small", "big", "switches"}[m]
}

// configure sets e's queue thresholds for mode m.
func (m queueMode) configure(e *Engine) {
	switch m {
	case queueBig:
		e.bigAt, e.smallAt = 0, 0
	case queueSwitches:
		e.bigAt, e.smallAt = 24, 8
	}
}

func checkAgainstReferenceWith(t *testing.T, seed uint64, events int, mode queueMode) {
	t.Helper()
	got := runRandomWorkload(seed, events, mode.configure)
	want := randomWorkload(seed, events, refScheduler)
	if i := firstDiff(got, want); i >= 0 {
		t.Fatalf("seed %d, queue %v: the engine departs from the reference at line %d of %d:\n got %s\nwant %s",
			seed, mode, i, len(want), at(got, i), at(want, i))
	}
}

// TestMatchesReferenceBigQueue is TestMatchesReference with the engine's
// queue in the radix heap, or moving between it and the binary heap, as it
// does in a stampede.
func TestMatchesReferenceBigQueue(t *testing.T) {
	seeds := uint64(50)
	if testing.Short() {
		seeds = 10
	}
	for _, mode := range []queueMode{queueBig, queueSwitches} {
		for seed := range seeds {
			checkAgainstReferenceWith(t, seed, 500, mode)
		}
	}
}

// FuzzMatchesReference searches for a seed on which the engine and the
// reference disagree.
func FuzzMatchesReference(f *testing.F) {
	f.Add(uint64(0), uint16(100), uint8(queueSmall))
	f.Add(uint64(42), uint16(2000), uint8(queueSmall))
	f.Add(uint64(7), uint16(700), uint8(queueBig))
	f.Add(uint64(9), uint16(900), uint8(queueSwitches))
	f.Fuzz(func(t *testing.T, seed uint64, events uint16, mode uint8) {
		checkAgainstReferenceWith(t, seed, int(events%1024), queueMode(mode%uint8(numQueueModes)))
	})
}

// TestDeterminism runs the same seeded workload twice on fresh engines and
// requires identical traces; a different seed must give a different one.
func TestDeterminism(t *testing.T) {
	for _, seed := range []uint64{1, 2, 1 << 40} {
		a := runRandomWorkload(seed, 2000, nil)
		b := runRandomWorkload(seed, 2000, nil)
		if i := firstDiff(a, b); i >= 0 {
			t.Errorf("seed %d: two runs differ at line %d:\n%s\n%s", seed, i, at(a, i), at(b, i))
		}
		if len(a) < 2000 {
			t.Errorf("seed %d: the workload produced only %d trace lines; it is too small to mean much", seed, len(a))
		}
		c := runRandomWorkload(seed+1, 2000, nil)
		if firstDiff(a, c) < 0 {
			t.Errorf("seeds %d and %d gave identical traces", seed, seed+1)
		}
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(end of trace)"
}
