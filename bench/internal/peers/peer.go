// Package peers runs stampsim's Redis driver (package real) side by side
// with the Go libraries a service would use instead to stop a cache
// stampede, all against one redis-server on loopback, and measures each in
// the same cases: an uncontended miss, a stampede on one key across many
// instances in one process, a holder that dies while it holds the lock,
// many keys at once (Zipf), and the raw PING round trip under them all.
//
// Each peer is built the way its documentation says, once with its
// documented defaults and once with the settings that suit these cases best
// (Settings says which, and why). Every instance has a client of its own,
// as a separate process would.
//
// It is a benchmark harness: it must not be imported by the stampsim module,
// and it must not change how any peer or stampsim's driver works.
package peers

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/stampsim/stampsim/real/redistest"
)

// Fetch is the upstream call a peer makes on a miss.
type Fetch func(ctx context.Context) ([]byte, error)

// Instance is one service instance (one process, in production) using a
// peer: its own Redis client and its own in-process state.
type Instance interface {
	// Get returns key's value, from the cache or, on a miss, from fetch,
	// collapsing concurrent misses as the peer does.
	Get(ctx context.Context, key string, fetch Fetch) ([]byte, error)
	// RoundTrips returns the Redis requests the instance sent so far.
	RoundTrips() uint64
	// Client returns the instance's Redis client, or nil for a peer that
	// does not use Redis.
	Client() *redis.Client
	// Kill makes the instance die where it stands: its Redis connections
	// close, so it renews and releases nothing more; calls in progress are
	// abandoned. Close must still be called.
	Kill()
	// Close releases the instance.
	Close() error
}

// Env is what a peer's instances are built with: the server, a prefix of
// keys that no earlier unit used, and the lock timings of the setting.
type Env struct {
	// Addr is the redis-server's host:port.
	Addr string
	// Prefix starts every key of the unit.
	Prefix string
}

// Peer is one library, in one setting.
type Peer struct {
	// Name names the library ("stampsim", "redislock-linear", ...).
	Name string
	// Setting is "default" or "tuned".
	Setting string
	// Settings says what the setting is, for the tables.
	Settings string
	// Polling is true for a peer whose waiters poll Redis for a lock or a
	// value (the target compares stampsim with these).
	Polling bool
	// New builds one instance.
	New func(env Env) (Instance, error)
}

// ID is the peer's name and setting, "name/setting".
func (p Peer) ID() string { return p.Name + "/" + p.Setting }

// The timings that every peer's settings are drawn from.
const (
	// CacheTTL is how long every peer keeps a value.
	CacheTTL = 10 * time.Second
	// defaultLease and defaultWait are stampsim's real.DefaultLevel lease
	// and wait timeout; the hand-assembled patterns that have no default
	// of their own use them too.
	defaultLease = 10 * time.Second
	defaultWait  = 5 * time.Second
	// tunedLease is the shortest lease that still outlives the upstream
	// call (200ms) with room to spare: a dead holder's lock frees sooner.
	// tunedWait outlives the longest wait the stampedes need.
	tunedLease = time.Second
	tunedWait  = 3 * time.Second
)

// newClient returns a client of its own for one instance, counting its
// requests (one per command, one per pipeline) in trips, without the
// connection set-up (HELLO, CLIENT SETINFO on each new connection) and the
// harness's own PINGs, which redistest.Uncounted leaves out of the server's
// count too. Clients do not retry (MaxRetries -1), so that no request goes
// uncounted.
func newClient(addr string, trips *atomic.Uint64) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	c.AddHook(tripHook{trips})
	return c
}

// tripHook counts the requests a client sends.
type tripHook struct{ n *atomic.Uint64 }

func (h tripHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h tripHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !redistest.Uncounted[cmd.Name()] {
			h.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (h tripHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			if !redistest.Uncounted[c.Name()] {
				h.n.Add(1)
				break
			}
		}
		return next(ctx, cmds)
	}
}

// clientInstance holds what every Redis-backed instance has.
type clientInstance struct {
	c     *redis.Client
	trips atomic.Uint64
}

func (ci *clientInstance) RoundTrips() uint64    { return ci.trips.Load() }
func (ci *clientInstance) Client() *redis.Client { return ci.c }
func (ci *clientInstance) Kill()                 { _ = ci.c.Close() }
func (ci *clientInstance) Close() error {
	err := ci.c.Close()
	if err == redis.ErrClosed {
		return nil // killed before
	}
	return err
}

// All returns every peer in every setting, in the order of the tables.
func All() []Peer {
	return []Peer{
		stampsimPeer("default"), stampsimPeer("tuned"),
		redislockPeer("linear", "default"), redislockPeer("linear", "tuned"),
		redislockPeer("exponential", "default"), redislockPeer("exponential", "tuned"),
		singleflightPeer("default"), singleflightPeer("tuned"),
		redsyncPeer("default"), redsyncPeer("tuned"),
		gocachePeer("default"), gocachePeer("tuned"),
		sturdycPeer("default"), sturdycPeer("tuned"),
	}
}
