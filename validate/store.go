package validate

import (
	"fmt"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// poolSize bounds the connections of the client all drivers share. The
// simulator lets a node send any number of operations at once; a pool this
// large keeps the client from queueing them where the simulator does not
// (redis-server accepts 10,000 clients by default).
const poolSize = 4000

// connect returns a client for the store the options name, a description of
// it, and what to call when done.
func connect(opt Options) (redis.UniversalClient, string, func(), error) {
	switch {
	case len(opt.Cluster) > 0:
		c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: opt.Cluster, MaxRetries: -1, ContextTimeoutEnabled: true, PoolSize: poolSize, PoolTimeout: time.Minute})
		return c, "redis cluster " + strings.Join(opt.Cluster, ","), func() { c.Close() }, nil
	case opt.Redis != "":
		o, err := redis.ParseURL(opt.Redis)
		if err != nil {
			return nil, "", nil, fmt.Errorf("--redis %q: %w", opt.Redis, err)
		}
		o.MaxRetries, o.ContextTimeoutEnabled, o.PoolSize, o.PoolTimeout = -1, true, poolSize, time.Minute
		c := redis.NewClient(o)
		return c, "redis " + o.Addr, func() { c.Close() }, nil
	}
	m := miniredis.NewMiniRedis()
	if err := m.Start(); err != nil {
		return nil, "", nil, fmt.Errorf("starting the embedded miniredis: %w", err)
	}
	stop, stopped := make(chan struct{}), make(chan struct{})
	go runClock(m, stop, stopped)
	c := redis.NewClient(&redis.Options{Addr: m.Addr(), MaxRetries: -1, ContextTimeoutEnabled: true, PoolSize: poolSize, PoolTimeout: time.Minute})
	return c, "miniredis (embedded)", func() { c.Close(); close(stop); <-stopped; m.Close() }, nil
}

// The embedded miniredis's clock moves in ticks of at least minTick, and at
// least clockShare times as long as the last tick took.
const (
	minTick    = 2 * time.Millisecond
	clockShare = 4
)

// runClock makes the keys of m expire with the wall clock, until stop is
// closed. miniredis left to follow the wall clock (ClockTTL) walks and sorts
// its whole key space on every command a script runs, whenever time has
// moved since the last: with the thousands of keys of cdn-steady-day it fell
// to a few scripts a second and queued the real side into timeouts. Moving
// its clock in ticks pays for that walk once a tick, and the ticks are made
// long enough that the walks take at most a fifth of a core. Leases and
// cached values then end up to a tick early or late.
func runClock(m *miniredis.Miniredis, stop <-chan struct{}, stopped chan<- struct{}) {
	defer close(stopped)
	m.SetTime(time.Now())
	m.ClockTTL(true)
	tick := minTick
	for {
		t := time.NewTimer(tick)
		select {
		case <-stop:
			t.Stop()
			return
		case <-t.C:
		}
		start := time.Now()
		m.SetTime(start)
		m.DB(0) // the walk, now rather than in the next command
		tick = max(minTick, clockShare*time.Since(start))
	}
}
