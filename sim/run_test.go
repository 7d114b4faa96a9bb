package sim

import (
	"slices"
	"testing"
)

// TestLargeQueueDrains runs a queue large enough to take the paths a small
// one never does (prefetching from a large slot table) down to empty.
func TestLargeQueueDrains(t *testing.T) {
	const n = 3 * prefetchSlots
	r := newRecorder(nil)
	for i := range int32(n) {
		r.e.At(Time(n-i), ev(i))
	}
	if got := r.e.Run(Forever, 0); got != QueueEmpty {
		t.Fatalf("Run = %v, want %v", got, QueueEmpty)
	}
	if len(r.trace) != n || r.trace[0].ev.Target != n-1 || r.trace[n-1].ev.Target != 0 {
		t.Errorf("fired %d events, first %v, last %v; want %d from target %d down to 0", len(r.trace), r.trace[0], r.trace[len(r.trace)-1], n, n-1)
	}
}

// TestRun specifies the four ways Run stops and where each leaves the clock.
func TestRun(t *testing.T) {
	tests := []struct {
		name      string
		at        []Time // one event at each time, Target = index
		stopAt    int32  // the handler of this Target calls Stop (-1: none)
		until     Time
		max       uint64
		want      StopReason
		wantFired []int32
		wantNow   Time
	}{
		{"time limit: events at until run, later ones wait", []Time{10, 20, 30, 30}, -1, 20, 0, TimeLimit, []int32{0, 1}, 20},
		{"time limit between events moves the clock to until", []Time{10, 20, 30}, -1, 25, 0, TimeLimit, []int32{0, 1}, 25},
		{"time limit before the first event", []Time{10}, -1, 5, 0, TimeLimit, []int32{}, 5},
		{"event limit", []Time{10, 20, 30}, -1, Forever, 2, EventLimit, []int32{0, 1}, 20},
		{"event limit beats queue empty when both hit", []Time{10, 10, 10}, -1, Forever, 3, EventLimit, []int32{0, 1, 2}, 10},
		{"an event limit not reached", []Time{10, 10, 10}, -1, Forever, 4, QueueEmpty, []int32{0, 1, 2}, 10},
		{"event limit beats time limit when both hit", []Time{10, 20}, -1, 10, 1, EventLimit, []int32{0}, 10},
		{"max 0 means no event limit", []Time{1, 2, 3}, -1, Forever, 0, QueueEmpty, []int32{0, 1, 2}, 3},
		{"queue empty with a time limit moves the clock to until", []Time{10, 20}, -1, 100, 0, QueueEmpty, []int32{0, 1}, 100},
		{"queue empty without a time limit leaves the clock at the last event", []Time{10, 20}, -1, Forever, 0, QueueEmpty, []int32{0, 1}, 20},
		{"queue empty from the start", nil, -1, 50, 0, QueueEmpty, []int32{}, 50},
		{"stop runs the rest of the handler, then returns", []Time{10, 20, 30}, 1, Forever, 0, Stopped, []int32{0, 1}, 20},
		{"stop beats every other limit", []Time{10, 20}, 1, 20, 2, Stopped, []int32{0, 1}, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRecorder(func(r *recorder, now Time, ev Event) {
				if ev.Target == tt.stopAt {
					r.e.Stop()
				}
			})
			for i, at := range tt.at {
				r.e.At(at, ev(int32(i)))
			}
			got := r.e.Run(tt.until, tt.max)
			if got != tt.want {
				t.Errorf("Run(%v, %d) = %v, want %v", tt.until, tt.max, got, tt.want)
			}
			if fired := r.targets(); !slices.Equal(fired, tt.wantFired) {
				t.Errorf("fired %v, want %v", fired, tt.wantFired)
			}
			if now := r.e.Now(); now != tt.wantNow {
				t.Errorf("Now() = %v after Run, want %v", now, tt.wantNow)
			}
			if ex := r.e.Executed(); ex != uint64(len(tt.wantFired)) {
				t.Errorf("Executed() = %d, want %d", ex, len(tt.wantFired))
			}
			if p := r.e.Pending(); p != len(tt.at)-len(tt.wantFired) {
				t.Errorf("Pending() = %d, want %d", p, len(tt.at)-len(tt.wantFired))
			}
			// Whatever stopped it, a second run finishes the queue in order.
			r.hook = nil
			r.e.Run(Forever, 0)
			if n := len(r.trace); n != len(tt.at) {
				t.Errorf("after a second run %d events fired in all, want %d", n, len(tt.at))
			}
		})
	}
}

func TestRunNeverMovesTheClockBack(t *testing.T) {
	r := newRecorder(nil)
	r.e.At(10, ev(0))
	r.e.At(50, ev(1))
	r.e.Run(30, 0)
	if got := r.e.Run(20, 0); got != TimeLimit {
		t.Errorf("Run(20) at 30 = %v, want %v", got, TimeLimit)
	}
	if r.e.Now() != 30 {
		t.Errorf("Now() = %v after Run(20) at 30, want 30", r.e.Now())
	}
	if n := len(r.trace); n != 1 {
		t.Errorf("%d events fired, want 1", n)
	}
	r.e.Run(Forever, 0)
	r.e.Run(Forever, 0) // empty: clock stays
	if r.e.Now() != 50 {
		t.Errorf("Now() = %v, want 50", r.e.Now())
	}
	r.e.Run(40, 0) // empty and earlier: clock stays
	if r.e.Now() != 50 {
		t.Errorf("Now() = %v after Run(40) on an empty queue at 50, want 50", r.e.Now())
	}
}

func TestCancelledEventsDoNotCount(t *testing.T) {
	r := newRecorder(nil)
	for i := range int32(4) {
		id := r.e.At(Time(i), ev(i))
		if i%2 == 0 {
			r.e.Cancel(id)
		}
	}
	if got := r.e.Run(Forever, 2); got != EventLimit {
		t.Errorf("Run(Forever, 2) = %v, want %v", got, EventLimit)
	}
	if got, want := r.targets(), []int32{1, 3}; !slices.Equal(got, want) {
		t.Errorf("fired %v, want %v", got, want)
	}
	if r.e.Executed() != 2 || r.e.Pending() != 0 {
		t.Errorf("Executed() = %d, Pending() = %d; want 2, 0", r.e.Executed(), r.e.Pending())
	}
}

func TestStopOutsideRunHasNoEffect(t *testing.T) {
	r := newRecorder(nil)
	r.e.At(1, ev(0))
	r.e.Stop()
	if got := r.e.Run(Forever, 0); got != QueueEmpty {
		t.Errorf("Run after Stop outside a run = %v, want %v", got, QueueEmpty)
	}
}

func TestStopLastsOneRun(t *testing.T) {
	r := newRecorder(func(r *recorder, now Time, ev Event) {
		if ev.Target == 0 {
			r.e.Stop()
		}
	})
	r.e.At(1, ev(0))
	r.e.At(2, ev(1))
	if got := r.e.Run(Forever, 0); got != Stopped {
		t.Fatalf("first Run = %v, want %v", got, Stopped)
	}
	if got := r.e.Run(Forever, 0); got != QueueEmpty {
		t.Errorf("second Run = %v, want %v", got, QueueEmpty)
	}
}

func TestReentrantCallsPanic(t *testing.T) {
	for _, tt := range []struct {
		name string
		call func(e *Engine)
	}{
		{"Run", func(e *Engine) { e.Run(Forever, 0) }},
		{"Reset", func(e *Engine) { e.Reset() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			first := true
			r := newRecorder(func(r *recorder, now Time, ev Event) {
				if first {
					first = false
					tt.call(r.e)
				}
			})
			r.e.At(1, ev(0))
			r.e.At(2, ev(1))
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s from inside a handler did not panic", tt.name)
					}
				}()
				r.e.Run(Forever, 0)
			}()
			// The panic consumed the event whose handler panicked; the
			// engine carries on with the rest.
			if p := r.e.Pending(); p != 1 {
				t.Errorf("Pending() = %d after the panic, want 1", p)
			}
			if got := r.e.Run(Forever, 0); got != QueueEmpty {
				t.Errorf("Run after the panic = %v, want %v", got, QueueEmpty)
			}
			if got, want := r.targets(), []int32{0, 1}; !slices.Equal(got, want) {
				t.Errorf("fired %v, want %v", got, want)
			}
		})
	}
}

// TestInsideHandler specifies what a handler observes of the engine: the
// event being executed is no longer pending, and Peek and Pending see the
// events it schedules and cancels at once.
func TestInsideHandler(t *testing.T) {
	type seen struct {
		pending int
		next    Time
		ok      bool
	}
	tests := []struct {
		name string
		do   func(e *Engine, ids []EventID) // inside the handler of the event at 10
		want []seen                         // before and after do
	}{
		{"nothing", func(e *Engine, ids []EventID) {},
			[]seen{{2, 20, true}, {2, 20, true}}},
		{"schedules one earlier than the rest",
			func(e *Engine, ids []EventID) { e.After(5, ev(9)) },
			[]seen{{2, 20, true}, {3, 15, true}}},
		{"schedules two",
			func(e *Engine, ids []EventID) { e.After(25, ev(9)); e.After(0, ev(8)) },
			[]seen{{2, 20, true}, {4, 10, true}}},
		{"cancels the next",
			func(e *Engine, ids []EventID) { e.Cancel(ids[1]) },
			[]seen{{2, 20, true}, {1, 30, true}}},
		{"cancels all, which compacts the queue",
			func(e *Engine, ids []EventID) { e.Cancel(ids[1]); e.Cancel(ids[2]) },
			[]seen{{2, 20, true}, {0, 0, false}}},
		{"cancels all, then schedules",
			func(e *Engine, ids []EventID) { e.Cancel(ids[1]); e.Cancel(ids[2]); e.After(1, ev(9)) },
			[]seen{{2, 20, true}, {1, 11, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ids []EventID
			var got []seen
			look := func(e *Engine) {
				next, ok := e.Peek()
				got = append(got, seen{e.Pending(), next, ok})
			}
			r := newRecorder(func(r *recorder, now Time, ev Event) {
				if ev.Target == 0 {
					look(r.e)
					tt.do(r.e, ids)
					look(r.e)
				}
			})
			ids = append(ids, r.e.At(10, ev(0)), r.e.At(20, ev(1)), r.e.At(30, ev(2)))
			r.e.Run(Forever, 0)
			if !slices.Equal(got, tt.want) {
				t.Errorf("inside the handler saw (pending, next, ok) %v, want %v", got, tt.want)
			}
			if r.e.Pending() != 0 {
				t.Errorf("Pending() = %d at the end, want 0", r.e.Pending())
			}
		})
	}
}

// A queue that holds only cancelled events is empty: Run says so, whatever
// the cancelled events' times, instead of stopping at the time limit.
func TestRunReportsEmptyWhenOnlyCancelledRemain(t *testing.T) {
	e := New(func(Time, Event) {})
	id := e.At(10*Second, Event{})
	e.At(Second, Event{})
	e.Cancel(id)
	if got := e.Run(2*Second, 0); got != QueueEmpty {
		t.Fatalf("Run = %v, want QueueEmpty: only a cancelled event is left", got)
	}
	if e.Now() != 2*Second {
		t.Fatalf("Now = %v, want the limit 2s", e.Now())
	}
}
