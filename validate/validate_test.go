package validate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/stampsim/stampsim/real/redistest"
	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/scenarios"
)

// locking lists the flash-crowd's topologies whose upstream calls the
// protocol fixes ("none" calls once per miss, however they fall).
var locking = []string{"node-only", "one-level", "two-level", "global", "fanout-tree"}

func flashCrowd(t *testing.T) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Builtin("flash-crowd")
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// checkAgree asserts what issue 10 asks of the flash crowd: upstream calls
// equal on both sides for every locking topology (the flash crowd's are
// fixed whatever the timing), round trips within 10% of what the simulator
// counts at the real run's timing.
func checkAgree(t *testing.T, rep *Report) {
	t.Helper()
	if len(rep.Runs) != len(locking) {
		t.Fatalf("%d runs, want %d", len(rep.Runs), len(locking))
	}
	for _, p := range rep.Runs {
		if !p.UpstreamCompared {
			t.Errorf("%s: upstream calls not compared; the flash crowd has no faults and 3s timeouts", p.Topology)
		}
		if p.Sim.UpstreamCalls != p.Real.UpstreamCalls {
			t.Errorf("%s: upstream calls sim %d, real %d", p.Topology, p.Sim.UpstreamCalls, p.Real.UpstreamCalls)
		}
		if d := p.Retimed.StoreOps.distance(p.Real.StoreOps); d > RoundTripTolerance {
			t.Errorf("%s: round trips sim %d, retimed %s, real %d (%.0f%% apart)", p.Topology, p.Sim.StoreOps, p.Retimed.StoreOps, p.Real.StoreOps, 100*d)
		}
		if want := retimedRuns(int(p.Sim.Requests)); p.Retimed.Runs != want || (p.Real.StoreOps > 0) != (p.Retimed.RoundTrips > 0) {
			t.Errorf("%s: retimed %d runs on %d measured round trips of %d, want %d runs on all of them", p.Topology, p.Retimed.Runs, p.Retimed.RoundTrips, p.Real.StoreOps, want)
		}
		if p.Sim.Requests != p.Real.Requests || p.Sim.Requests == 0 {
			t.Errorf("%s: requests sim %d, real %d", p.Topology, p.Sim.Requests, p.Real.Requests)
		}
		t.Logf("%s: upstream %d/%d, round trips %d (retimed %s)/%d, requests %d", p.Topology,
			p.Sim.UpstreamCalls, p.Real.UpstreamCalls, p.Sim.StoreOps, p.Retimed.StoreOps, p.Real.StoreOps, p.Sim.Requests)
	}
	if !rep.Agree {
		t.Errorf("report disagrees: %+v", rep.Runs)
	}
}

func TestFlashCrowdAgreesOnMiniredis(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	rep, err := Run(context.Background(), flashCrowd(t), Options{Topologies: locking, StoreLoad: testLoad})
	if err != nil {
		t.Fatal(err)
	}
	checkAgree(t, rep)
}

func TestFlashCrowdAgreesOnRedisServer(t *testing.T) {
	srv := redistest.StartT(t)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	rep, err := Run(context.Background(), flashCrowd(t), Options{Topologies: locking, Redis: "redis://" + srv.Addr + "/0", StoreLoad: testLoad})
	if err != nil {
		t.Fatal(err)
	}
	checkAgree(t, rep)
	if !strings.HasPrefix(rep.Store, "redis ") {
		t.Errorf("store %q, want the redis-server", rep.Store)
	}
}

// A real side that does not run the protocol it was given (its drivers skip
// the node level, so two-level acts as one-level) must be caught, and the
// count that differs named. The node level only shows where several
// requests meet at a node, so the fleet is cut to six nodes and the store
// may be kept busy at the burst's peak: on a loaded machine under the race
// detector miniredis runs a few hundred scripts a second, which at the
// default load leaves the flash crowd two or three requests, one a node.
func TestBrokenRealSideIsCaught(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	rep, err := Run(context.Background(), flashCrowd(t), Options{Topologies: []string{"two-level"}, SkipNodeLevel: true, MaxNodes: 6, StoreLoad: 1})
	if err != nil {
		t.Fatal(err)
	}
	p := rep.Runs[0]
	if rep.Agree {
		t.Fatalf("validate agreed with a real side that skips the node level: %d requests, round trips sim %d, retimed %s, real %d",
			p.Sim.Requests, p.Sim.StoreOps, p.Retimed.StoreOps, p.Real.StoreOps)
	}
	named := false
	for _, d := range p.Differences {
		named = named || strings.HasPrefix(d, "store_ops (round trips)")
	}
	if !named {
		t.Errorf("differences %q, want store_ops (round trips) named", p.Differences)
	}
	t.Logf("%d requests: round trips sim %d, retimed %s, real %d", p.Sim.Requests, p.Sim.StoreOps, p.Retimed.StoreOps, p.Real.StoreOps)
}

func TestScale(t *testing.T) {
	sc := flashCrowd(t)
	sc.Faults = []scenarios.Fault{{Kind: "node-crash", Node: "r2/z1/n9", At: sc.Workload.Bursts[0].At, For: sc.Duration}}
	small, notes, err := Scale(sc, 20, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if got := small.Shape(); got.Nodes() > 20 || got.Regions != 3 || got.ZonesPerRegion != 2 {
		t.Errorf("scaled fleet %+v: want at most 20 nodes, regions and zones kept", got)
	}
	if got := small.Workload.Bursts[0]; got.Requests != 1000 || got.Over != sc.Workload.Bursts[0].Over {
		t.Errorf("scaled burst %+v: want 1000 requests over the same window", got)
	}
	if got := small.Faults[0].Node; got != "r2/z1/n0" {
		t.Errorf("fault node folded to %q, want r2/z1/n0", got)
	}
	if small.Workload.Bursts[0].At.D() != lead || small.Faults[0].At != small.Workload.Bursts[0].At {
		t.Errorf("timeline: burst at %v, fault at %v; want both at the %v lead", small.Workload.Bursts[0].At.D(), small.Faults[0].At.D(), lead)
	}
	if sc.Topology.NodesPerZone != 10 || sc.Workload.Bursts[0].Requests != 100000 {
		t.Errorf("Scale changed its input")
	}
	if len(notes) != 3 {
		t.Errorf("notes %q, want one each for fleet, traffic and timeline", notes)
	}
}

// testLoad is the store load the agreement tests run at: half the default,
// because the test suite shares the machine (and, under the race detector,
// the drivers are several times slower), and lag in the drivers is what
// moves counts on the real side.
const testLoad = DefaultStoreLoad / 2

// The table's DIFF column and the difference that fails a validation give
// the same figure for the same gap: 11 against 15 is 27% of the larger in
// both (it once read +36% in the table, of the smaller, and 27% below it).
func TestTableAndDifferenceAgree(t *testing.T) {
	sc := flashCrowd(t)
	topo, err := sc.Resolve("one-level")
	if err != nil {
		t.Fatal(err)
	}
	p := compare(resolvedOf(t, sc), topo, reports.Run{Requests: 100, StoreOps: 11}, reports.Run{Requests: 100, StoreOps: 15},
		Retimed{StoreOps: Range{11, 11}}, false)
	if len(p.Differences) != 1 || !strings.Contains(p.Differences[0], "sim 11, real 15, 27% apart; retimed sim 11, 27% from real") {
		t.Fatalf("differences %q, want one naming 11, 15 and 27%%", p.Differences)
	}
	var b strings.Builder
	if err := WriteTable(&b, &Report{Scenario: sc.Name, Runs: []Pair{p}}); err != nil {
		t.Fatal(err)
	}
	row := ""
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.Contains(line, "store round trips") {
			row = line
		}
	}
	if f := strings.Fields(row); len(f) < 2 || f[len(f)-1] != "+27%" {
		t.Errorf("table row %q, want DIFF +27%%\n%s", row, b.String())
	}
	if got := diff(15, 11); got != "-27%" {
		t.Errorf("diff(15, 11) = %s, want -27%%", got)
	}
}

// The real counts are judged against the retimed runs: a real count far from
// the simulator's but inside what it counts at the real run's timing agrees,
// one more than 10% beyond that range does not; upstream calls must lie in
// the retimed range exactly, unless values expire while their keys are asked
// for.
func TestCompareJudgesAgainstTheRetimedRuns(t *testing.T) {
	sc := flashCrowd(t)
	topo, err := sc.Resolve("one-level")
	if err != nil {
		t.Fatal(err)
	}
	sim := reports.Run{Requests: 100, StoreOps: 11, UpstreamCalls: 3}
	real := reports.Run{Requests: 100, StoreOps: 16, UpstreamCalls: 3}
	rt := Retimed{StoreOps: Range{11, 15}, UpstreamCalls: Range{3, 3}}
	if p := compare(resolvedOf(t, sc), topo, sim, real, rt, false); len(p.Differences) != 0 || !p.UpstreamCompared {
		t.Errorf("16 round trips against a retimed 11-15: differences %q (upstream compared %v), want none", p.Differences, p.UpstreamCompared)
	}
	real.StoreOps = 17
	p := compare(resolvedOf(t, sc), topo, sim, real, rt, false)
	if len(p.Differences) != 1 || !strings.Contains(p.Differences[0], "retimed sim 11-15, 12% from real (tolerance 10%)") {
		t.Errorf("17 round trips against a retimed 11-15: differences %q, want one naming the range and 12%%", p.Differences)
	}
	real.StoreOps, real.UpstreamCalls = 15, 4
	p = compare(resolvedOf(t, sc), topo, sim, real, rt, false)
	if len(p.Differences) != 1 || !strings.Contains(p.Differences[0], "upstream_calls: sim 3, real 4; retimed sim 3") {
		t.Errorf("4 upstream calls against a retimed 3: differences %q, want upstream_calls named", p.Differences)
	}
	if p := compare(resolvedOf(t, sc), topo, sim, real, rt, true); len(p.Differences) != 0 || p.UpstreamCompared {
		t.Errorf("with values expiring while asked for: differences %q (upstream compared %v), want upstream calls not judged", p.Differences, p.UpstreamCompared)
	}
}

func TestRange(t *testing.T) {
	r := Range{10, 20}
	for _, c := range []struct {
		n    uint64
		want float64
	}{{10, 0}, {15, 0}, {20, 0}, {9, 0.1}, {25, 0.2}} {
		if got := r.distance(c.n); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("distance of %d from %v: %v, want %v", c.n, r, got, c.want)
		}
	}
	if r.String() != "10-20" || (Range{7, 7}).String() != "7" {
		t.Errorf("ranges print as %q and %q", r, Range{7, 7})
	}
}

// A value that expires while its key is still asked for makes upstream
// calls a matter of timing; the flash crowd's requests all come within its
// TTLs.
func TestExpiresWhileAsked(t *testing.T) {
	sc := flashCrowd(t)
	short := []arrival{{at: 0}, {at: time.Second}}
	long := []arrival{{at: 0}, {at: sc.Cache.SharedTTL.D()}}
	if expiresWhileAsked(sc, short) || !expiresWhileAsked(sc, long) {
		t.Errorf("requests over 1s: %v, over the shared TTL: %v; want false, true", expiresWhileAsked(sc, short), expiresWhileAsked(sc, long))
	}
	sc.Cache.NodeTTL = scenarios.Duration(500 * time.Millisecond)
	if !expiresWhileAsked(sc, short) {
		t.Errorf("requests over 1s with a node TTL of 500ms: no expiry seen")
	}
}

// The embedded miniredis's clock moves keys' TTLs in ticks: a lease of 50ms
// is gone after 50ms and a tick or so, and not much before.
func TestMiniredisClockExpiresKeys(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	c, _, closeStore, err := connect(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	ctx := context.Background()
	start := time.Now()
	if err := c.Set(ctx, "k", "v", 50*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	for c.Exists(ctx, "k").Val() == 1 {
		if time.Since(start) > 5*time.Second {
			t.Fatal("a key with a 50ms TTL is still there after 5s")
		}
		time.Sleep(time.Millisecond)
	}
	if d := time.Since(start); d < 50*time.Millisecond-2*minTick {
		t.Errorf("a key with a 50ms TTL was gone after %v", d)
	}
}

// validate deletes every key it made in the user's Redis, and only those:
// after a run that agrees, one that finds a difference and one interrupted
// while its drivers run, the server holds the one key it held before.
func TestNothingLeftBehindOnRedisServer(t *testing.T) {
	srv := redistest.StartT(t)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer c.Close()
	ctx := context.Background()
	if err := c.Set(ctx, "the-users-own", "data", 0).Err(); err != nil {
		t.Fatal(err)
	}
	check := func(name string) {
		t.Helper()
		if n, err := c.DBSize(ctx).Result(); err != nil || n != 1 {
			keys, _ := c.Keys(ctx, "*").Result()
			t.Errorf("%s: DBSIZE %d (%v), want 1, the user's own key; keys %q", name, n, err, keys)
		}
		if v, err := c.Get(ctx, "the-users-own").Result(); err != nil || v != "data" {
			t.Errorf("%s: the user's own key reads %q, %v", name, v, err)
		}
	}
	deleted := func(logged *[]string) func(string, ...any) {
		return func(format string, args ...any) {
			if strings.HasPrefix(format, "deleted the") {
				*logged = append(*logged, fmt.Sprintf(format, args...))
			}
		}
	}
	url := "redis://" + srv.Addr + "/0"

	var logged []string
	rep, err := Run(ctx, flashCrowd(t), Options{Topologies: []string{"two-level", "one-level"}, Redis: url, StoreLoad: testLoad, Log: deleted(&logged)})
	if err != nil || !rep.Agree {
		t.Fatalf("agreeing run: %v, %+v", err, rep)
	}
	check("after a run that agrees")
	if len(logged) != 3 || strings.HasPrefix(logged[0], "deleted the 0 ") || strings.HasPrefix(logged[1], "deleted the 0 ") {
		t.Errorf("deletions logged: %q; want one per topology, with keys, and one at the end", logged)
	}

	rep, err = Run(ctx, flashCrowd(t), Options{Topologies: []string{"two-level"}, Redis: url, SkipNodeLevel: true})
	if err != nil || rep.Agree {
		t.Fatalf("run with a broken real side: %v, agree %v", err, rep != nil && rep.Agree)
	}
	check("after a run that finds a difference")

	// Interrupted once its drivers have written to the store.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	interrupted := make(chan int)
	go func() {
		defer close(interrupted)
		for cctx.Err() == nil {
			if keys, _, err := c.Scan(ctx, 0, "stampsim:validate:*:0:*", 10000).Result(); err == nil && len(keys) > 0 {
				cancel()
				interrupted <- len(keys)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	_, err = Run(cctx, flashCrowd(t), Options{Topologies: []string{"one-level"}, Redis: url, StoreLoad: testLoad})
	cancel()
	if n := <-interrupted; n == 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v after seeing %d keys of the real run; want context.Canceled after some", err, n)
	}
	check("after an interrupted run")
}

func TestRetimedRuns(t *testing.T) {
	for _, c := range []struct{ requests, want int }{{0, MaxRetimedRuns}, {500, MaxRetimedRuns}, {4000, 10}, {10_000, MinRetimedRuns}, {1e6, MinRetimedRuns}} {
		if got := retimedRuns(c.requests); got != c.want {
			t.Errorf("%d requests: %d retimed runs, want %d", c.requests, got, c.want)
		}
	}
}

// Upstream calls are judged under holder-pause's pause, but not where a
// level's lease is shorter than the upstream and not renewed: who takes the
// lock after it ends is a race of milliseconds.
func TestUpstreamIsDeterministicUnderFaults(t *testing.T) {
	sc, err := scenarios.Builtin("holder-pause")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := sc.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"none": false, "two-level": true, "fanout-tree": true, "short-lease-no-renew": false} {
		topo, err := sc.Resolve(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := upstreamIsDeterministic(rs, topo); got != want {
			t.Errorf("%s: upstream calls fixed %v, want %v", name, got, want)
		}
	}
}
