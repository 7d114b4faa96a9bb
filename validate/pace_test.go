package validate

import (
	"context"
	"testing"
	"time"
)

// fakeClock is a clock that sleeping moves, plus a stall injected before
// chosen arrivals.
type fakeClock struct {
	t      time.Time
	stalls map[int]time.Duration // by the number of the sleep
	sleeps int
}

func (c *fakeClock) now() time.Time { return c.t }

func (c *fakeClock) sleepUntil(_ context.Context, t time.Time) error {
	if t.After(c.t) {
		c.t = t
	}
	c.t = c.t.Add(c.stalls[c.sleeps])
	c.sleeps++
	return nil
}

// Arrivals go out at their times until a stall; after it the timeline
// keeps the requests' spacing, 3ms late, and then catches up by a tenth of
// every gap until it is back on time.
func TestPacerKeepsSpacingAfterAStall(t *testing.T) {
	start := time.Unix(1000, 0)
	c := &fakeClock{t: start, stalls: map[int]time.Duration{2: 3 * time.Millisecond}}
	p := &pacer{start: start, now: c.now, sleepUntil: c.sleepUntil}
	var sent []time.Duration
	for i := range 40 {
		at, err := p.wait(context.Background(), time.Duration(i)*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, at)
	}
	ms := time.Millisecond
	want := map[int]time.Duration{0: 0, 1: 1 * ms, 2: 5 * ms, 3: 6*ms - ms/10, 4: 7*ms - 2*ms/10}
	for i, w := range want {
		if sent[i] != w {
			t.Errorf("arrival %d sent at %v, want %v", i, sent[i], w)
		}
	}
	if p.Stalls != 1 || p.Behind != 3*ms {
		t.Errorf("%d stalls, %v behind at most; want 1 and 3ms", p.Stalls, p.Behind)
	}
	// 3ms at a tenth of each 1ms gap takes 30 gaps.
	for i := 33; i < 40; i++ {
		if sent[i] != time.Duration(i)*ms {
			t.Errorf("arrival %d sent at %v, want it back on time at %v", i, sent[i], time.Duration(i)*ms)
		}
	}
	// Lateness within the slack is not a stall.
	c = &fakeClock{t: start, stalls: map[int]time.Duration{1: stallSlack}}
	p = &pacer{start: start, now: c.now, sleepUntil: c.sleepUntil}
	for i := range 3 {
		if _, err := p.wait(context.Background(), time.Duration(i)*ms); err != nil {
			t.Fatal(err)
		}
	}
	if p.Stalls != 0 {
		t.Errorf("%d stalls for lateness of %v, want none", p.Stalls, stallSlack)
	}
}

// The real sleep ends at its time, not before, and a cancelled context ends
// it at once.
func TestSleepUntil(t *testing.T) {
	for _, d := range []time.Duration{0, 300 * time.Microsecond, 3 * time.Millisecond} {
		target := time.Now().Add(d)
		if err := sleepUntil(context.Background(), target); err != nil {
			t.Fatal(err)
		}
		if late := time.Since(target); late < 0 {
			t.Errorf("sleep of %v ended %v early", d, -late)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	t0 := time.Now()
	if err := sleepUntil(ctx, time.Now().Add(time.Hour)); err != context.Canceled {
		t.Errorf("cancelled sleep returned %v, want context.Canceled", err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Errorf("cancelled sleep took %v", d)
	}
}
