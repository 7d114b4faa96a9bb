package sim

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// A run whose events all fall at one instant never reaches a time limit, so
// only the interruption can end it: an event that reschedules itself at
// the same time, forever, stops soon after another goroutine raises the
// flag, with the clock where it was and the event still pending.
func TestInterruptStopsARunWhoseClockStands(t *testing.T) {
	var e *Engine
	var executed atomic.Uint64
	e = New(func(now Time, ev Event) {
		executed.Add(1)
		e.At(now, ev)
	})
	e.At(5*Millisecond, Event{Kind: 1})
	var stop atomic.Bool
	e.SetInterrupt(stop.Load)

	// Raise the flag only once the run is under way, from elsewhere.
	go func() {
		for executed.Load() < 10*InterruptEvery {
			time.Sleep(time.Millisecond)
		}
		stop.Store(true)
	}()
	done := make(chan StopReason)
	go func() { done <- e.Run(Forever, 0) }()
	select {
	case got := <-done:
		if got != Interrupted {
			t.Errorf("Run = %v, want %v", got, Interrupted)
		}
	case <-time.After(time.Minute):
		t.Fatal("Run did not return after the flag was set")
	}
	if now := e.Now(); now != 5*Millisecond {
		t.Errorf("Now() = %v, want 5ms: the clock never moved", now)
	}
	if p := e.Pending(); p != 1 {
		t.Errorf("Pending() = %d, want the one event that reschedules itself", p)
	}
	if ex := e.Executed(); ex != executed.Load() || ex < 10*InterruptEvery {
		t.Errorf("Executed() = %d, the handler ran %d times; want them equal and at least %d", ex, executed.Load(), 10*InterruptEvery)
	}
}

// The interruption is noticed before the first event and then every
// InterruptEvery events, never between: the check stays off the hot path.
func TestInterruptIsCheckedEveryInterruptEvery(t *testing.T) {
	var e *Engine
	e = New(func(now Time, ev Event) { e.After(1, ev) })
	e.At(0, Event{Kind: 1})
	var calls []uint64 // Executed() at each call
	interruptAt := uint64(3*InterruptEvery + 1)
	e.SetInterrupt(func() bool {
		calls = append(calls, e.Executed())
		return e.Executed() >= interruptAt
	})
	if got := e.Run(Forever, 0); got != Interrupted {
		t.Fatalf("Run = %v, want %v", got, Interrupted)
	}
	want := []uint64{0, InterruptEvery, 2 * InterruptEvery, 3 * InterruptEvery, 4 * InterruptEvery}
	if !slices.Equal(calls, want) {
		t.Errorf("asked at %v executed events, want %v", calls, want)
	}
	if ex := e.Executed(); ex != 4*InterruptEvery {
		t.Errorf("Executed() = %d, want %d: the run ends at the first check that sees the flag", ex, 4*InterruptEvery)
	}
}

// An engine already interrupted runs nothing; once the function reports
// false again, a later Run carries on where the first one stopped.
func TestInterruptBeforeTheFirstEventAndResume(t *testing.T) {
	r := newRecorder(nil)
	for i := range 3 {
		r.e.At(Time(10*(i+1)), ev(int32(i)))
	}
	interrupted := true
	r.e.SetInterrupt(func() bool { return interrupted })
	if got := r.e.Run(Forever, 0); got != Interrupted {
		t.Fatalf("Run = %v, want %v", got, Interrupted)
	}
	if len(r.trace) != 0 || r.e.Now() != 0 || r.e.Pending() != 3 {
		t.Errorf("fired %v, Now() %v, Pending() %d; want nothing run, clock at 0, 3 pending", r.targets(), r.e.Now(), r.e.Pending())
	}
	interrupted = false
	if got := r.e.Run(Forever, 0); got != QueueEmpty {
		t.Errorf("Run after the interruption ended = %v, want %v", got, QueueEmpty)
	}
	if got := r.targets(); !slices.Equal(got, []int32{0, 1, 2}) {
		t.Errorf("fired %v, want [0 1 2]", got)
	}
}

// The event limit and the interruption share one check; the limit is still
// exact, whatever its size against InterruptEvery, and the function is
// still asked while the limit is far.
func TestInterruptKeepsTheEventLimitExact(t *testing.T) {
	for _, limit := range []uint64{1, InterruptEvery - 1, InterruptEvery, InterruptEvery + 1, 3*InterruptEvery + 7} {
		var e *Engine
		e = New(func(now Time, ev Event) { e.After(1, ev) })
		e.At(0, Event{Kind: 1})
		asked := 0
		e.SetInterrupt(func() bool { asked++; return false })
		if got := e.Run(Forever, limit); got != EventLimit {
			t.Errorf("limit %d: Run = %v, want %v", limit, got, EventLimit)
		}
		if ex := e.Executed(); ex != limit {
			t.Errorf("limit %d: Executed() = %d", limit, ex)
		}
		if want := int((limit-1)/InterruptEvery) + 1; asked != want {
			t.Errorf("limit %d: asked %d times, want %d", limit, asked, want)
		}
	}
}

func TestSetInterruptInsideHandlerPanics(t *testing.T) {
	r := newRecorder(func(r *recorder, now Time, ev Event) { r.e.SetInterrupt(nil) })
	r.e.At(1, ev(0))
	defer func() {
		if recover() == nil {
			t.Error("SetInterrupt from inside a handler did not panic")
		}
	}()
	r.e.Run(Forever, 0)
}
