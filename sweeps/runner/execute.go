package runner

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/world"
)

// Options says how to run a plan's tasks.
type Options struct {
	// Simulate runs one task. Required.
	Simulate Simulate
	// Jobs is how many tasks run at once, at most; at least 1.
	Jobs int
	// Memory bounds the estimated memory (budget.RunCost.MemoryBytes) of
	// the tasks that run at once, so that two tasks that each fit the
	// machine's memory do not start together if both do not; zero sets no
	// bound. A task estimated above it runs alone.
	Memory float64
	// Progress, if set, is told of the work done and the work in all,
	// in units of estimated events, as tasks go (finished tasks whole,
	// running ones by their simulated time); calls do not overlap.
	Progress func(done, total float64)
}

// Execute runs the plan's tasks but those done says are done, in
// canonical order, up to opt.Jobs at once, and gives each finished task's
// row to onRow (calls do not overlap; an error from it stops the sweep).
// It returns when every task has finished, or when one has failed or ctx
// is done: then it stops the tasks still running, drops what they did,
// and returns the failure, or context.Cause(ctx).
func (p *Plan) Execute(ctx context.Context, opt Options, done func(reports.Key) bool, onRow func(reports.Row) error) error {
	if opt.Jobs < 1 {
		return fmt.Errorf("runner: %d jobs, want at least 1", opt.Jobs)
	}
	var todo []int
	var total, finished float64
	for i, t := range p.Tasks {
		total += t.weight()
		if done(t.Key()) {
			finished += t.weight()
		} else {
			todo = append(todo, i)
		}
	}
	capacity := int64(math.MaxInt64)
	if opt.Memory > 0 {
		capacity = int64(math.Min(opt.Memory, math.MaxInt64))
	}
	mem := semaphore.NewWeighted(capacity)
	run, stop := context.WithCancelCause(ctx)
	defer stop(nil)

	var mu sync.Mutex // guards the progress, onRow and failure
	running := map[int]float64{}
	var failure error
	report := func() { // with mu held
		if opt.Progress == nil {
			return
		}
		d := finished
		for i, frac := range running {
			d += frac * p.Tasks[i].weight()
		}
		opt.Progress(d, total)
	}
	fail := func(err error) { // with mu held
		if failure == nil {
			failure = err
			stop(err)
		}
	}

	queue := make(chan int)
	var wg sync.WaitGroup
	for range min(opt.Jobs, len(todo)) {
		wg.Go(func() {
			for i := range queue {
				t := p.Tasks[i]
				w := min(int64(math.Max(t.Cost.MemoryBytes, 1)), capacity)
				if err := mem.Acquire(run, w); err != nil {
					continue // stopped: the queue drains
				}
				progress := func(d, all time.Duration) {
					mu.Lock()
					defer mu.Unlock()
					if all > 0 && run.Err() == nil {
						running[i] = math.Min(float64(d)/float64(all), 1)
						report()
					}
				}
				res, err := opt.Simulate(run, t.Resolved, t.Topology, world.Options{Progress: progress})
				mem.Release(w)
				mu.Lock()
				delete(running, i)
				switch {
				case run.Err() != nil:
					// Stopped: what it did is dropped.
				case err != nil:
					fail(fmt.Errorf("point %d of %d (%s), repeat %d, topology %s: %w",
						t.Point.Index+1, len(p.Points), t.Point.Label(), t.Repeat, t.Topology.Name, err))
				default:
					if err := onRow(t.Row(p.Sweep, res)); err != nil {
						fail(err)
					} else {
						finished += t.weight()
						report()
					}
				}
				mu.Unlock()
			}
		})
	}
	for _, i := range todo {
		if run.Err() != nil {
			break
		}
		queue <- i
	}
	close(queue)
	wg.Wait()
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return failure
}
