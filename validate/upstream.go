package validate

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/stampsim/stampsim/world"
)

// errUpstream is what a fetch function fails with during an upstream-errors
// fault.
var errUpstream = errors.New("upstream error (an upstream-errors fault)")

// fetcher returns the upstream call of a request at node for key: it sleeps
// for the latency the simulator gave the same call (scaled beyond the
// upstream's capacity as the simulator does, and by an upstream-slowdown in
// force), fails it when an upstream-errors fault in force fails the same
// call in the simulator, and counts duplicates with the simulator's own code
// (counting.Duplicates): a call for a key in a region while another is in
// progress, or less than the shared TTL after one succeeded.
func (w *realWorld) fetcher(node, key int) func(context.Context) ([]byte, error) {
	return func(ctx context.Context) ([]byte, error) {
		region := w.shape.RegionID(node)
		w.mu.Lock()
		if w.dups.Start(region, key, time.Since(w.start)) {
			w.duplicates++
		}
		w.upInflight++
		lock := world.LockInstance(w.shape, w.topo, node)
		ck := int64(lock)<<32 | int64(key)
		rank := w.upCalls[ck]
		w.upCalls[ck]++
		lat := float64(w.latency(lock, key, rank))
		factor, errRate := w.faults.upstream()
		lat *= factor
		if c := w.sc.Upstream.Capacity; c > 0 && w.upInflight > c {
			lat *= float64(w.upInflight) / float64(c)
		}
		w.mu.Unlock()
		failed := errRate > 0 && w.errorDraw(lock, key, rank) < errRate

		var err error
		select {
		case <-time.After(time.Duration(lat)):
		case <-ctx.Done():
			err = ctx.Err()
		}
		if err == nil && failed {
			err = errUpstream
		}
		w.mu.Lock()
		w.dups.Done(region, key, time.Since(w.start), err == nil)
		w.upInflight--
		w.mu.Unlock()
		if err != nil {
			return nil, err
		}
		return []byte(strconv.FormatUint(w.fetchSerial.Add(1), 10)), nil
	}
}
