package peers

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// value is what every upstream returns.
var value = []byte("the value of the key, about as long as a small cached object")

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// upstream returns a fetch that takes d, counting its calls in calls and
// marking in first when the first call began and in done when the first
// call returned (the value then exists).
func upstream(d time.Duration, calls *atomic.Int64, first, done *atomic.Int64) Fetch {
	return func(ctx context.Context) ([]byte, error) {
		calls.Add(1)
		if first != nil {
			first.CompareAndSwap(0, time.Now().UnixNano())
		}
		if err := sleep(ctx, d); err != nil {
			return nil, err
		}
		if done != nil {
			done.CompareAndSwap(0, time.Now().UnixNano())
		}
		return value, nil
	}
}

// uncontended makes calls misses one after another on one instance, each
// for a key of its own, with an upstream that answers at once: what the
// peer itself costs on a miss.
func uncontended(ctx context.Context, in Instance, calls int) (map[string]float64, error) {
	var n atomic.Int64
	fetch := upstream(0, &n, nil, nil)
	lat := make([]float64, calls)
	for i := range calls {
		t0 := time.Now()
		if _, err := in.Get(ctx, fmt.Sprintf("u%d", i), fetch); err != nil {
			return nil, fmt.Errorf("call %d: %w", i, err)
		}
		lat[i] = float64(time.Since(t0).Nanoseconds())
	}
	slices.Sort(lat)
	return map[string]float64{
		"calls":          float64(calls),
		"latency_p50_ns": lat[len(lat)/2],
		"latency_p99_ns": lat[len(lat)*99/100],
		"upstream_calls": float64(n.Load()),
	}, nil
}

// stampede starts requests callers of one key at once, caller i on
// instance i mod len(ins), against an upstream that takes up, and waits
// for them all (each for at most limit).
func stampede(ctx context.Context, ins []Instance, requests int, up, limit time.Duration) (map[string]float64, error) {
	var calls, written atomic.Int64
	fetch := upstream(up, &calls, nil, &written)
	returned := make([]int64, requests)
	var failed atomic.Int64
	var firstErr error
	var errOnce sync.Once
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			cctx, cancel := context.WithTimeout(ctx, limit)
			defer cancel()
			if _, err := ins[i%len(ins)].Get(cctx, "hot", fetch); err != nil {
				failed.Add(1)
				errOnce.Do(func() { firstErr = err })
			}
			returned[i] = time.Now().UnixNano()
		}()
	}
	t0 := time.Now().UnixNano()
	close(start)
	wg.Wait()
	last := slices.Max(returned)
	m := map[string]float64{
		"requests":       float64(requests),
		"instances":      float64(len(ins)),
		"upstream_calls": float64(calls.Load()),
		"errors":         float64(failed.Load()),
		"last_ns":        float64(last - t0),
	}
	if w := written.Load(); w != 0 {
		lags := make([]float64, requests)
		for i, r := range returned {
			lags[i] = float64(max(r-w, 0))
		}
		slices.Sort(lags)
		m["after_value_p99_ns"] = lags[requests*99/100]
		m["after_value_max_ns"] = lags[requests-1]
	}
	if firstErr != nil && failed.Load() == int64(requests) {
		return m, fmt.Errorf("every caller failed, the first with: %w", firstErr)
	}
	return m, nil
}

// deadHolder lets a caller on ins[0] take the key's lock (its upstream call
// never returns), then kills ins[0] and starts waiters callers on the other
// instances; it measures how long after the death the first of them calls
// the upstream (proceeds) and the last has its value, each waiting at most
// limit.
func deadHolder(ctx context.Context, ins []Instance, waiters int, up, limit time.Duration) (map[string]float64, error) {
	if len(ins) < 2 {
		return nil, errors.New("the dead-holder case needs at least two instances")
	}
	dead := make(chan struct{})
	holding := make(chan struct{})
	var once sync.Once
	holderFetch := func(ctx context.Context) ([]byte, error) {
		once.Do(func() { close(holding) })
		<-dead
		return nil, errors.New("the holder died")
	}
	holderDone := make(chan struct{})
	go func() {
		defer close(holderDone)
		_, _ = ins[0].Get(context.WithoutCancel(ctx), "hot", holderFetch)
	}()
	select {
	case <-holding:
	case <-time.After(10 * time.Second):
		close(dead)
		return nil, errors.New("the holder did not start its upstream call within 10s")
	}
	t0 := time.Now().UnixNano()
	ins[0].Kill()

	var calls, first atomic.Int64
	fetch := upstream(up, &calls, &first, nil)
	returned := make([]int64, waiters)
	var failed atomic.Int64
	var wg sync.WaitGroup
	for i := range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, limit)
			defer cancel()
			if _, err := ins[1+i%(len(ins)-1)].Get(cctx, "hot", fetch); err != nil {
				failed.Add(1)
			}
			returned[i] = time.Now().UnixNano()
		}()
	}
	wg.Wait()
	close(dead)
	<-holderDone
	m := map[string]float64{
		"waiters":        float64(waiters),
		"upstream_calls": float64(calls.Load()),
		"errors":         float64(failed.Load()),
		"last_ns":        float64(slices.Max(returned) - t0),
		"limit_ns":       float64(limit.Nanoseconds()),
	}
	if f := first.Load(); f != 0 {
		m["proceed_ns"] = float64(f - t0)
	}
	return m, nil
}

// zipf makes calls requests over keys keys drawn from a Zipf distribution
// (s 1.1), from workers goroutines spread over the instances, against an
// upstream that takes up, and measures the calls per second.
func zipf(ctx context.Context, ins []Instance, calls, workers, keys int, up time.Duration) (map[string]float64, error) {
	var n atomic.Int64
	fetch := upstream(up, &n, nil, nil)
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			z := rand.NewZipf(rand.New(rand.NewPCG(1, uint64(w))), 1.1, 1, uint64(keys-1))
			in := ins[w%len(ins)]
			<-start
			for i := w; i < calls; i += workers {
				if _, err := in.Get(ctx, fmt.Sprintf("z%d", z.Uint64()), fetch); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	el := time.Since(t0)
	return map[string]float64{
		"calls":          float64(calls),
		"workers":        float64(workers),
		"keys":           float64(keys),
		"upstream_calls": float64(n.Load()),
		"errors":         float64(failed.Load()),
		"elapsed_ns":     float64(el.Nanoseconds()),
		"calls_per_s":    float64(calls) / el.Seconds(),
	}, nil
}
