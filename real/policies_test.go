package real_test

// This file holds the scenarios of the cache policies beyond locking
// (stale-while-revalidate, XFetch, TTL jitter, adaptive wait timeouts),
// run against the embedded miniredis and a redis-server, and the tests of
// the refresh goroutines, which need no store.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/real"
	"github.com/stampsim/stampsim/real/redistest"
)

var policyScenarios = []struct {
	name string
	run  func(*testing.T, *backend)
}{
	{"revalidate across nodes", scenarioRevalidate},
	{"failed refresh serves stale", scenarioFailedRefresh},
	{"xfetch at the shared cache", scenarioXFetchShared},
	{"adaptive wait", scenarioAdaptiveWait},
	{"ttl jitter", scenarioTTLJitter},
}

func TestPoliciesOnMiniredis(t *testing.T) {
	for _, sc := range policyScenarios {
		t.Run(sc.name, func(t *testing.T) {
			noLeaks(t)
			b, _ := miniBackend(t)
			sc.run(t, b)
		})
	}
}

func TestPoliciesOnRedisServer(t *testing.T) {
	b := serverBackend(redistest.StartT(t))
	for _, sc := range policyScenarios {
		t.Run(sc.name, func(t *testing.T) {
			noLeaks(t)
			sc.run(t, b)
		})
	}
}

// swrTopology is two-level with a hard TTL at both levels.
func swrTopology(nodeHard, regionHard time.Duration) locks.Topology {
	return locks.Topology{Name: "two-level-swr", Levels: []locks.Level{
		{Scope: locks.ScopeNode, WaitTimeout: 5 * time.Second, HardTTL: nodeHard},
		{Scope: locks.ScopeRegion, LeaseTTL: 5 * time.Second, WaitTimeout: 5 * time.Second, PollInterval: 50 * time.Millisecond, HardTTL: regionHard},
	}}
}

// Three nodes hold a value past its soft TTL at both levels: a stampede of
// 300 callers on them is served at once, every caller the stale value
// (revalidating), while one background refresh per node goes to the
// region, where its lock lets one call the upstream and the others take
// its value (superseded). The next requests get the new value.
func scenarioRevalidate(t *testing.T, b *backend) {
	opt := real.Options{Topology: swrTopology(5*time.Second, 5*time.Second), NodeCacheTTL: 200 * time.Millisecond, SharedCacheTTL: 300 * time.Millisecond}
	ds := newDrivers(t, b, 3, opt)
	u := &upstream{delay: 50 * time.Millisecond, value: "v"}
	for _, d := range ds {
		if _, err := d.Do(context.Background(), "swr", u.fetch); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(400 * time.Millisecond) // past both soft TTLs
	for i, o := range stampede(ds, 300, "swr", u.fetch) {
		if o.err != nil || o.res.Served != locks.ServedStaleRevalidating || string(o.res.Value) != "v#1" {
			t.Fatalf("caller %d: %q served %v (%v), want the stale v#1 at once (revalidating)", i, o.res.Value, o.res.Served, o.err)
		}
	}
	var s real.Stats
	waitFor(t, 10*time.Second, "the refreshes to end", func() bool {
		s = real.Stats{}
		for _, d := range ds {
			x := d.Stats()
			s.Refreshes += x.Refreshes
			for i, n := range x.RefreshOutcomes {
				s.RefreshOutcomes[i] += n
			}
		}
		ended := s.RefreshOutcomes[locks.OutcomeRefreshed] + s.RefreshOutcomes[locks.OutcomeSuperseded] + s.RefreshOutcomes[locks.OutcomeFailed]
		return s.Refreshes == 3 && ended == 3
	})
	if s.RefreshOutcomes != [locks.NumOutcomes]uint64{1, 2, 0} || u.calls.Load() != 2 {
		t.Errorf("refresh outcomes %v and %d upstream calls, want 1 refreshed, 2 superseded, 0 failed and 2 calls", s.RefreshOutcomes, u.calls.Load())
	}
	for i, d := range ds {
		r, err := d.Do(context.Background(), "swr", u.fetch)
		if err != nil || r.Served != locks.ServedHit || string(r.Value) != "v#2" {
			t.Errorf("node %d after the refresh: %q served %v (%v), want the refreshed v#2, a hit", i, r.Value, r.Served, err)
		}
	}
}

// A refresh that fails leaves the stale value served, until the hard TTL;
// past it, requests wait for the upstream as without stale-while-revalidate.
func scenarioFailedRefresh(t *testing.T, b *backend) {
	const nodeSoft, nodeHard = 100 * time.Millisecond, 900 * time.Millisecond
	opt := real.Options{Topology: swrTopology(nodeHard, 1200*time.Millisecond), NodeCacheTTL: nodeSoft, SharedCacheTTL: 150 * time.Millisecond}
	d := newDriver(t, b, opt)
	var calls atomic.Int64
	broken := errors.New("origin down")
	fetch := func(context.Context) ([]byte, error) {
		if calls.Add(1) == 1 {
			return []byte("good"), nil
		}
		return nil, broken
	}
	filled := time.Now()
	if _, err := d.Do(context.Background(), "f", fetch); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * nodeSoft)
	for i := 0; time.Since(filled) < nodeHard-200*time.Millisecond; i++ {
		r, err := d.Do(context.Background(), "f", fetch)
		if err != nil || r.Served != locks.ServedStaleRevalidating || string(r.Value) != "good" {
			t.Fatalf("request %d, %v after the fill: %q served %v (%v), want the stale value (revalidating)", i, time.Since(filled), r.Value, r.Served, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	waitFor(t, 5*time.Second, "a refresh to fail", func() bool { return d.Stats().RefreshOutcomes[locks.OutcomeFailed] > 0 })
	time.Sleep(time.Until(filled.Add(1300 * time.Millisecond))) // past both hard TTLs
	r, err := d.Do(context.Background(), "f", fetch)
	if !errors.Is(err, broken) || r.Served != locks.ServedError {
		t.Errorf("past the hard TTL: served %v (%v), want the upstream's error", r.Served, err)
	}
	if s := d.Stats(); s.RefreshOutcomes[locks.OutcomeRefreshed] != 0 || s.UpstreamErrors == 0 {
		t.Errorf("refresh outcomes %v, %d upstream errors; want no refresh to succeed", s.RefreshOutcomes, s.UpstreamErrors)
	}
}

// XFetch at the shared cache: the value carries the recompute time the
// driver measured, in its entry; a reader without a node cache whose draw
// says so is served the fresh value at once (a hit) and refreshes it in
// the background, behind the region's lock; a draw of 1 never refreshes.
func scenarioXFetchShared(t *testing.T, b *backend) {
	topo := topology(t, "one-level", level(5*time.Second, 5*time.Second, 50*time.Millisecond, locks.PolicyInvoke))
	opt := real.Options{Topology: topo, SharedCacheTTL: 10 * time.Second, NodeCacheTTL: -1, XFetchBeta: 1}
	d := newDriver(t, b, opt)
	u := &upstream{delay: 120 * time.Millisecond, value: "x"}
	if _, err := d.DoDrawn(context.Background(), "xf", 1, u.fetch); err != nil {
		t.Fatal(err)
	}
	c := b.client(t)
	var stored string
	waitFor(t, 5*time.Second, "the value's publish", func() bool { // it follows the reply
		var err error
		stored, err = c.Get(context.Background(), real.DefaultPrefix+"region:{xf}:v").Result()
		return err == nil
	})
	digits, rest, ok := strings.Cut(strings.TrimPrefix(stored, "\xffXF"), ":")
	us, _ := strconv.Atoi(digits)
	if !ok || rest != "x#1" || us < 120_000 || us > 1_000_000 {
		t.Errorf("the shared entry is %q, want the value x#1 with its recompute time, 120ms or a little more", stored)
	}
	if r, err := d.DoDrawn(context.Background(), "xf", 1, u.fetch); err != nil || r.Served != locks.ServedHit {
		t.Fatalf("a draw of 1: served %v (%v), want a hit", r.Served, err)
	}
	// factor 700 (u = e^-700): 10s left is within 700 times 120ms.
	r, err := d.DoDrawn(context.Background(), "xf", math.Exp(-700), u.fetch)
	if err != nil || r.Served != locks.ServedHit || string(r.Value) != "x#1" {
		t.Fatalf("a draw due for an early refresh: %q served %v (%v), want the fresh x#1 at once (a hit)", r.Value, r.Served, err)
	}
	waitFor(t, 5*time.Second, "the early refresh", func() bool { return d.Stats().RefreshOutcomes[locks.OutcomeRefreshed] == 1 })
	s := d.Stats()
	if s.EarlyReads != 1 || s.Refreshes != 1 || u.calls.Load() != 2 {
		t.Errorf("%d early reads, %d refreshes, %d upstream calls; want 1, 1 and 2", s.EarlyReads, s.Refreshes, u.calls.Load())
	}
	waitFor(t, 5*time.Second, "the refreshed value", func() bool {
		r, err := d.DoDrawn(context.Background(), "xf", 1, u.fetch)
		return err == nil && string(r.Value) == "x#2"
	})
}

// An adaptive wait timeout follows the upstream calls the driver measured:
// a node that has seen 300ms calls waits for another node's 200ms call,
// where a fixed 50ms timeout hedges.
func scenarioAdaptiveWait(t *testing.T, b *backend) {
	for _, tc := range []struct {
		name     string
		adaptive bool
		hedges   uint64
	}{{"fixed", false, 1}, {"adaptive", true, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			noLeaks(t)
			region := locks.Level{Scope: locks.ScopeRegion, LeaseTTL: 5 * time.Second, WaitTimeout: 50 * time.Millisecond, PollInterval: 20 * time.Millisecond}
			if tc.adaptive {
				region.AdaptiveQuantile, region.AdaptiveFloor, region.AdaptiveCeiling = 0.5, 50*time.Millisecond, 5*time.Second
			}
			opt := real.Options{Topology: locks.Topology{Name: "one-level", Levels: []locks.Level{region}}, NodeCacheTTL: -1}
			holder, waiter := newDriver(t, b, opt), newDriver(t, b, opt)
			slow := &upstream{delay: 300 * time.Millisecond, value: "s"}
			if _, err := waiter.Do(context.Background(), tc.name+"-learn", slow.fetch); err != nil {
				t.Fatal(err)
			}
			w := waiter.Stats().Levels[0].WaitTimeout
			if want := 300 * time.Millisecond; tc.adaptive && (w < want || w > 2*want) || !tc.adaptive && w != region.WaitTimeout {
				t.Fatalf("wait timeout %v after a 300ms call (adaptive %v)", w, tc.adaptive)
			}
			u := &upstream{delay: 200 * time.Millisecond, value: "h"}
			done := make(chan error, 1)
			go func() {
				_, err := holder.Do(context.Background(), tc.name, u.fetch)
				done <- err
			}()
			waitFor(t, 5*time.Second, "the holder's call", func() bool { return u.calls.Load() == 1 })
			r, err := waiter.Do(context.Background(), tc.name, u.fetch)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if err != nil || waiter.Stats().Hedges != tc.hedges {
				t.Errorf("the waiter was served %v (%v) with %d hedges, want %d", r.Served, err, waiter.Stats().Hedges, tc.hedges)
			}
		})
	}
}

// TTL jitter shortens each fill's TTLs by its own fraction: keys cached
// together expire in the shared cache at different times, never later
// than the TTL.
func scenarioTTLJitter(t *testing.T, b *backend) {
	const ttl = 10 * time.Second
	topo := topology(t, "one-level", level(0, 0, 0, locks.PolicyInvoke))
	d := newDriver(t, b, real.Options{Topology: topo, SharedCacheTTL: ttl, NodeCacheTTL: -1, TTLJitter: 0.5})
	u := &upstream{value: "j"}
	c := b.client(t)
	ttls := map[time.Duration]bool{}
	for i := range 20 {
		key := fmt.Sprintf("j%d", i)
		if _, err := d.Do(context.Background(), key, u.fetch); err != nil {
			t.Fatal(err)
		}
		var left time.Duration
		waitFor(t, 5*time.Second, "the value's publish", func() bool { // it follows the reply
			var err error
			left, err = c.PTTL(context.Background(), real.DefaultPrefix+"region:{"+key+"}:v").Result()
			return err == nil && left > 0
		})
		// Jitter 0.5 leaves at least half the TTL; a second of slack
		// covers the time since the write.
		if left <= ttl/2-time.Second || left > ttl {
			t.Errorf("key %s cached for %v, want within (%v, %v]", key, left, ttl/2-time.Second, ttl)
		}
		ttls[left.Round(100*time.Millisecond)] = true
	}
	if len(ttls) < 10 {
		t.Errorf("20 keys cached together got %d distinct TTLs (to 100ms), want them spread", len(ttls))
	}
}

// constSource is an XFetch source whose every draw is the given word.
type constSource uint64

func (s constSource) Uint64() uint64 { return uint64(s) }

// Background refreshes run on at most MaxRefreshes goroutines: 12 keys going
// stale at once make 12 refreshes, at most 2 of them calling the upstream
// at a time, and all of them done in the end; the queue is not counted as
// the upstream's latency, which the node level's adaptive timeout shows.
func TestRefreshesRunOnBoundedGoroutines(t *testing.T) {
	noLeaks(t)
	node := locks.Level{Scope: locks.ScopeNode, WaitTimeout: time.Second, HardTTL: time.Minute,
		AdaptiveQuantile: 0.99, AdaptiveFloor: time.Millisecond, AdaptiveCeiling: time.Minute}
	d, err := real.New(real.Options{Topology: locks.Topology{Name: "node-only", Levels: []locks.Level{node}}, NodeCacheTTL: 50 * time.Millisecond, MaxRefreshes: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var running, peak atomic.Int64
	var mu sync.Mutex
	fetch := func(context.Context) ([]byte, error) {
		n := running.Add(1)
		mu.Lock()
		peak.Store(max(peak.Load(), n))
		mu.Unlock()
		time.Sleep(30 * time.Millisecond)
		running.Add(-1)
		return []byte("v"), nil
	}
	const keys = 12
	for i := range keys {
		if _, err := d.Do(context.Background(), fmt.Sprint("k", i), fetch); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(60 * time.Millisecond)
	for i := range keys {
		if r, err := d.Do(context.Background(), fmt.Sprint("k", i), fetch); err != nil || r.Served != locks.ServedStaleRevalidating {
			t.Fatalf("key %d past its soft TTL: served %v (%v), want revalidating", i, r.Served, err)
		}
	}
	waitFor(t, 10*time.Second, "every refresh", func() bool { return d.Stats().RefreshOutcomes[locks.OutcomeRefreshed] == keys })
	if p := peak.Load(); p > 2 {
		t.Errorf("%d refreshes called the upstream at once, want at most 2", p)
	}
	// The last refreshes waited some 150ms in the queue; the 99th
	// percentile of the calls is still about their own 30ms.
	if w := d.Stats().Levels[0].WaitTimeout; w > 100*time.Millisecond {
		t.Errorf("adaptive wait timeout %v after 30ms calls, want the calls' own durations, not their queueing", w)
	}
}

// Close cancels a background refresh in progress and one waiting for a
// goroutine, and waits for them: nothing is left running.
func TestCloseCancelsRefreshes(t *testing.T) {
	noLeaks(t)
	node := locks.Level{Scope: locks.ScopeNode, WaitTimeout: time.Second, HardTTL: time.Minute}
	d, err := real.New(real.Options{Topology: locks.Topology{Name: "node-only", Levels: []locks.Level{node}}, NodeCacheTTL: 20 * time.Millisecond, MaxRefreshes: 1})
	if err != nil {
		t.Fatal(err)
	}
	var first atomic.Bool
	var hanging, cancelled atomic.Int64
	fetch := func(ctx context.Context) ([]byte, error) {
		if first.CompareAndSwap(false, true) {
			return []byte("v"), nil
		}
		hanging.Add(1)
		<-ctx.Done() // a refresh that hangs until cancelled
		cancelled.Add(1)
		return nil, ctx.Err()
	}
	for _, k := range []string{"a", "b"} {
		first.Store(false)
		if _, err := d.Do(context.Background(), k, fetch); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(40 * time.Millisecond)
	for _, k := range []string{"a", "b"} { // a's refresh runs, b's waits
		if r, err := d.Do(context.Background(), k, fetch); err != nil || r.Served != locks.ServedStaleRevalidating {
			t.Fatalf("%s: served %v (%v), want revalidating", k, r.Served, err)
		}
	}
	waitFor(t, 5*time.Second, "the first refresh to call", func() bool { return hanging.Load() == 1 && d.Stats().UpstreamCalls[locks.CauseNoLock] == 4 })
	start := time.Now()
	d.Close()
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Close took %v with a hanging refresh", took)
	}
	if n := cancelled.Load(); n != 1 {
		t.Errorf("%d refreshes saw their context cancelled, want the 1 that was running (the queued one is not called)", n)
	}
}

// Do draws XFetch's uniforms from Options.XFetchSource: a source whose
// draws make u = 1 never refreshes early; one whose draws make u tiny
// refreshes each fresh node-cache hit's key, one refresh at a time.
func TestXFetchDrawsFromTheSource(t *testing.T) {
	for _, tc := range []struct {
		name  string
		src   constSource
		early bool
	}{{"u=1", 0, false}, {"u tiny", math.MaxUint64, true}} {
		t.Run(tc.name, func(t *testing.T) {
			noLeaks(t)
			topo := locks.Topology{Name: "node-only", Levels: []locks.Level{{Scope: locks.ScopeNode, WaitTimeout: time.Second}}}
			// u = 2^-53 makes the factor 36.7: 36.7 times the 20ms call is
			// more than the 500ms the value has left.
			d, err := real.New(real.Options{Topology: topo, NodeCacheTTL: 500 * time.Millisecond, XFetchBeta: 1, XFetchSource: tc.src})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			u := &upstream{delay: 20 * time.Millisecond, value: "v"}
			if _, err := d.Do(context.Background(), "k", u.fetch); err != nil {
				t.Fatal(err)
			}
			r, err := d.Do(context.Background(), "k", u.fetch)
			if err != nil || r.Served != locks.ServedHit {
				t.Fatalf("served %v (%v), want a hit", r.Served, err)
			}
			if tc.early {
				waitFor(t, 5*time.Second, "the early refresh", func() bool { return d.Stats().RefreshOutcomes[locks.OutcomeRefreshed] == 1 })
			} else {
				time.Sleep(50 * time.Millisecond)
			}
			if s := d.Stats(); (s.EarlyRefreshes == 1) != tc.early || u.calls.Load() != map[bool]int64{false: 1, true: 2}[tc.early] {
				t.Errorf("%d early refreshes, %d upstream calls; want early %v", s.EarlyRefreshes, u.calls.Load(), tc.early)
			}
		})
	}
}
