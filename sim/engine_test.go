package sim

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"
)

// fired is one line of a trace: an event as the handler saw it.
type fired struct {
	at Time
	ev Event
}

func (f fired) String() string { return fmt.Sprintf("%v:%d/%d", f.at, f.ev.Kind, f.ev.Target) }

// recorder is an engine whose handler appends every event to a trace and
// then calls an optional hook, so a test can act from inside a handler.
type recorder struct {
	e     *Engine
	trace []fired
	hook  func(r *recorder, now Time, ev Event)
}

func newRecorder(hook func(r *recorder, now Time, ev Event)) *recorder {
	r := &recorder{hook: hook}
	r.e = New(func(now Time, ev Event) {
		r.trace = append(r.trace, fired{now, ev})
		if r.hook != nil {
			r.hook(r, now, ev)
		}
	})
	return r
}

// targets returns the Target of every fired event, in order.
func (r *recorder) targets() []int32 {
	out := make([]int32, len(r.trace))
	for i, f := range r.trace {
		out[i] = f.ev.Target
	}
	return out
}

func ev(target int32) Event { return Event{Kind: 1, Target: target} }

func TestNewPanicsOnNilHandler(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New(nil) did not panic")
		}
	}()
	New(nil)
}

// TestOrdering specifies the order in which events fire: by time, and among
// events at the same time by the order in which they were scheduled.
func TestOrdering(t *testing.T) {
	type sched struct {
		at     Time
		target int32
	}
	tests := []struct {
		name  string
		sched []sched
		want  []int32
	}{
		{"empty", nil, []int32{}},
		{"by time", []sched{{30, 3}, {10, 1}, {20, 2}}, []int32{1, 2, 3}},
		{"ties in insertion order", []sched{{5, 1}, {5, 2}, {5, 3}, {5, 4}}, []int32{1, 2, 3, 4}},
		{"ties interleaved with others", []sched{{7, 1}, {3, 2}, {7, 3}, {3, 4}, {0, 5}, {7, 6}}, []int32{5, 2, 4, 1, 3, 6}},
		{"negative time clamps to zero", []sched{{0, 1}, {-5, 2}, {1, 3}}, []int32{1, 2, 3}},
		{"at Forever still runs", []sched{{Forever, 1}, {0, 2}}, []int32{2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRecorder(nil)
			for _, s := range tt.sched {
				r.e.At(s.at, ev(s.target))
			}
			r.e.Run(Forever, 0)
			if got := r.targets(); !slices.Equal(got, tt.want) {
				t.Errorf("fired %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSchedulingFromHandler specifies what a handler sees when it schedules
// events for its own instant or for the past.
func TestSchedulingFromHandler(t *testing.T) {
	tests := []struct {
		name string
		do   func(e *Engine) // runs inside the handler of event 1, at time 10
		want []int32
	}{
		{"At(now) runs after events already queued for now",
			func(e *Engine) { e.At(10, ev(9)) }, []int32{1, 2, 3, 9, 4}},
		{"At(past) is clamped to now",
			func(e *Engine) { e.At(3, ev(9)) }, []int32{1, 2, 3, 9, 4}},
		{"After(0) is now",
			func(e *Engine) { e.After(0, ev(9)) }, []int32{1, 2, 3, 9, 4}},
		{"After(negative) is now",
			func(e *Engine) { e.After(-100, ev(9)) }, []int32{1, 2, 3, 9, 4}},
		{"After(d) is now+d",
			func(e *Engine) { e.After(5, ev(9)) }, []int32{1, 2, 3, 9, 4}},
		{"After(d) at another's time runs after it",
			func(e *Engine) { e.After(10, ev(9)) }, []int32{1, 2, 3, 4, 9}},
		{"After(huge) saturates at Forever",
			func(e *Engine) { e.After(math.MaxInt64-5, ev(9)) }, []int32{1, 2, 3, 4, 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRecorder(func(r *recorder, now Time, ev Event) {
				if ev.Target == 1 {
					tt.do(r.e)
				}
			})
			r.e.At(10, ev(1))
			r.e.At(10, ev(2))
			r.e.At(10, ev(3))
			r.e.At(20, ev(4))
			r.e.Run(Forever, 0)
			if got := r.targets(); !slices.Equal(got, tt.want) {
				t.Errorf("fired %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("After(huge) fires at Forever", func(t *testing.T) {
		r := newRecorder(nil)
		r.e.At(7, ev(0))
		r.e.Run(Forever, 0)
		r.e.After(math.MaxInt64, ev(1))
		r.e.Run(Forever, 0)
		if got := r.trace[len(r.trace)-1].at; got != Forever {
			t.Errorf("After(MaxInt64) at 7 fired at %d, want Forever", got)
		}
	})
}

func TestPeek(t *testing.T) {
	e := New(func(Time, Event) {})
	if _, ok := e.Peek(); ok {
		t.Error("Peek on an empty engine reported an event")
	}
	a := e.At(5, ev(0))
	e.At(7, ev(1))
	if at, ok := e.Peek(); !ok || at != 5 {
		t.Errorf("Peek() = %v, %v; want 5, true", at, ok)
	}
	e.Cancel(a)
	if at, ok := e.Peek(); !ok || at != 7 {
		t.Errorf("Peek() after cancelling the first = %v, %v; want 7, true", at, ok)
	}
}

func TestReset(t *testing.T) {
	for mode := range numQueueModes {
		t.Run(fmt.Sprintf("queue=%v", mode), func(t *testing.T) { reset(t, mode) })
	}
}

func reset(t *testing.T, mode queueMode) {
	r := newRecorder(nil)
	mode.configure(r.e)
	for i := range int32(40) { // enough to move the queue for queueSwitches
		r.e.At(Time(100+i), ev(100+i))
	}
	r.e.At(1, ev(0))
	r.e.Run(1, 0)
	if mode != queueSmall && !r.e.big {
		t.Fatalf("with %d events pending the queue is not in the radix heap", r.e.Pending())
	}
	r.e.Run(Forever, 0)
	stale := r.e.At(5, ev(1))
	staleLane := r.e.AtLane(0, 5, ev(5))
	cancelled := r.e.At(6, ev(2))
	r.e.Cancel(cancelled)
	r.e.Reset()
	if r.e.Now() != 0 || r.e.Executed() != 0 || r.e.Pending() != 0 {
		t.Errorf("after Reset: Now() = %v, Executed() = %d, Pending() = %d; want all zero", r.e.Now(), r.e.Executed(), r.e.Pending())
	}
	fresh := r.e.At(3, ev(3))
	r.e.At(3, ev(4))
	if r.e.Cancel(stale) {
		t.Error("Cancel with an ID issued before Reset returned true")
	}
	if r.e.Cancel(staleLane) {
		t.Error("Cancel with a lane event's ID issued before Reset returned true")
	}
	r.trace = nil
	r.e.Run(Forever, 0)
	if got, want := r.targets(), []int32{3, 4}; !slices.Equal(got, want) {
		t.Errorf("fired %v after Reset, want %v", got, want)
	}
	if r.e.big && mode != queueBig {
		t.Error("after Reset and two events, the queue is still in the radix heap")
	}
	if r.e.Cancel(fresh) {
		t.Error("Cancel of a fired event returned true")
	}
}

// TestMatchesStableSort checks a static schedule against the obvious
// reference: a stable sort by time of everything not cancelled.
func TestMatchesStableSort(t *testing.T) {
	for mode := range numQueueModes {
		t.Run(fmt.Sprintf("queue=%v", mode), func(t *testing.T) { matchesStableSort(t, mode) })
	}
}

func matchesStableSort(t *testing.T, mode queueMode) {
	for seed := range uint64(50) {
		rng := NewStreams(seed).Stream("schedule")
		n := 1 + rng.IntN(3000)
		span := 1 + rng.Int64N(int64(n)) // small spans make many ties
		type item struct {
			at        Time
			target    int32
			cancelled bool
		}
		items := make([]item, n)
		ids := make([]EventID, n)
		r := newRecorder(nil)
		mode.configure(r.e)
		// Three events in four are given to lanes, most in time order (the
		// others go to the heap), and up to three in four are cancelled, so
		// that the heap and the lanes are compacted together, the lanes
		// holding more than the heap.
		for i := range items {
			items[i] = item{at: Time(rng.Int64N(span)), target: int32(i)}
			if rng.IntN(4) != 0 {
				lane := 1 + rng.IntN(2) // random times: many go to the heap
				if rng.IntN(8) != 0 {
					lane, items[i].at = 0, Time(int64(i)*span/int64(n)) // in order
				}
				ids[i] = r.e.AtLane(lane, items[i].at, ev(int32(i)))
			} else {
				ids[i] = r.e.At(items[i].at, ev(int32(i)))
			}
		}
		cancelOneIn := 1 + rng.IntN(4)
		for i := range items {
			if rng.IntN(4) < cancelOneIn-1 {
				items[i].cancelled = true
				if !r.e.Cancel(ids[i]) {
					t.Fatalf("seed %d: Cancel of pending event %d returned false", seed, i)
				}
			}
		}
		r.e.Run(Forever, 0)

		sort.SliceStable(items, func(a, b int) bool { return items[a].at < items[b].at })
		var want []fired
		for _, it := range items {
			if !it.cancelled {
				want = append(want, fired{it.at, ev(it.target)})
			}
		}
		if !slices.Equal(r.trace, want) {
			t.Fatalf("seed %d (n=%d, span=%d): trace differs from the stable sort\n got %v\nwant %v", seed, n, span, head(r.trace), head(want))
		}
	}
}

func head(f []fired) string {
	if len(f) > 20 {
		f = f[:20]
	}
	s := make([]string, len(f))
	for i, x := range f {
		s[i] = x.String()
	}
	return strings.Join(s, " ") + " ..."
}
