package sim

import (
	"slices"
	"testing"
)

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
