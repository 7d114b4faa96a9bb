package validate

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/stampsim/stampsim/real/redistest"
)

// deleteKeys removes the keys under a prefix from every master of a
// Cluster, whatever their slots, and nothing else.
func TestDeleteKeysOnACluster(t *testing.T) {
	cl := redistest.StartClusterT(t, 3)
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs()})
	defer c.Close()
	ctx := context.Background()
	const prefix = "stampsim:validate:1-2:"
	for i := range 300 {
		for _, k := range []string{fmt.Sprintf("%s0:s%d:region:{k%d}:v", prefix, i%7, i), fmt.Sprintf("other:{k%d}", i)} {
			if err := c.Set(ctx, k, "x", 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	n, err := deleteKeys(ctx, c, prefix)
	if err != nil || n != 300 {
		t.Fatalf("deleted %d keys (%v), want 300", n, err)
	}
	var left, others atomic.Int64 // ForEachMaster runs the masters at once
	err = c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		keys, err := m.Keys(ctx, "*").Result()
		for _, k := range keys {
			if strings.HasPrefix(k, prefix) {
				left.Add(1)
			} else {
				others.Add(1)
			}
		}
		return err
	})
	if err != nil || left.Load() != 0 || others.Load() != 300 {
		t.Errorf("left %d of validate's keys and %d others (%v); want none and 300", left.Load(), others.Load(), err)
	}
}

func TestGlobEscape(t *testing.T) {
	if got := globEscape(`a*b?c[d]e\f:`); got != `a\*b\?c\[d\]e\\f:` {
		t.Errorf("globEscape: %s", got)
	}
}
