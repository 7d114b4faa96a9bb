package validate

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/stampsim/stampsim/scenarios"
)

// Calibration is what validate measured of the real store before it ran, and
// gave the simulator.
type Calibration struct {
	Samples int `json:"samples"`
	// PingMedianUs and PingP99Us are the round trip of a PING.
	PingMedianUs float64 `json:"ping_median_us"`
	PingP99Us    float64 `json:"ping_p99_us"`
	// ScriptMedianUs is the round trip of a one-GET script, run by SHA.
	ScriptMedianUs float64 `json:"script_median_us"`
	// ServiceUs is what one read-or-acquire-like script costs the store,
	// measured as the inverse of its throughput with many callers at once;
	// the simulator charges it per operation.
	ServiceUs float64 `json:"service_us"`
	// Throughput is that throughput, scripts per second.
	Throughput float64 `json:"throughput_per_sec"`
}

var probeScript = redis.NewScript(`return redis.call('GET', KEYS[1])`)

// loadScript does what a read-or-acquire that finds the lock held does:
// GET, SET NX PX (refused), PTTL.
var loadScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then return v end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', 60000) then
  return redis.call('INCR', KEYS[3])
end
return redis.call('PTTL', KEYS[2])`)

// Calibrate measures n PINGs and n small scripts against c. The keys its
// scripts touch start with prefix; they are left for the caller to delete.
func Calibrate(ctx context.Context, c redis.UniversalClient, n int, prefix string) (Calibration, error) {
	if err := probeScript.Load(ctx, c).Err(); err != nil {
		return Calibration{}, fmt.Errorf("loading the probe script: %w", err)
	}
	ping := make([]time.Duration, n)
	script := make([]time.Duration, n)
	for i := range n {
		t := time.Now()
		if err := c.Ping(ctx).Err(); err != nil {
			return Calibration{}, fmt.Errorf("PING: %w", err)
		}
		ping[i] = time.Since(t)
		t = time.Now()
		if err := probeScript.EvalSha(ctx, c, []string{prefix + "{probe}"}).Err(); err != nil && err != redis.Nil {
			return Calibration{}, fmt.Errorf("probe script: %w", err)
		}
		script[i] = time.Since(t)
	}
	slices.Sort(ping)
	slices.Sort(script)
	q := func(s []time.Duration, p float64) float64 {
		return float64(s[min(len(s)-1, int(p*float64(len(s))))]) / 1e3
	}
	cal := Calibration{
		Samples:      n,
		PingMedianUs: q(ping, 0.5), PingP99Us: q(ping, 0.99),
		ScriptMedianUs: q(script, 0.5),
	}
	if err := loadScript.Load(ctx, c).Err(); err != nil {
		return Calibration{}, fmt.Errorf("loading the load script: %w", err)
	}
	// Saturate the store with read-or-acquire-like scripts from many
	// callers at once: its throughput is what a stampede meets.
	const workers, each = 32, 100
	keys := []string{prefix + "{load}:v", prefix + "{load}:l", prefix + "{load}:f"}
	start := time.Now()
	errs := make(chan error, workers)
	for range workers {
		go func() {
			for range each {
				if err := loadScript.EvalSha(ctx, c, keys, "t").Err(); err != nil && err != redis.Nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			return Calibration{}, fmt.Errorf("load script: %w", err)
		}
	}
	elapsed := time.Since(start)
	cal.Throughput = float64(workers*each) / elapsed.Seconds()
	cal.ServiceUs = 1e6 / cal.Throughput
	return cal, nil
}

// Apply gives the simulator the measured store: every node-to-store latency
// is half the PING round trip (lognormal through the measured median and
// p99), and an operation costs the server the measured service time,
// whatever commands it runs.
func (c Calibration) Apply(sc *scenarios.Scenario) {
	us := func(x float64) scenarios.Duration { return scenarios.Duration(time.Duration(x * 1e3)) }
	med, p99 := c.PingMedianUs/2, c.PingP99Us/2
	p99 = max(p99, med)
	d := scenarios.Dist{Dist: "lognormal", Median: us(med), P99: us(p99)}
	if p99 == med {
		d = scenarios.Dist{Dist: "fixed", Value: us(med)}
	}
	sc.Network = scenarios.Network{NodeToZoneStore: d, NodeToRegionStore: d, NodeToGlobalStore: d}
	sc.Store.ServiceTime = 0
	sc.Store.OpOverhead = us(c.ServiceUs)
}
