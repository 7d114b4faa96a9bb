package real_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/alicebob/miniredis/v2/server"
	"github.com/redis/go-redis/v9"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/real"
)

// miniBackend runs the scenarios on an embedded miniredis whose TTLs run
// with the wall clock, so that leases expire as they would on a server.
func miniBackend(t *testing.T) (*backend, *miniredis.Miniredis) {
	m := miniredis.RunT(t)
	m.ClockTTL(true)
	b := &backend{
		name: "miniredis",
		client: func(t *testing.T) redis.UniversalClient {
			c := redis.NewClient(&redis.Options{Addr: m.Addr(), MaxRetries: -1, ContextTimeoutEnabled: true})
			t.Cleanup(func() { c.Close() })
			return c
		},
		outage: func(t *testing.T) func() {
			m.SetError("LOADING the test's outage")
			return func() { m.SetError("") }
		},
		// miniredis has no INFO commandstats: count what its dispatcher runs.
		// The driver sends only scripts and (un)subscriptions, so those are
		// its round trips; everything the scripts run is a command too.
		measure: func(t *testing.T, f func()) (uint64, uint64) {
			var trips, cmds atomic.Uint64
			m.Server().SetPreHook(func(_ *server.Peer, cmd string, _ ...string) bool {
				switch strings.ToLower(cmd) {
				case "evalsha", "eval", "subscribe", "unsubscribe":
					trips.Add(1)
				case "hello", "client", "ping", "script":
					return false
				}
				cmds.Add(1)
				return false
			})
			defer m.Server().SetPreHook(nil)
			f()
			return trips.Load(), cmds.Load()
		},
	}
	return b, m
}

func TestMiniredis(t *testing.T) {
	for _, sc := range []struct {
		name string
		run  func(*testing.T, *backend)
	}{
		{"stampede", scenarioStampede},
		{"round-trip budget", scenarioRoundTripBudget},
		{"fence TTL", scenarioFenceTTL},
		{"dead holder", scenarioDeadHolder},
		{"stale token", scenarioStaleToken},
		{"outage", scenarioOutage},
		{"cancel", scenarioCancel},
	} {
		t.Run(sc.name, func(t *testing.T) {
			noLeaks(t)
			b, _ := miniBackend(t)
			sc.run(t, b)
		})
	}
}

// The driver starts no goroutine per waiting caller: thousands of callers
// waiting for one key cost it a few goroutines.
func TestWaitingCallersCostNoGoroutines(t *testing.T) {
	noLeaks(t)
	b, _ := miniBackend(t)
	d := newDriver(t, b, real.Options{Topology: topology(t, "two-level", level(0, 0, 0, locks.PolicyFail))})
	const callers = 5000 // the race detector allows 8,128 goroutines
	release := make(chan struct{})
	base := runtime.NumGoroutine()
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := d.Do(context.Background(), "k", func(ctx context.Context) ([]byte, error) {
				select {
				case <-release:
				case <-ctx.Done():
				}
				return []byte("v"), nil
			})
			if err != nil {
				failed.Add(1)
			}
		}()
	}
	waitFor(t, 20*time.Second, "every caller to wait", func() bool { return d.Stats().Waiting == callers })
	extra := runtime.NumGoroutine() - base - callers
	close(release)
	wg.Wait()
	// The fetch, the timer loop, a renewal or two: a handful, not thousands.
	if extra > 16 {
		t.Errorf("the driver runs %d goroutines for %d waiting callers, want a handful", extra, callers)
	}
	if failed.Load() != 0 {
		t.Errorf("%d callers failed", failed.Load())
	}
}

// A follower whose node-level wait times out calls the upstream with its own
// fetch function, not the owner's.
func TestHedgingFollowerUsesItsOwnFetch(t *testing.T) {
	noLeaks(t)
	b, _ := miniBackend(t)
	d := newDriver(t, b, real.Options{Topology: topology(t, "node-only", level(0, 50*time.Millisecond, 0, locks.PolicyInvoke))})
	release := make(chan struct{})
	owner := make(chan outcome, 1)
	go func() {
		r, err := d.Do(context.Background(), "k", func(context.Context) ([]byte, error) { <-release; return []byte("owner's"), nil })
		owner <- outcome{res: r, err: err}
	}()
	waitFor(t, 5*time.Second, "the owner's fetch", func() bool { return upstreamCalls(d.Stats()) == 1 })
	r, err := d.Do(context.Background(), "k", func(context.Context) ([]byte, error) { return []byte("follower's"), nil })
	if err != nil || string(r.Value) != "follower's" || r.Served != locks.ServedHedged {
		t.Errorf("the follower got %q served %v (%v), want its own fetch's value, hedged", r.Value, r.Served, err)
	}
	close(release)
	if o := <-owner; o.err != nil || string(o.res.Value) != "owner's" || o.res.Served != locks.ServedFetched {
		t.Errorf("the owner got %q served %v (%v), want its own fetch's value, fetched", o.res.Value, o.res.Served, o.err)
	}
}

// A fetch that does not return by the fetch timeout fails its flight, even
// if the fetch function ignores its context.
func TestFetchTimeoutEndsTheFlight(t *testing.T) {
	noLeaks(t)
	b, _ := miniBackend(t)
	d := newDriver(t, b, real.Options{Topology: topology(t, "two-level", level(0, 0, 0, locks.PolicyFail)), FetchTimeout: 100 * time.Millisecond})
	release := make(chan struct{})
	defer close(release) // before Close, which waits for the fetch
	_, err := d.Do(context.Background(), "k", func(context.Context) ([]byte, error) { <-release; return []byte("late"), nil })
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), `"k"`) {
		t.Errorf("got %v, want a deadline error naming the key", err)
	}
	if s := d.Stats(); s.UpstreamErrors != 1 {
		t.Errorf("%d upstream errors counted, want 1", s.UpstreamErrors)
	}
}

// Close aborts the flights in progress, cancels their fetches and releases
// the locks they hold.
func TestCloseReleasesLocks(t *testing.T) {
	noLeaks(t)
	b, m := miniBackend(t)
	d := newDriver(t, b, real.Options{Topology: topology(t, "two-level", level(time.Minute, 0, 0, locks.PolicyFail))})
	done := make(chan error, 1)
	go func() {
		_, err := d.Do(context.Background(), "k", func(ctx context.Context) ([]byte, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		})
		done <- err
	}()
	waitFor(t, 5*time.Second, "the lock", func() bool { return m.Exists("stampsim:region:{k}:l") })
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, locks.ErrAborted) {
		t.Errorf("the caller got %v, want %v", err, locks.ErrAborted)
	}
	if m.Exists("stampsim:region:{k}:l") {
		t.Errorf("the lock is still there after Close: %+v", d.Stats().Store[locks.ScopeRegion])
	}
	if _, err := d.Do(context.Background(), "k", (&upstream{}).fetch); !errors.Is(err, real.ErrClosed) {
		t.Errorf("Do after Close: %v, want %v", err, real.ErrClosed)
	}
}

// In poll mode waiters never subscribe, and still collapse.
func TestPollModeCollapsesWithoutSubscribing(t *testing.T) {
	noLeaks(t)
	b, _ := miniBackend(t)
	l := level(0, 0, 20*time.Millisecond, locks.PolicyFail)
	l.Wake = locks.WakePoll
	ds := newDrivers(t, b, 4, real.Options{Topology: topology(t, "two-level", l)})
	u := &upstream{delay: 100 * time.Millisecond, value: "v"}
	for i, o := range stampede(ds, 100, "k", u.fetch) {
		if o.err != nil {
			t.Fatalf("caller %d: %v", i, o.err)
		}
	}
	s := totals(ds)
	if u.calls.Load() != 1 || s.Store[locks.ScopeRegion][locks.OpSubscribe].Ops != 0 || s.Notifications != 0 {
		t.Errorf("%d upstream calls, %d subscriptions, %d notifications; want 1, 0, 0",
			u.calls.Load(), s.Store[locks.ScopeRegion][locks.OpSubscribe].Ops, s.Notifications)
	}
}

// recorder is an Observer that adds everything up.
type recorder struct {
	mu                sync.Mutex
	trips, cmds       int
	contend, peak     int
	fetches, replies  int
	served            [locks.NumServed]int
	negativeLatencies int
	untimed           int // script operations sent but reported without a duration
}

func (r *recorder) StoreOp(_ locks.Scope, kind locks.OpKind, trips, cmds int, took time.Duration) {
	r.mu.Lock()
	r.trips += trips
	r.cmds += cmds
	if trips > 0 && took <= 0 && kind != locks.OpSubscribe && kind != locks.OpUnsubscribe {
		r.untimed++
	}
	r.mu.Unlock()
}

func (r *recorder) Contend(_ int, _ string, delta int) {
	r.mu.Lock()
	r.contend += delta
	r.peak = max(r.peak, r.contend)
	r.mu.Unlock()
}

func (r *recorder) Fetch(locks.Cause) {
	r.mu.Lock()
	r.fetches++
	r.mu.Unlock()
}

func (r *recorder) Reply(s locks.Served, latency time.Duration) {
	r.mu.Lock()
	r.replies++
	r.served[s]++
	if latency < 0 {
		r.negativeLatencies++
	}
	r.mu.Unlock()
}

// The observer sees what Stats counts.
func TestObserverSeesWhatStatsCount(t *testing.T) {
	noLeaks(t)
	b, _ := miniBackend(t)
	rec := &recorder{}
	ds := newDrivers(t, b, 3, real.Options{Topology: topology(t, "two-level", level(0, 0, 0, locks.PolicyFail)), Observer: rec})
	u := &upstream{delay: 50 * time.Millisecond, value: "v"}
	stampede(ds, 90, "k", u.fetch)
	for _, d := range ds {
		d.Close() // every store operation has finished
	}
	s := totals(ds)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if uint64(rec.trips) != s.RoundTrips() || uint64(rec.cmds) != s.Commands() {
		t.Errorf("observer: %d round trips, %d commands; Stats: %d, %d", rec.trips, rec.cmds, s.RoundTrips(), s.Commands())
	}
	if uint64(rec.fetches) != upstreamCalls(s) || uint64(rec.replies) != s.Requests || rec.replies != 90 {
		t.Errorf("observer: %d fetches, %d replies; Stats: %d, %d requests", rec.fetches, rec.replies, upstreamCalls(s), s.Requests)
	}
	for i := range rec.served {
		if uint64(rec.served[i]) != s.Served[i] {
			t.Errorf("observer: %d served %v, Stats: %d", rec.served[i], locks.Served(i), s.Served[i])
		}
	}
	if rec.contend != 0 || rec.peak < 1 || rec.negativeLatencies != 0 || rec.untimed != 0 {
		t.Errorf("observer: contenders end at %d with peak %d, %d negative latencies, %d untimed operations; want 0, at least 1, 0, 0",
			rec.contend, rec.peak, rec.negativeLatencies, rec.untimed)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	noLeaks(t)
	b, _ := miniBackend(t)
	c := b.client(t)
	clients := map[locks.Scope]redis.UniversalClient{locks.ScopeRegion: c}
	two := topology(t, "two-level", real.DefaultLevel)
	for _, tc := range []struct {
		name string
		opt  real.Options
		want string
	}{
		{"empty topology", real.Options{Clients: clients}, "Topology is empty"},
		{"no client for the scope", real.Options{Topology: two}, "no client for scope region"},
		{"prefix with a brace", real.Options{Topology: two, Clients: clients, Prefix: "a{b"}, "Prefix"},
		{"shared cache TTL below a millisecond", real.Options{Topology: two, Clients: clients, SharedCacheTTL: time.Microsecond}, "SharedCacheTTL"},
		{"negative fetch timeout", real.Options{Topology: two, Clients: clients, FetchTimeout: -time.Second}, "FetchTimeout"},
		{"hard TTL not past the soft TTL", real.Options{Topology: locks.Topology{Name: "x", Levels: []locks.Level{{Scope: locks.ScopeRegion, HardTTL: time.Second}}}, Clients: clients}, "hard_ttl"},
		{"adaptive wait without a floor", real.Options{Topology: locks.Topology{Name: "x", Levels: []locks.Level{{Scope: locks.ScopeRegion, AdaptiveQuantile: 0.9, AdaptiveCeiling: time.Second}}}, Clients: clients}, "adaptive_wait.floor"},
		{"TTL jitter of 1", real.Options{Topology: two, Clients: clients, TTLJitter: 1}, "TTLJitter"},
		{"negative XFetch beta", real.Options{Topology: two, Clients: clients, XFetchBeta: -1}, "XFetchBeta"},
		{"negative refresh bound", real.Options{Topology: two, Clients: clients, MaxRefreshes: -1}, "MaxRefreshes"},
		{"levels out of order", real.Options{Topology: locks.Topology{Name: "x", Levels: []locks.Level{{Scope: locks.ScopeRegion}, {Scope: locks.ScopeNode}}}, Clients: clients}, "inner to outer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := real.New(tc.opt)
			if err == nil {
				d.Close()
				t.Fatalf("New accepted %+v", tc.opt)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

// Zero durations in a level take DefaultLevel's.
func TestLevelsTakeDefaults(t *testing.T) {
	noLeaks(t)
	b, _ := miniBackend(t)
	d := newDriver(t, b, real.Options{Topology: locks.Topology{Name: "custom", Levels: []locks.Level{
		{Scope: locks.ScopeNode},
		{Scope: locks.ScopeRegion, WaitTimeout: time.Second},
	}}})
	got := d.Topology().Levels
	want := []locks.Level{
		{Scope: locks.ScopeNode, LeaseTTL: real.DefaultLevel.LeaseTTL, WaitTimeout: real.DefaultLevel.WaitTimeout, PollInterval: real.DefaultLevel.PollInterval},
		{Scope: locks.ScopeRegion, LeaseTTL: real.DefaultLevel.LeaseTTL, WaitTimeout: time.Second, PollInterval: real.DefaultLevel.PollInterval},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("levels %+v, want %+v", got, want)
	}
}

func TestDoRejectsBadArguments(t *testing.T) {
	noLeaks(t)
	b, _ := miniBackend(t)
	d := newDriver(t, b, real.Options{Topology: topology(t, "two-level", real.DefaultLevel)})
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name  string
		ctx   context.Context
		key   string
		fetch func(context.Context) ([]byte, error)
		want  string
	}{
		{"nil fetch", context.Background(), "k", nil, "nil fetch"},
		{"empty key", context.Background(), "", (&upstream{}).fetch, "empty"},
		{"key that empties the hash tag", context.Background(), "}k", (&upstream{}).fetch, "hash tag"},
		{"cancelled context", cancelled, "k", (&upstream{}).fetch, context.Canceled.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := d.Do(tc.ctx, tc.key, tc.fetch)
			if err == nil || !strings.Contains(err.Error(), tc.want) || r.Served != locks.ServedError {
				t.Errorf("got %v served %v, want an error mentioning %q", err, r.Served, tc.want)
			}
		})
	}
}
