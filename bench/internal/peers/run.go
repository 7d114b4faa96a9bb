package peers

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/stampsim/stampsim/real/redistest"
)

// Run measures one unit's repeat against the redis-server at addr and
// returns its metrics: the case's own, plus the round trips (as the
// instances sent them), the commands (as the server counted them, INFO
// commandstats, without the tools' own PING, INFO and CONFIG) and the PING
// round trip on the same kind of connection, measured just before.
func Run(ctx context.Context, c Config, u Unit, addr string, repeat int) (map[string]float64, error) {
	if _, err := redistest.Do(addr, "FLUSHALL"); err != nil {
		return nil, fmt.Errorf("FLUSHALL before %s: %w", u.Key, err)
	}
	env := Env{Addr: addr, Prefix: fmt.Sprintf("b%d:", repeat)}
	ins := make([]Instance, 0, u.Instances)
	defer func() {
		for _, in := range ins {
			_ = in.Close()
		}
	}()
	for range u.Instances {
		in, err := u.Peer.New(env)
		if err != nil {
			return nil, fmt.Errorf("%s: a new instance: %w", u.Peer.ID(), err)
		}
		ins = append(ins, in)
	}
	// Warm up: every instance connects and loads its scripts on a key of
	// its own, so that the unit counts no connection set-up.
	for i, in := range ins {
		for j := range 3 {
			if _, err := in.Get(ctx, fmt.Sprintf("warm%d-%d", i, j), func(context.Context) ([]byte, error) { return value, nil }); err != nil {
				return nil, fmt.Errorf("%s: warming up instance %d: %w", u.Peer.ID(), i, err)
			}
		}
	}
	pingNs, err := floor(ctx, ins[0], addr)
	if err != nil {
		return nil, err
	}
	if err := settle(addr); err != nil {
		return nil, err
	}
	if err := redistest.ResetStats(addr); err != nil {
		return nil, fmt.Errorf("CONFIG RESETSTAT: %w", err)
	}
	trips0 := roundTrips(ins)

	var m map[string]float64
	switch u.Case {
	case "uncontended":
		m, err = uncontended(ctx, ins[0], c.UncontendedCalls)
	case "stampede":
		m, err = stampede(ctx, ins, u.size.Requests, c.Upstream, c.Limit)
	case "dead-holder":
		m, err = deadHolder(ctx, ins, c.DeadWaiters, c.Upstream, c.Limit)
	case "zipf":
		m, err = zipf(ctx, ins, c.ZipfCalls, c.ZipfWorkers, c.ZipfKeys, c.ZipfUpstream)
	default:
		err = fmt.Errorf("unknown case %q", u.Case)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u.Key, err)
	}
	if err := settle(addr); err != nil {
		return nil, err
	}
	stats, err := redistest.CommandStats(addr)
	if err != nil {
		return nil, fmt.Errorf("INFO commandstats after %s: %w", u.Key, err)
	}
	m["redis_commands"] = float64(redistest.Counted(stats))
	m["round_trips"] = float64(roundTrips(ins) - trips0)
	m["ping_ns"] = pingNs
	return m, nil
}

func roundTrips(ins []Instance) uint64 {
	var n uint64
	for _, in := range ins {
		n += in.RoundTrips()
	}
	return n
}

// floor returns the median of 200 PINGs on in's client (on a client of
// its own for a peer without Redis), the raw round trip under every call.
func floor(ctx context.Context, in Instance, addr string) (float64, error) {
	c := in.Client()
	if c == nil {
		var n atomic.Uint64
		c = newClient(addr, &n)
		defer c.Close()
	}
	const n = 200
	lat := make([]float64, n)
	for i := range n {
		t0 := time.Now()
		if err := c.Ping(ctx).Err(); err != nil {
			return 0, fmt.Errorf("PING: %w", err)
		}
		lat[i] = float64(time.Since(t0).Nanoseconds())
	}
	slices.Sort(lat)
	return lat[n/2], nil
}

// settle waits until the server's command counts stop moving (a peer may
// write or publish after its callers have their value, sturdyc writes in a
// goroutine of its own): the same count three reads in a row, 30ms apart,
// for at most 3s.
func settle(addr string) error {
	var last uint64
	same := 0
	deadline := time.Now().Add(3 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		stats, err := redistest.CommandStats(addr)
		if err != nil {
			return fmt.Errorf("INFO commandstats: %w", err)
		}
		n := redistest.Counted(stats)
		if i > 0 && n == last {
			same++
			if same == 2 {
				return nil
			}
		} else {
			same = 0
		}
		last = n
		time.Sleep(30 * time.Millisecond)
	}
	return nil
}
