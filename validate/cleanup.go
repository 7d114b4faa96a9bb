package validate

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// cleanupTimeout bounds the deletion of a run's keys. It runs under a
// context of its own, so that a validation that was cancelled (interrupted)
// still leaves nothing behind.
const cleanupTimeout = 10 * time.Second

// deleteKeys deletes every key that starts with prefix, on every master of
// a Cluster, with SCAN and UNLINK: validate runs against a server that may
// hold other data, so it removes exactly the keys it made and never
// flushes. It returns how many it deleted.
func deleteKeys(ctx context.Context, c redis.UniversalClient, prefix string) (int64, error) {
	pattern := globEscape(prefix) + "*"
	var deleted atomic.Int64
	// scan deletes the matching keys of one server; on a Cluster one
	// UNLINK may name keys of one slot only, so each goes on its own.
	scan := func(ctx context.Context, srv *redis.Client, oneByOne bool) error {
		var cursor uint64
		for {
			keys, next, err := srv.Scan(ctx, cursor, pattern, 1000).Result()
			if err != nil {
				return fmt.Errorf("SCAN MATCH %s on %s: %w", pattern, srv.Options().Addr, err)
			}
			batches := [][]string{keys}
			if oneByOne {
				batches = batches[:0]
				for _, k := range keys {
					batches = append(batches, []string{k})
				}
			}
			for _, b := range batches {
				if len(b) == 0 {
					continue
				}
				n, err := srv.Unlink(ctx, b...).Result()
				deleted.Add(n)
				if err != nil {
					return fmt.Errorf("UNLINK on %s: %w", srv.Options().Addr, err)
				}
			}
			if cursor = next; cursor == 0 {
				return nil
			}
		}
	}
	var err error
	switch cc := c.(type) {
	case *redis.ClusterClient:
		err = cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return scan(ctx, m, true) })
	case *redis.Client:
		err = scan(ctx, cc, false)
	default:
		err = fmt.Errorf("a client of type %T cannot be scanned", c)
	}
	return deleted.Load(), err
}

// globEscape escapes the characters SCAN's MATCH pattern treats specially.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// cleanup deletes the keys under prefix, under a context of its own that
// outlives ctx by cleanupTimeout: an interrupted run cleans up too.
func cleanup(ctx context.Context, c redis.UniversalClient, prefix string, logf func(string, ...any)) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	n, err := deleteKeys(ctx, c, prefix)
	if err != nil {
		return fmt.Errorf("deleting validate's keys %s*: %w", prefix, err)
	}
	logf("deleted the %d keys under %s", n, prefix)
	return nil
}
