package sim

import (
	"math"
	"slices"
	"testing"
)

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
