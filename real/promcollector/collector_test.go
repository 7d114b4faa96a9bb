package promcollector_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/real"
	"github.com/stampsim/stampsim/real/promcollector"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type fixed real.Stats

func (f fixed) Stats() real.Stats { return real.Stats(f) }

func sample() fixed {
	s := real.Stats{
		Topology: "two-level",
		Levels: []real.LevelStats{
			{Name: "node", Scope: locks.ScopeNode, Acquisitions: 3, Waits: 40},
			{Name: "region", Scope: locks.ScopeRegion, Acquisitions: 1, Waits: 2, Timeouts: 1, WaitTimeout: 1500 * time.Millisecond},
		},
		Requests:       43,
		UpstreamErrors: 1,
		Hedges:         1,
		LeasesLost:     2,
		WaitDuration:   real.Histogram{Bounds: real.WaitBuckets, Counts: make([]uint64, len(real.WaitBuckets)+1), Count: 3, Sum: 0.6},
		InFlight:       1,
		Waiting:        5,
	}
	s.Served[locks.ServedFetched] = 1
	s.Refreshes = 4
	s.RefreshOutcomes[locks.OutcomeRefreshed] = 2
	s.RefreshOutcomes[locks.OutcomeFailed] = 1
	s.Served[locks.ServedCollapsed] = 42
	s.UpstreamCalls[locks.CauseHolder] = 1
	s.UpstreamCalls[locks.CauseWaiterTimeout] = 1
	s.Store[locks.ScopeRegion][locks.OpReadOrAcquire] = real.OpStats{Ops: 5, RoundTrips: 6, Commands: 20, Errors: 1}
	s.WaitDuration.Counts[6] = 2  // 0.05 < v <= 0.1
	s.WaitDuration.Counts[13] = 1 // above 10s
	return fixed(s)
}

func TestCollectorExportsStats(t *testing.T) {
	c := promcollector.New(sample(), prometheus.Labels{"node": "n1"})
	want := `
# HELP stampsim_lock_acquisitions_total Locks taken at each level (node level: flights started).
# TYPE stampsim_lock_acquisitions_total counter
stampsim_lock_acquisitions_total{level="node",node="n1",scope="node"} 3
stampsim_lock_acquisitions_total{level="region",node="n1",scope="region"} 1
# HELP stampsim_lock_timeouts_total Waits that timed out, at each level.
# TYPE stampsim_lock_timeouts_total counter
stampsim_lock_timeouts_total{level="node",node="n1",scope="node"} 0
stampsim_lock_timeouts_total{level="region",node="n1",scope="region"} 1
# HELP stampsim_upstream_calls_total Upstream calls started, by cause.
# TYPE stampsim_upstream_calls_total counter
stampsim_upstream_calls_total{cause="holder",node="n1"} 1
stampsim_upstream_calls_total{cause="no-lock",node="n1"} 0
stampsim_upstream_calls_total{cause="node-follower-timeout",node="n1"} 0
stampsim_upstream_calls_total{cause="store-error",node="n1"} 0
stampsim_upstream_calls_total{cause="waiter-timeout",node="n1"} 1
# HELP stampsim_lock_wait_duration_seconds Time from arrival to reply of requests that waited for a lock.
# TYPE stampsim_lock_wait_duration_seconds histogram
stampsim_lock_wait_duration_seconds_bucket{node="n1",le="0.001"} 0
stampsim_lock_wait_duration_seconds_bucket{node="n1",le="0.0025"} 0
stampsim_lock_wait_duration_seconds_bucket{node="n1",le="0.005"} 0
stampsim_lock_wait_duration_seconds_bucket{node="n1",le="0.01"} 0
stampsim_lock_wait_duration_seconds_bucket{node="n1",le="0.025"} 0
stampsim_lock_wait_duration_seconds_bucket{node="n1",le="0.05"} 0
stampsim_lock_wait_duration_seconds_bucket{node="n1",le="0.1"} 2
stampsim_lock_wait_duration_seconds_bucket{node="n1",le="0.25"} 2
stampsim_lock_wait_duration_seconds_bucket{node="n1",le="0.5"} 2
stampsim_lock_wait_duration_seconds_bucket{node="n1",le="1"} 2
stampsim_lock_wait_duration_seconds_bucket{node="n1",le="2.5"} 2
stampsim_lock_wait_duration_seconds_bucket{node="n1",le="5"} 2
stampsim_lock_wait_duration_seconds_bucket{node="n1",le="10"} 2
stampsim_lock_wait_duration_seconds_bucket{node="n1",le="+Inf"} 3
stampsim_lock_wait_duration_seconds_sum{node="n1"} 0.6
stampsim_lock_wait_duration_seconds_count{node="n1"} 3
# HELP stampsim_refreshes_started_total Background refreshes started (stale-while-revalidate, XFetch).
# TYPE stampsim_refreshes_started_total counter
stampsim_refreshes_started_total{node="n1"} 4
# HELP stampsim_refreshes_total Background refreshes ended, by outcome.
# TYPE stampsim_refreshes_total counter
stampsim_refreshes_total{node="n1",outcome="failed"} 1
stampsim_refreshes_total{node="n1",outcome="refreshed"} 2
stampsim_refreshes_total{node="n1",outcome="superseded"} 0
# HELP stampsim_lock_wait_timeout_seconds Each level's wait timeout now: configured, or following the upstream when adaptive.
# TYPE stampsim_lock_wait_timeout_seconds gauge
stampsim_lock_wait_timeout_seconds{level="node",node="n1",scope="node"} 0
stampsim_lock_wait_timeout_seconds{level="region",node="n1",scope="region"} 1.5
# HELP stampsim_waiting_requests Callers waiting for a reply.
# TYPE stampsim_waiting_requests gauge
stampsim_waiting_requests{node="n1"} 5
`
	names := []string{"stampsim_lock_acquisitions_total", "stampsim_lock_timeouts_total", "stampsim_upstream_calls_total",
		"stampsim_lock_wait_duration_seconds", "stampsim_waiting_requests",
		"stampsim_refreshes_started_total", "stampsim_refreshes_total", "stampsim_lock_wait_timeout_seconds"}
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	// Store metrics exist for the shared scopes of the topology only.
	if got := testutil.CollectAndCount(c, "stampsim_store_round_trips_total"); got != int(locks.NumOpKinds) {
		t.Errorf("%d store round-trip series, want one per operation kind of the region store (%d)", got, locks.NumOpKinds)
	}
}

// The names follow Prometheus's conventions, as promlint checks them.
func TestCollectorPassesLint(t *testing.T) {
	problems, err := testutil.CollectAndLint(promcollector.New(sample(), nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

// A registry takes the collector of a live driver, and sees its requests.
func TestCollectorOfALiveDriver(t *testing.T) {
	ign := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ign) })
	m := miniredis.RunT(t)
	client := redis.NewClient(&redis.Options{Addr: m.Addr(), MaxRetries: -1})
	t.Cleanup(func() { client.Close() })
	topo, err := real.Topology("two-level")
	if err != nil {
		t.Fatal(err)
	}
	d, err := real.New(real.Options{Topology: topo, Clients: map[locks.Scope]redis.UniversalClient{locks.ScopeRegion: client}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(promcollector.New(d, prometheus.Labels{"node": "n1"})); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := d.Do(context.Background(), "k", func(context.Context) ([]byte, error) { return []byte("v"), nil }); err != nil {
			t.Fatal(err)
		}
	}
	want := `
# HELP stampsim_requests_total Requests answered, by how they were served.
# TYPE stampsim_requests_total counter
stampsim_requests_total{node="n1",served="collapsed"} 0
stampsim_requests_total{node="n1",served="error"} 0
stampsim_requests_total{node="n1",served="fetched"} 1
stampsim_requests_total{node="n1",served="hedged"} 0
stampsim_requests_total{node="n1",served="hit"} 2
stampsim_requests_total{node="n1",served="revalidating"} 0
stampsim_requests_total{node="n1",served="stale"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "stampsim_requests_total"); err != nil {
		t.Error(err)
	}
}
