package peers

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-redis/cache/v9"
	"github.com/redis/go-redis/v9"
	"github.com/viccon/sturdyc"
)

// gocachePeer is github.com/go-redis/cache/v9's Once: a singleflight per
// instance in front of Redis (and, tuned, of an in-process TinyLFU), with
// no lock across instances: each instance that misses calls the upstream.
func gocachePeer(setting string) Peer {
	desc := "Options{Redis}: Once, no local cache"
	local := false
	if setting == "tuned" {
		desc, local = "Options{Redis, LocalCache: NewTinyLFU(10000, 1m)}: Once", true
	}
	return Peer{
		Name: "go-redis/cache", Setting: setting, Settings: desc,
		New: func(env Env) (Instance, error) {
			in := &gocacheInstance{prefix: env.Prefix}
			in.c = newClient(env.Addr, &in.trips)
			opt := &cache.Options{Redis: in.c}
			if local {
				opt.LocalCache = cache.NewTinyLFU(10000, time.Minute)
			}
			in.cd = cache.New(opt)
			return in, nil
		},
	}
}

type gocacheInstance struct {
	clientInstance
	cd     *cache.Cache
	prefix string
}

func (g *gocacheInstance) Get(ctx context.Context, key string, fetch Fetch) ([]byte, error) {
	var v []byte
	err := g.cd.Once(&cache.Item{
		Ctx: ctx, Key: g.prefix + key, Value: &v, TTL: CacheTTL,
		Do: func(*cache.Item) (any, error) { return fetch(ctx) },
	})
	if err != nil {
		return nil, fmt.Errorf("go-redis/cache Once %s: %w", key, err)
	}
	return v, nil
}

// sturdycPeer is github.com/viccon/sturdyc, the in-process choice: its
// GetOrFetch coalesces an instance's concurrent misses; by default it keeps
// values in process only, and tuned it shares them through Redis
// (WithDistributedStorage), still without a lock across instances.
func sturdycPeer(setting string) Peer {
	desc := "New(10000 keys, 10 shards, TTL 10s, evict 10%): GetOrFetch, in process only"
	shared := false
	if setting == "tuned" {
		desc, shared = "as default, WithDistributedStorage on the Redis (GET, async SET)", true
	}
	return Peer{
		Name: "sturdyc", Setting: setting, Settings: desc,
		New: func(env Env) (Instance, error) {
			in := &sturdycInstance{}
			var opts []sturdyc.Option
			if shared {
				in.c = newClient(env.Addr, &in.trips)
				opts = append(opts, sturdyc.WithDistributedStorage(&redisStorage{c: in.c, prefix: env.Prefix}))
			}
			in.s = sturdyc.New[[]byte](10000, 10, CacheTTL, 10, opts...)
			return in, nil
		},
	}
}

type sturdycInstance struct {
	s     *sturdyc.Client[[]byte]
	c     *redis.Client // nil unless tuned
	trips atomic.Uint64
}

func (s *sturdycInstance) Get(ctx context.Context, key string, fetch Fetch) ([]byte, error) {
	return s.s.GetOrFetch(ctx, key, sturdyc.FetchFn[[]byte](fetch))
}

func (s *sturdycInstance) RoundTrips() uint64    { return s.trips.Load() }
func (s *sturdycInstance) Client() *redis.Client { return s.c }

func (s *sturdycInstance) Kill() {
	if s.c != nil {
		_ = s.c.Close()
	}
}

func (s *sturdycInstance) Close() error {
	if s.c == nil {
		return nil
	}
	if err := s.c.Close(); err != nil && err != redis.ErrClosed {
		return err
	}
	return nil
}

// redisStorage is sturdyc's DistributedStorage on go-redis, as its README
// has users write it: GET and SET with the cache TTL, MGET and a pipeline
// of SETs for batches.
type redisStorage struct {
	c      *redis.Client
	prefix string
}

func (r *redisStorage) Get(ctx context.Context, key string) ([]byte, bool) {
	v, err := r.c.Get(ctx, r.prefix+key).Bytes()
	return v, err == nil
}

func (r *redisStorage) Set(ctx context.Context, key string, value []byte) {
	_ = r.c.Set(ctx, r.prefix+key, value, CacheTTL).Err()
}

func (r *redisStorage) GetBatch(ctx context.Context, keys []string) map[string][]byte {
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = r.prefix + k
	}
	vals, err := r.c.MGet(ctx, full...).Result()
	out := make(map[string][]byte, len(keys))
	if err != nil {
		return out
	}
	for i, v := range vals {
		if s, ok := v.(string); ok {
			out[keys[i]] = []byte(s)
		}
	}
	return out
}

func (r *redisStorage) SetBatch(ctx context.Context, records map[string][]byte) {
	p := r.c.Pipeline()
	for k, v := range records {
		p.Set(ctx, r.prefix+k, v, CacheTTL)
	}
	_, _ = p.Exec(ctx)
}
