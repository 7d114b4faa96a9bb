package validate

import (
	"context"
	"time"
)

// The replay's pacing. A Go timer wakes its goroutine up to a millisecond
// late on Linux (the runtime waits in epoll, whose timeout is in
// milliseconds), and a busy machine can keep the whole process off the CPU
// for several milliseconds more. Requests that fall due meanwhile would go
// out together; bunched at a node whose cache is cold, each would go to the
// store, where, spaced as the simulator spaced them, all but the first would
// have found the value in the node cache.
const (
	// coarseMargin is how long before an arrival a Go timer wakes the
	// replay, which sleeps the rest in nanosleep (tens of microseconds late
	// at most on an idle machine).
	coarseMargin = 2 * time.Millisecond
	// stallSlack is how late an arrival may be sent before the replay
	// counts a stall. The process then did not run for a while: the
	// drivers' timers, the store's replies and the upstream calls in it were
	// held up alike, so the rest of the timeline moves later by as much and
	// the requests keep their spacing, as if the whole real world had
	// paused, instead of all going out at once.
	stallSlack = 500 * time.Microsecond
	// catchUp is how much faster than scheduled the replay runs while a
	// stall has left it behind: gaps between arrivals shrink by this
	// fraction until the timeline is back on the clock, so that stalls do
	// not add up over a long run and move the requests against the store's
	// TTLs, which a stall of the process does not hold up.
	catchUp = 0.1
)

// pacer sends arrivals at their times from start, moved later by what the
// stalls so far have not been caught up.
type pacer struct {
	start  time.Time
	offset time.Duration // how far the timeline runs behind the schedule
	last   time.Duration // the previous arrival's time
	// Stalls and Behind count what the replay met: how many stalls, and
	// the furthest it ran behind the schedule.
	Stalls int
	Behind time.Duration

	now        func() time.Time                             // time.Now, but for tests
	sleepUntil func(ctx context.Context, t time.Time) error // sleepUntil, but for tests
}

func newPacer(start time.Time) *pacer {
	return &pacer{start: start, now: time.Now, sleepUntil: sleepUntil}
}

// wait blocks until the arrival at offset at from the start is due, and
// returns when it was sent, as an offset from the start; or ctx's error.
// Arrivals must come in time order.
func (p *pacer) wait(ctx context.Context, at time.Duration) (time.Duration, error) {
	if p.offset > 0 {
		p.offset = max(0, p.offset-time.Duration(catchUp*float64(at-p.last)))
	}
	p.last = at
	due := p.start.Add(p.offset + at)
	if err := p.sleepUntil(ctx, due); err != nil {
		return 0, err
	}
	now := p.now()
	if late := now.Sub(due); late > stallSlack {
		p.offset += late
		p.Stalls++
		p.Behind = max(p.Behind, p.offset)
	}
	return now.Sub(p.start), nil
}

// sleepUntil returns at t, or when ctx ends: a Go timer takes it to within
// coarseMargin, nanosleep the rest.
func sleepUntil(ctx context.Context, t time.Time) error {
	if d := time.Until(t); d > coarseMargin {
		tm := time.NewTimer(d - coarseMargin)
		select {
		case <-tm.C:
		case <-ctx.Done():
			tm.Stop()
			return ctx.Err()
		}
	}
	if d := time.Until(t); d > 0 {
		preciseSleep(d)
	}
	return ctx.Err()
}
