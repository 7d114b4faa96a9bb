package world

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/sim"
)

var errSignal = errors.New("interrupted by a test")

// A run interrupted part way returns what happened until then, marked, and
// the context's cause. Here every request of the burst arrives at one
// instant, so the virtual clock stands still while the run is stopped: only
// the engine's interruption check can end it, a few thousand events after
// the context is cancelled.
func TestInterruptedRunKeepsWhatHappened(t *testing.T) {
	const cancelAfter = 5000
	sc := flashCrowd(100_000)
	sc.Workload.Bursts[0].Over = 0
	topo, _ := locks.Builtin("two-level", defaults(sc))
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	seen := 0
	out, err := Run(ctx, resolve(t, sc), topo, Options{
		OnRequest: func(time.Duration, int, int) {
			if seen++; seen == cancelAfter {
				cancel(errSignal)
			}
		},
	})
	if !errors.Is(err, errSignal) {
		t.Fatalf("Run error = %v, want the cause given to cancel", err)
	}
	if !out.Interrupted || out.Topology != "two-level" {
		t.Errorf("Interrupted %v, topology %q: want a marked run of two-level", out.Interrupted, out.Topology)
	}
	// Each arrival is at least one event, and the engine looks at the
	// context every sim.InterruptEvery events.
	if out.Requests < cancelAfter || out.Requests > cancelAfter+sim.InterruptEvery {
		t.Errorf("%d requests counted, want %d to %d: the run stops within one check of the cancel", out.Requests, cancelAfter, cancelAfter+sim.InterruptEvery)
	}
	if out.SimSeconds != 1 {
		t.Errorf("sim_seconds %v, want 1: the burst's instant, where the clock stood", out.SimSeconds)
	}
	if out.Unfinished == 0 || out.Events == 0 {
		t.Errorf("unfinished %d, events %d: want the requests still waiting and the events run so far", out.Unfinished, out.Events)
	}
}

// A context done before the run begins runs nothing: neither the world's
// building (seconds for a large fleet) nor the simulation.
func TestInterruptedBeforeTheStart(t *testing.T) {
	sc := flashCrowd(100)
	topo, _ := locks.Builtin("two-level", defaults(sc))
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errSignal)
	out, err := Run(ctx, resolve(t, sc), topo, Options{OnRequest: func(time.Duration, int, int) { t.Error("a request was simulated") }})
	if !errors.Is(err, errSignal) || out.Topology != "" {
		t.Errorf("Run = %+v, %v; want the zero Run and the cause", out, err)
	}
	if w, err := build(ctx, resolve(t, sc), topo, Options{}); !errors.Is(err, errSignal) || w != nil {
		t.Errorf("build = %v, %v; want it to stop at the first node with the cause", w, err)
	}
}
