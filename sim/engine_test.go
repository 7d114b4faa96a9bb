package sim

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
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

func TestTimeConversions(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{time.Nanosecond, "1ns"},
		{1500 * time.Millisecond, "1.5s"},
		{-2 * time.Microsecond, "-2µs"},
		{90 * time.Minute, "1h30m0s"},
	}
	for _, tt := range tests {
		st := FromDuration(tt.d)
		if int64(st) != int64(tt.d) {
			t.Errorf("FromDuration(%v) = %d ns, want %d ns", tt.d, int64(st), int64(tt.d))
		}
		if got := st.Duration(); got != tt.d {
			t.Errorf("FromDuration(%v).Duration() = %v, want it back unchanged", tt.d, got)
		}
		if got := st.String(); got != tt.want {
			t.Errorf("Time(%d).String() = %q, want %q", int64(st), got, tt.want)
		}
	}
	if got := Forever.String(); got != "forever" {
		t.Errorf("Forever.String() = %q, want %q", got, "forever")
	}
	if Second != FromDuration(time.Second) || Hour != FromDuration(time.Hour) {
		t.Errorf("Second = %d, Hour = %d: the unit constants disagree with package time", Second, Hour)
	}
}

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

// TestCancel specifies Cancel: what it returns and which events then fire.
func TestCancel(t *testing.T) {
	tests := []struct {
		name string
		// run schedules, cancels and runs, returning the results of the
		// Cancel calls it made, in order.
		run        func(r *recorder) []bool
		wantCancel []bool
		want       []int32
	}{
		{"before firing",
			func(r *recorder) []bool {
				r.e.At(1, ev(1))
				id := r.e.At(2, ev(2))
				r.e.At(3, ev(3))
				return []bool{r.e.Cancel(id)}
			}, []bool{true}, []int32{1, 3}},
		{"twice",
			func(r *recorder) []bool {
				id := r.e.At(2, ev(2))
				return []bool{r.e.Cancel(id), r.e.Cancel(id)}
			}, []bool{true, false}, []int32{}},
		{"after firing",
			func(r *recorder) []bool {
				id := r.e.At(1, ev(1))
				r.e.Run(Forever, 0)
				return []bool{r.e.Cancel(id)}
			}, []bool{false}, []int32{1}},
		{"zero ID",
			func(r *recorder) []bool {
				r.e.At(1, ev(1))
				return []bool{r.e.Cancel(0)}
			}, []bool{false}, []int32{1}},
		{"in a lane, before firing",
			func(r *recorder) []bool {
				r.e.AtLane(2, 1, ev(1))
				id := r.e.AtLane(2, 2, ev(2))
				r.e.AtLane(2, 3, ev(3))
				return []bool{r.e.Cancel(id)}
			}, []bool{true}, []int32{1, 3}},
		{"in a lane, twice",
			func(r *recorder) []bool {
				id := r.e.AtLane(0, 2, ev(2))
				return []bool{r.e.Cancel(id), r.e.Cancel(id)}
			}, []bool{true, false}, []int32{}},
		{"in a lane, after firing and after the lane's memory is reused",
			func(r *recorder) []bool {
				old := r.e.AtLane(1, 1, ev(1))
				r.e.Run(Forever, 0)
				r.e.AtLane(1, 5, ev(2)) // takes the place event 1 had in the lane's array
				return []bool{r.e.Cancel(old)}
			}, []bool{false}, []int32{1, 2}},
		{"in a lane, a cancelled head is skipped and the next one cancelled",
			func(r *recorder) []bool {
				a := r.e.AtLane(3, 1, ev(1))
				b := r.e.AtLane(3, 2, ev(2))
				r.e.AtLane(3, 3, ev(3))
				return []bool{r.e.Cancel(a), r.e.Cancel(b)}
			}, []bool{true, true}, []int32{3}},
		{"in a lane, an ID of another lane",
			func(r *recorder) []bool {
				id := r.e.AtLane(4, 1, ev(1))
				return []bool{r.e.Cancel(id ^ 1<<60)}
			}, []bool{false}, []int32{1}},
		{"ID from nowhere",
			func(r *recorder) []bool {
				r.e.At(1, ev(1))
				return []bool{r.e.Cancel(EventID(1<<32 | 12345)), r.e.Cancel(EventID(math.MaxUint64))}
			}, []bool{false, false}, []int32{1}},
		{"stale ID after its slot is reused by a fired event's successor",
			func(r *recorder) []bool {
				old := r.e.At(1, ev(1))
				r.e.Run(Forever, 0)
				r.e.At(5, ev(2)) // takes the slot event 1 had
				return []bool{r.e.Cancel(old)}
			}, []bool{false}, []int32{1, 2}},
		{"stale ID after its slot is reused by a cancelled event's successor",
			func(r *recorder) []bool {
				old := r.e.At(1, ev(1))
				first := r.e.Cancel(old)
				r.e.At(1, ev(9))
				r.e.Run(Forever, 0) // drops the cancelled entry, freeing its slot
				r.e.At(5, ev(2))
				r.e.At(6, ev(3))
				return []bool{first, r.e.Cancel(old)}
			}, []bool{true, false}, []int32{9, 2, 3}},
		{"the same-time event queued next",
			func(r *recorder) []bool {
				r.e.At(1, ev(1))
				id := r.e.At(1, ev(2))
				r.e.At(1, ev(3))
				r.hook = func(r *recorder, now Time, ev Event) {
					if ev.Target == 1 && !r.e.Cancel(id) {
						panic("Cancel of a pending event returned false")
					}
				}
				return nil
			}, nil, []int32{1, 3}},
		{"from inside a handler, a later event and its own",
			func(r *recorder) []bool {
				var results []bool
				later := r.e.At(5, ev(2))
				own := r.e.At(1, ev(1))
				r.e.At(9, ev(3))
				r.hook = func(r *recorder, now Time, ev Event) {
					if ev.Target == 1 {
						results = append(results, r.e.Cancel(own), r.e.Cancel(later))
					}
				}
				r.e.Run(Forever, 0)
				return results
			}, []bool{false, true}, []int32{1, 3}},
		{"one scheduled by the handler itself",
			func(r *recorder) []bool {
				var results []bool
				r.e.At(1, ev(1))
				r.hook = func(r *recorder, now Time, ev Event) {
					if ev.Target == 1 {
						id := r.e.After(0, ev)
						r.e.After(1, Event{Kind: 1, Target: 2})
						results = append(results, r.e.Cancel(id))
					}
				}
				r.e.Run(Forever, 0)
				return results
			}, []bool{true}, []int32{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRecorder(nil)
			gotCancel := tt.run(r)
			r.e.Run(Forever, 0)
			if !slices.Equal(gotCancel, tt.wantCancel) {
				t.Errorf("Cancel returned %v, want %v", gotCancel, tt.wantCancel)
			}
			if got := r.targets(); !slices.Equal(got, tt.want) {
				t.Errorf("fired %v, want %v", got, tt.want)
			}
			if p := r.e.Pending(); p != 0 {
				t.Errorf("Pending() = %d after running to the end, want 0", p)
			}
		})
	}
}

// TestCancelKeepsMemoryBounded checks that cancelled events do not pile up:
// the queue's storage stays proportional to the events still pending.
func TestCancelKeepsMemoryBounded(t *testing.T) {
	e := New(func(Time, Event) {})
	keep := e.At(Forever, ev(0))
	for i := range 100000 {
		id := e.At(Time(i+1), ev(int32(i)))
		if !e.Cancel(id) {
			t.Fatalf("Cancel of pending event %d returned false", i)
		}
		if e.queued() > 2*e.Pending()+1 {
			t.Fatalf("after %d cancels the heap holds %d entries for %d pending events", i+1, e.queued(), e.Pending())
		}
	}
	if got := len(e.slots); got > 3 {
		t.Errorf("the slot table grew to %d slots for at most 2 events pending at once", got)
	}
	if e.Pending() != 1 || !e.Cancel(keep) {
		t.Errorf("Pending() = %d, want the one event never cancelled", e.Pending())
	}
}

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

// TestRenumber exhausts the sequence numbers that fit in a queue entry, many
// times over, and checks that ties still break by insertion order.
func TestRenumber(t *testing.T) {
	// This workload never has more than about 400 events pending.
	const events = 300
	want := runRandomWorkload(1, events, nil)
	for _, limit := range []uint64{600, 601, 700} {
		for mode := range numQueueModes {
			t.Run(fmt.Sprintf("seqLimit=%d/queue=%v", limit, mode), func(t *testing.T) {
				var e *Engine
				got := runRandomWorkload(1, events, func(x *Engine) { e = x; e.seqLimit = limit; mode.configure(e) })
				if e.renumbers < 2 {
					t.Errorf("the sequence numbers were renumbered %d times; the test wants at least 2", e.renumbers)
				}
				if i := firstDiff(got, want); i >= 0 {
					t.Errorf("with a sequence space of %d and the %v queue the trace departs from the normal one at line %d:\n got %s\nwant %s", limit, mode, i, at(got, i), at(want, i))
				}
			})
		}
	}
	// The queue stays a few events long here, so queueSwitches would never
	// leave the binary heap: it would only repeat queueSmall.
	for _, mode := range []queueMode{queueSmall, queueBig} {
		t.Run(fmt.Sprintf("many ties/queue=%v", mode), func(t *testing.T) {
			r := newRecorder(nil)
			r.e.seqLimit = 16
			mode.configure(r.e)
			for i := range int32(2000) {
				r.e.At(r.e.Now()+Time(i%3), ev(i))
				if i%5 == 4 {
					r.e.Run(r.e.Now()+1, 0) // keeps the queue short
				}
			}
			r.e.Run(Forever, 0)
			if r.e.renumbers < 10 {
				t.Errorf("the sequence numbers were renumbered %d times; the test wants at least 10", r.e.renumbers)
			}
			byTime := map[Time][]int32{}
			for _, f := range r.trace {
				byTime[f.at] = append(byTime[f.at], f.ev.Target)
			}
			for tm, got := range byTime {
				if !slices.IsSorted(got) {
					t.Errorf("events due at %d fired in the order %v, want insertion order", tm, got)
				}
			}
			if len(r.trace) != 2000 {
				t.Errorf("%d events fired, want 2000", len(r.trace))
			}
		})
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

func ExampleEngine() {
	const tick = 1
	var e *Engine
	e = New(func(now Time, ev Event) {
		switch ev.Kind {
		case tick:
			e.After(Second, ev) // tick again in one virtual second
		}
	})
	e.At(0, Event{Kind: tick})
	reason := e.Run(Minute, 0)
	fmt.Println(reason, e.Executed(), e.Now(), e.Pending())
	// Output: time limit 61 1m0s 1
}

// A lane takes events one way only: AtLane (with IDs) or AtLaneFixed
// (without). Mixing them is a programming error and panics; once the lane
// has drained, Reset frees it for either.
func TestLaneModesDoNotMix(t *testing.T) {
	for _, tt := range []struct {
		name          string
		first, second func(e *Engine)
	}{
		{"AtLane after AtLaneFixed", func(e *Engine) { e.AtLaneFixed(3, 5, ev(1)) }, func(e *Engine) { e.AtLane(3, 6, ev(2)) }},
		{"AtLaneFixed after AtLane", func(e *Engine) { e.AtLane(3, 5, ev(1)) }, func(e *Engine) { e.AtLaneFixed(3, 6, ev(2)) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRecorder(nil)
			tt.first(r.e)
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s did not panic", tt.name)
					}
				}()
				tt.second(r.e)
			}()
			r.e.Reset()
			tt.second(r.e) // either way is fine on a fresh lane
			r.e.Run(Forever, 0)
			if got, want := r.targets(), []int32{2}; !slices.Equal(got, want) {
				t.Errorf("fired %v after Reset, want %v", got, want)
			}
		})
	}
}

// AtLaneFixed events fire in (time, insertion order) among the others, and
// take no slot.
func TestAtLaneFixed(t *testing.T) {
	r := newRecorder(nil)
	r.e.AtLaneFixed(0, 10, ev(1))
	r.e.At(10, ev(2))
	r.e.AtLaneFixed(0, 20, ev(3))
	r.e.AtLaneFixed(0, 15, ev(4)) // out of order: the heap
	r.e.AtLane(1, 12, ev(5))
	if p := r.e.Pending(); p != 5 {
		t.Errorf("Pending() = %d, want 5", p)
	}
	r.e.Run(Forever, 0)
	if got, want := r.targets(), []int32{1, 2, 5, 4, 3}; !slices.Equal(got, want) {
		t.Errorf("fired %v, want %v", got, want)
	}
	if len(r.e.slots) != 3 {
		t.Errorf("the slot table has %d slots, want 3 (two heap events and one AtLane)", len(r.e.slots))
	}
}
