package peers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bsm/redislock"
	"golang.org/x/sync/singleflight"
)

// singleflightPeer is what services assemble by hand today:
// golang.org/x/sync/singleflight collapses an instance's concurrent misses
// into one, which reads the value and on a miss tries once to obtain a
// redislock lock; the holder calls the upstream, writes the value and
// releases the lock, and an instance that did not get it polls the cached
// value every poll interval until the wait timeout, then calls the upstream
// itself. Neither library has a default poll interval; 100ms is redislock's
// example backoff.
func singleflightPeer(setting string) Peer {
	lease, wait, poll := defaultLease, defaultWait, 100*time.Millisecond
	if setting == "tuned" {
		lease, wait, poll = tunedLease, tunedWait, 10*time.Millisecond
	}
	return Peer{
		Name: "singleflight+redislock", Setting: setting, Polling: true,
		Settings: fmt.Sprintf("one Obtain (no retry), lock TTL %v; others poll the value every %v for %v, then call", lease, poll, wait),
		New: func(env Env) (Instance, error) {
			in := &singleflightInstance{prefix: env.Prefix, lease: lease, wait: wait, poll: poll}
			in.c = newClient(env.Addr, &in.trips)
			in.locker = redislock.New(in.c)
			return in, nil
		},
	}
}

type singleflightInstance struct {
	clientInstance
	g                 singleflight.Group
	locker            *redislock.Client
	prefix            string
	lease, wait, poll time.Duration
}

func (s *singleflightInstance) Get(ctx context.Context, key string, fetch Fetch) ([]byte, error) {
	v, err, _ := s.g.Do(key, func() (any, error) { return s.load(ctx, s.prefix+key, fetch) })
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

func (s *singleflightInstance) load(ctx context.Context, vk string, fetch Fetch) ([]byte, error) {
	if v, err := readValue(ctx, s.c, vk); v != nil || err != nil {
		return v, err
	}
	lock, err := s.locker.Obtain(ctx, vk+":lock", s.lease, nil)
	if err == nil {
		defer lock.Release(context.WithoutCancel(ctx))
		return fetchAndWrite(ctx, s.c, vk, fetch)
	}
	if !errors.Is(err, redislock.ErrNotObtained) {
		return nil, fmt.Errorf("redislock Obtain %s: %w", vk, err)
	}
	deadline := time.Now().Add(s.wait)
	t := time.NewTimer(s.poll)
	defer t.Stop()
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
		if v, err := readValue(ctx, s.c, vk); v != nil || err != nil {
			return v, err
		}
		t.Reset(s.poll)
	}
	return fetchAndWrite(ctx, s.c, vk, fetch)
}
