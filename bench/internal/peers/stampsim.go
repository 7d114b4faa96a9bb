package peers

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/real"
)

// stampsimPeer is stampsim's driver (package real), two-level: a node lock
// in process, then a regional lease lock in Redis whose waiters are woken
// by a release notification (pub/sub), polling only as a safety net.
func stampsimPeer(setting string) Peer {
	level := real.DefaultLevel
	desc := fmt.Sprintf("real.DefaultLevel: two-level, lease %v (renewed), wait %v then invoke, notify with a %v safety poll",
		level.LeaseTTL, level.WaitTimeout, level.PollInterval)
	if setting == "tuned" {
		level.LeaseTTL, level.WaitTimeout = tunedLease, tunedWait
		desc = fmt.Sprintf("two-level, lease %v (renewed every third), wait %v, notify with a %v safety poll", level.LeaseTTL, level.WaitTimeout, level.PollInterval)
	}
	return Peer{
		Name: "stampsim", Setting: setting, Settings: desc,
		New: func(env Env) (Instance, error) {
			topo, err := locks.Builtin("two-level", level)
			if err != nil {
				return nil, err
			}
			c := redis.NewClient(&redis.Options{Addr: env.Addr, MaxRetries: -1, ContextTimeoutEnabled: true})
			d, err := real.New(real.Options{
				Topology:       topo,
				Clients:        map[locks.Scope]redis.UniversalClient{locks.ScopeRegion: c},
				Prefix:         env.Prefix,
				SharedCacheTTL: CacheTTL, NodeCacheTTL: CacheTTL,
			})
			if err != nil {
				c.Close()
				return nil, fmt.Errorf("real.New: %w", err)
			}
			return &stampsimInstance{d: d, c: c}, nil
		},
	}
}

type stampsimInstance struct {
	d *real.Driver
	c *redis.Client
}

func (s *stampsimInstance) Get(ctx context.Context, key string, fetch Fetch) ([]byte, error) {
	r, err := s.d.Do(ctx, key, fetch)
	return r.Value, err
}

// RoundTrips is the driver's own count, which its tests hold to what
// redis-server counts (a go-redis hook would miss the pub/sub connection).
func (s *stampsimInstance) RoundTrips() uint64 {
	st := s.d.Stats()
	return st.RoundTrips()
}

func (s *stampsimInstance) Client() *redis.Client { return s.c }
func (s *stampsimInstance) Kill()                 { _ = s.c.Close() }

func (s *stampsimInstance) Close() error {
	err := s.d.Close()
	if cerr := s.c.Close(); cerr != nil && cerr != redis.ErrClosed && err == nil {
		err = cerr
	}
	return err
}
