package peers

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/go-redsync/redsync/v4"
	"github.com/go-redsync/redsync/v4/redis/goredis/v9"
)

// redsyncPeer is github.com/go-redsync/redsync/v4 on one Redis, in the same
// pattern as redislockPeer: read, lock (redsync retries by itself), read
// again if the lock was waited for, call and write, unlock; a caller whose
// tries run out reads once more and calls the upstream itself. Defaults:
// NewMutex's (8s expiry, 32 tries, a random 50-250ms between them). A try
// that fails also sends an unlock (redsync's own cleanup), so each costs two
// round trips.
func redsyncPeer(setting string) Peer {
	var opts []redsync.Option
	desc := "NewMutex defaults: expiry 8s, 32 tries, 50-250ms apart"
	delay := func(int) time.Duration { return time.Duration(50+rand.IntN(200)) * time.Millisecond }
	wait := defaultWait
	if setting == "tuned" {
		opts = []redsync.Option{redsync.WithExpiry(tunedLease), redsync.WithTries(1 << 20)}
		delay = func(int) time.Duration { return 10 * time.Millisecond }
		desc = fmt.Sprintf("expiry %v, unlimited tries 10ms apart for %v", tunedLease, tunedWait)
		wait = tunedWait
	}
	return Peer{
		Name: "redsync", Setting: setting, Settings: desc + ", then read and call; read again only after a wait", Polling: true,
		New: func(env Env) (Instance, error) {
			in := &redsyncInstance{prefix: env.Prefix, opts: opts, delay: delay, wait: wait}
			in.c = newClient(env.Addr, &in.trips)
			in.rs = redsync.New(goredis.NewPool(in.c))
			return in, nil
		},
	}
}

type redsyncInstance struct {
	clientInstance
	rs     *redsync.Redsync
	prefix string
	opts   []redsync.Option
	// delay is the mutex's delay between tries: the default one is
	// redsync's own (the same random 50-250ms), given here so that a lock
	// taken at the first try can be told from one waited for.
	delay func(int) time.Duration
	wait  time.Duration
}

func (r *redsyncInstance) Get(ctx context.Context, key string, fetch Fetch) ([]byte, error) {
	vk := r.prefix + key
	if v, err := readValue(ctx, r.c, vk); v != nil || err != nil {
		return v, err
	}
	waited := false
	opts := append([]redsync.Option{redsync.WithRetryDelayFunc(func(tries int) time.Duration {
		waited = true
		return r.delay(tries)
	})}, r.opts...)
	m := r.rs.NewMutex(vk+":lock", opts...)
	wctx, cancel := context.WithTimeout(ctx, r.wait)
	err := m.LockContext(wctx)
	cancel()
	if err == nil {
		defer m.UnlockContext(context.WithoutCancel(ctx))
		if waited {
			if v, err := readValue(ctx, r.c, vk); v != nil || err != nil {
				return v, err
			}
		}
		return fetchAndWrite(ctx, r.c, vk, fetch)
	}
	var taken *redsync.ErrTaken
	if !errors.Is(err, redsync.ErrFailed) && !errors.As(err, &taken) {
		return nil, fmt.Errorf("redsync Lock %s: %w", vk, err)
	}
	if v, err := readValue(ctx, r.c, vk); v != nil || err != nil {
		return v, err
	}
	return fetchAndWrite(ctx, r.c, vk, fetch)
}
