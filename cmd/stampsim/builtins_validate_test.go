package main

import (
	"context"
	"io"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/stampsim/stampsim/real/redistest"
	"github.com/stampsim/stampsim/scenarios"
)

// stampsim validate agrees on every built-in scenario it ships, with its
// default flags, against the embedded miniredis and against a redis-server
// of the test's own, which it leaves as empty as it found it.
func TestValidateEveryBuiltin(t *testing.T) {
	srv := redistest.StartT(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer c.Close()
	for _, store := range []struct {
		name string
		args []string
	}{
		{"miniredis", nil},
		{"redis-server", []string{"--redis", "redis://" + srv.Addr + "/0"}},
	} {
		for _, name := range scenarios.BuiltinNames() {
			t.Run(store.name+"/"+name, func(t *testing.T) {
				args := append([]string{"validate", name, "-q"}, store.args...)
				code, out, errs := exec(t, newApp(io.Discard, io.Discard), context.Background(), args...)
				if code != 0 {
					t.Errorf("exit %d, want 0\n%s\n%s", code, out, errs)
				}
				if n, err := c.DBSize(context.Background()).Result(); err != nil || n != 0 {
					t.Errorf("the redis-server holds %d keys after validate (%v), want none", n, err)
				}
			})
		}
	}
}
