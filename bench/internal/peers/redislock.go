package peers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bsm/redislock"
	"github.com/redis/go-redis/v9"
)

// redislockPeer is github.com/bsm/redislock in the pattern its examples
// suggest for a cache: read the value; on a miss obtain the lock, retrying
// with the strategy given until the wait timeout; once it is held, read
// again if the lock was waited for (the value may have come meanwhile),
// otherwise call the upstream, write the value and release the lock. A
// caller that never gets the lock reads once more and then calls the
// upstream itself. Every request goes to Redis: nothing collapses in
// process. A lock taken at the first attempt is not read again (4 round
// trips for a miss, the fewest the pattern has), which leaves a window: a
// caller that read before the holder wrote and locks after it released
// calls the upstream again.
//
// The package's default is not to retry at all; the defaults here are the
// ones its documentation gives: LinearBackoff(100ms) as in its example,
// ExponentialBackoff with the 16ms minimum it recommends (up to 512ms).
func redislockPeer(strategy, setting string) Peer {
	lease, wait := defaultLease, defaultWait
	var newStrategy func() redislock.RetryStrategy
	var desc string
	switch {
	case strategy == "linear" && setting == "default":
		newStrategy = func() redislock.RetryStrategy { return redislock.LinearBackoff(100 * time.Millisecond) }
		desc = "LinearBackoff(100ms) (the package example's)"
	case strategy == "linear":
		newStrategy = func() redislock.RetryStrategy { return redislock.LinearBackoff(10 * time.Millisecond) }
		desc = "LinearBackoff(10ms)"
		lease, wait = tunedLease, tunedWait
	case setting == "default":
		newStrategy = func() redislock.RetryStrategy {
			return redislock.ExponentialBackoff(16*time.Millisecond, 512*time.Millisecond)
		}
		desc = "ExponentialBackoff(16ms, 512ms) (16ms: the documented minimum)"
	default:
		newStrategy = func() redislock.RetryStrategy {
			return redislock.ExponentialBackoff(time.Millisecond, 16*time.Millisecond)
		}
		desc = "ExponentialBackoff(1ms, 16ms)"
		lease, wait = tunedLease, tunedWait
	}
	desc = fmt.Sprintf("%s, lock TTL %v, wait %v, then read and call; read again only after a wait", desc, lease, wait)
	return Peer{
		Name: "redislock-" + strategy, Setting: setting, Settings: desc, Polling: true,
		New: func(env Env) (Instance, error) {
			in := &redislockInstance{prefix: env.Prefix, lease: lease, wait: wait, strategy: newStrategy}
			in.c = newClient(env.Addr, &in.trips)
			in.locker = redislock.New(in.c)
			return in, nil
		},
	}
}

type redislockInstance struct {
	clientInstance
	locker      *redislock.Client
	prefix      string
	lease, wait time.Duration
	strategy    func() redislock.RetryStrategy
}

// counting counts the backoffs a strategy hands out: none means the lock
// was obtained at the first attempt, right after the value was found
// missing, so reading it again is not needed.
type counting struct {
	s redislock.RetryStrategy
	n int
}

func (c *counting) NextBackoff() time.Duration { c.n++; return c.s.NextBackoff() }

func (r *redislockInstance) Get(ctx context.Context, key string, fetch Fetch) ([]byte, error) {
	vk := r.prefix + key
	if v, err := readValue(ctx, r.c, vk); v != nil || err != nil {
		return v, err
	}
	tries := &counting{s: r.strategy()}
	wctx, cancel := context.WithTimeout(ctx, r.wait)
	lock, err := r.locker.Obtain(wctx, vk+":lock", r.lease, &redislock.Options{RetryStrategy: tries})
	cancel()
	if err == nil {
		defer lock.Release(context.WithoutCancel(ctx))
		if tries.n > 0 {
			if v, err := readValue(ctx, r.c, vk); v != nil || err != nil {
				return v, err
			}
		}
		return fetchAndWrite(ctx, r.c, vk, fetch)
	}
	if !errors.Is(err, redislock.ErrNotObtained) && !errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("redislock Obtain %s: %w", vk, err)
	}
	if v, err := readValue(ctx, r.c, vk); v != nil || err != nil {
		return v, err
	}
	return fetchAndWrite(ctx, r.c, vk, fetch)
}

// readValue returns the cached value of vk, or nil when there is none.
func readValue(ctx context.Context, c *redis.Client, vk string) ([]byte, error) {
	v, err := c.Get(ctx, vk).Bytes()
	switch {
	case err == nil:
		return v, nil
	case errors.Is(err, redis.Nil):
		return nil, nil
	default:
		return nil, fmt.Errorf("GET %s: %w", vk, err)
	}
}

// fetchAndWrite calls the upstream and caches what it returned.
func fetchAndWrite(ctx context.Context, c *redis.Client, vk string, fetch Fetch) ([]byte, error) {
	v, err := fetch(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.Set(ctx, vk, v, CacheTTL).Err(); err != nil {
		return nil, fmt.Errorf("SET %s: %w", vk, err)
	}
	return v, nil
}
