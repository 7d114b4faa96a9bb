package real

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/memstore"
	"github.com/stampsim/stampsim/real/redistest"
)

// scriptStep is one operation of the scripts' specification, or, with
// advance set, time passing.
type scriptStep struct {
	kind     locks.OpKind
	key      string
	token    uint64
	fence    uint64
	ttl      time.Duration
	fenceTTL time.Duration
	value    string
	advance  time.Duration
	// refresh and early are a read-or-acquire's Op.Refresh and Op.Early,
	// delta a publish's Op.Delta.
	refresh time.Duration
	early   float64
	delta   time.Duration
}

// scriptSpec runs every script through the cases that matter, beside
// memstore, the reference the simulator uses. lease and cacheTTL are short on
// a real server, where time passes by sleeping; cacheTTL must not be shorter
// than lease, so that the fences live as long as the cache (locks.FenceTTL).
func scriptSpec(lease, cacheTTL time.Duration) []scriptStep {
	f := locks.FenceTTL(locks.Level{LeaseTTL: lease}, cacheTTL)
	return []scriptStep{
		{kind: locks.OpReadOrAcquire, key: "k", token: 1, ttl: lease, fenceTTL: f},                    // acquired, fence 1
		{kind: locks.OpReadOrAcquire, key: "k", token: 2, ttl: lease, fenceTTL: f},                    // held
		{kind: locks.OpExtend, key: "k", token: 2, ttl: lease, fenceTTL: f},                           // not held
		{kind: locks.OpExtend, key: "k", token: 1, ttl: lease, fenceTTL: f},                           // renewed, and the fence counter with it
		{kind: locks.OpRelease, key: "k", token: 2},                                                   // not held
		{advance: lease + lease/2},                                                                    // the lease runs out; the counter lives on
		{kind: locks.OpExtend, key: "k", token: 1, ttl: lease, fenceTTL: f},                           // lost
		{kind: locks.OpReadOrAcquire, key: "k", token: 2, ttl: lease, fenceTTL: f},                    // acquired, fence 2
		{kind: locks.OpPublish, key: "k", token: 1, fence: 1, ttl: cacheTTL, fenceTTL: f, value: "a"}, // written, the new holder's lock stays
		{kind: locks.OpReadOrAcquire, key: "k", token: 3, ttl: lease, fenceTTL: f},                    // value a
		{kind: locks.OpPublish, key: "k", token: 2, fence: 2, ttl: cacheTTL, fenceTTL: f, value: "b"}, // written, released
		{kind: locks.OpPublish, key: "k", token: 1, fence: 1, ttl: cacheTTL, fenceTTL: f, value: "c"}, // refused: older fence, nothing held
		{kind: locks.OpReadOrAcquire, key: "k", token: 3, ttl: lease, fenceTTL: f},                    // value b
		{advance: cacheTTL + cacheTTL/2},                                                              // the value expires, and the fences with it
		{kind: locks.OpPublish, key: "k", token: 2, fence: 2, ttl: cacheTTL, fenceTTL: f, value: "e"}, // refused: beyond the fresh (absent) counter
		{kind: locks.OpReadOrAcquire, key: "k", token: 3, ttl: lease, fenceTTL: f},                    // acquired, fence 1 of a fresh counter
		{kind: locks.OpPublish, key: "k", token: 9, fence: 1, ttl: cacheTTL, fenceTTL: f, value: "d"}, // written, not released (not our token)
		{kind: locks.OpRelease, key: "k", token: 3},                                                   // released
		{kind: locks.OpRelease, key: "k", token: 3},                                                   // not held
		{kind: locks.OpReadOrAcquire, key: "k", token: 4, ttl: lease, fenceTTL: f},                    // value d
		{kind: locks.OpReadOrAcquire, key: "other", token: 5, ttl: lease, fenceTTL: f},                // acquired, fence 1 of its own key
		{kind: locks.OpPublish, key: "other", token: 5, fence: 1, ttl: cacheTTL, fenceTTL: f, value: ""},
		{kind: locks.OpReadOrAcquire, key: "other", token: 6, ttl: lease, fenceTTL: f}, // an empty value is a value
		// A fence the store never granted (a holder from before a restart
		// that lost the keys) is refused, and the value stays.
		{kind: locks.OpPublish, key: "other", token: 5, fence: 7, ttl: cacheTTL, fenceTTL: f, value: "x"},
		{kind: locks.OpReadOrAcquire, key: "other", token: 6, ttl: lease, fenceTTL: f},
		// Without a fence TTL the scripts run one command less where they
		// would set it, as memstore counts.
		{kind: locks.OpReadOrAcquire, key: "bare", token: 7, ttl: lease},                    // acquired, 4 commands
		{kind: locks.OpExtend, key: "bare", token: 7, ttl: lease},                           // renewed, 3
		{kind: locks.OpPublish, key: "bare", token: 7, fence: 1, ttl: cacheTTL, value: "y"}, // written and released, 7
		// Stale-while-revalidate and XFetch: a value within the refresh
		// window of its expiry, or due for an early refresh (time left at
		// most its delta times the early factor), is stale: the lock is
		// tried as on a miss and the value comes back beside it, and the
		// PTTL that decides costs one command more.
		{kind: locks.OpReadOrAcquire, key: "swr", token: 10, ttl: lease, fenceTTL: f},
		{kind: locks.OpPublish, key: "swr", token: 10, fence: 1, ttl: cacheTTL, fenceTTL: f, value: "s", delta: cacheTTL / 10},
		{kind: locks.OpReadOrAcquire, key: "swr", token: 11, ttl: lease, fenceTTL: f, refresh: cacheTTL / 2}, // fresh, with its delta
		{kind: locks.OpReadOrAcquire, key: "swr", token: 11, ttl: lease, fenceTTL: f, early: 2},              // not due yet
		{kind: locks.OpReadOrAcquire, key: "swr", token: 11, ttl: lease, fenceTTL: f, early: 20},             // due: stale, acquired, fence 2
		{kind: locks.OpReadOrAcquire, key: "swr", token: 12, ttl: lease, fenceTTL: f, early: 20},             // due: stale, held
		{kind: locks.OpPublish, key: "swr", token: 11, fence: 2, ttl: cacheTTL, fenceTTL: f, value: "t"},     // no delta
		{kind: locks.OpReadOrAcquire, key: "swr", token: 12, ttl: lease, fenceTTL: f, early: 20},             // never due without a delta
		{advance: cacheTTL * 3 / 4},
		{kind: locks.OpReadOrAcquire, key: "swr", token: 12, ttl: lease, fenceTTL: f, refresh: cacheTTL / 2}, // in the window: stale, acquired, fence 3
		{kind: locks.OpReadOrAcquire, key: "swr", token: 13, ttl: lease, fenceTTL: f, refresh: cacheTTL / 2}, // stale, held
		// A value that begins like an envelope comes back as it was.
		{kind: locks.OpPublish, key: "swr", token: 12, fence: 3, ttl: cacheTTL, fenceTTL: f, value: envelopeMark + "7:x"},
		{kind: locks.OpReadOrAcquire, key: "swr", token: 14, ttl: lease, fenceTTL: f},
		{kind: locks.OpReadOrAcquire, key: "swr", token: 14, ttl: lease, fenceTTL: f, early: 1e9},
	}
}

// runScriptSpec applies the steps to memstore and to the store behind
// client, and checks that every result, every command count and every
// notification agree. It returns the commands counted.
func runScriptSpec(t *testing.T, client redis.UniversalClient, steps []scriptStep, advance func(time.Duration)) int {
	t.Helper()
	ctx := context.Background()
	st := &store{scope: locks.ScopeRegion, client: client, base: "spec:region:{", publish: scriptPublish, release: scriptRelease}
	if cc, ok := client.(*redis.ClusterClient); ok {
		st.cluster = cc
		st.publish, st.release = scriptPublishSharded, scriptReleaseSharded
	}
	var ps *redis.PubSub
	if st.cluster != nil {
		ps = client.SSubscribe(ctx, st.key("k", "r"))
	} else {
		ps = client.Subscribe(ctx, st.key("k", "r"))
	}
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil { // the confirmation
		t.Fatal(err)
	}
	ref := memstore.New[[]byte]()
	var now locks.Time
	commands, stale := 0, 0
	for i, s := range steps {
		if s.advance > 0 {
			advance(s.advance)
			now = now.Add(s.advance)
			continue
		}
		op := locks.Op[[]byte]{Kind: s.kind, Scope: locks.ScopeRegion, Key: s.key, Token: locks.Token{Lo: s.token}, Fence: s.fence, TTL: s.ttl, FenceTTL: s.fenceTTL, Value: []byte(s.value),
			Refresh: s.refresh, Early: s.early, Delta: s.delta}
		want := ref.Apply(now, 0, op)
		got := st.run(ctx, op)
		name := fmt.Sprintf("step %d (%s %s token %d)", i, s.kind, s.key, s.token)
		if got.res.Status == locks.StatusError {
			t.Fatalf("%s: %v", name, got.res.Err)
		}
		w, g := want.Result, got.res
		if g.Status != w.Status || string(g.Value) != string(w.Value) || g.Fence != w.Fence || g.Written != w.Written || g.Released != w.Released ||
			g.Stale != w.Stale || g.Delta != w.Delta {
			t.Errorf("%s: got %+v, memstore says %+v", name, g, w)
		}
		// Redis counts the value's time left in milliseconds, and on a
		// server time passes between the steps.
		if w.Stale && (g.ValueTTL > w.ValueTTL+time.Millisecond || g.ValueTTL < w.ValueTTL-50*time.Millisecond) {
			t.Errorf("%s: stale value with %v left, memstore says %v", name, g.ValueTTL, w.ValueTTL)
		}
		if w.Status == locks.StatusHeld && (g.TTL <= 0 || g.TTL > w.TTL+time.Millisecond) {
			t.Errorf("%s: held with %v left, memstore says %v", name, g.TTL, w.TTL)
		}
		if got.commands != want.Commands || got.roundTrips != 1 {
			t.Errorf("%s: %d commands in %d round trips, memstore counts %d in 1", name, got.commands, got.roundTrips, want.Commands)
		}
		commands += got.commands
		if w.Stale {
			stale++
		}
		if want.Notify && s.key == "k" {
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			msg, err := ps.Receive(rctx)
			cancel()
			if m, ok := msg.(*redis.Message); err != nil || !ok || m.Channel != st.key("k", "r") {
				t.Errorf("%s: memstore notifies, the store sent %v (%v)", name, msg, err)
			}
		}
	}
	// The spec reaches each kind of stale reply: due early, acquired and
	// held; in the refresh window, acquired and held.
	if stale != 4 {
		t.Errorf("%d stale replies, the spec has 4", stale)
	}
	// Nothing more was announced than memstore announced.
	if msg, err := ps.ReceiveTimeout(ctx, 100*time.Millisecond); err == nil {
		t.Errorf("the store announced %v, which memstore did not", msg)
	}
	return commands
}

// The scripts do what memstore does, with the same command counts, on the
// embedded miniredis (with its clock moved by hand).
func TestScriptsMirrorMemstoreOnMiniredis(t *testing.T) {
	ign := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ign) })
	m := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: m.Addr(), MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	if err := c.ScriptLoad(context.Background(), srcReadOrAcquire).Err(); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{srcPublish, srcExtend, srcRelease} {
		c.ScriptLoad(context.Background(), src)
	}
	runScriptSpec(t, c, scriptSpec(time.Second, 10*time.Second), m.FastForward)
}

// The same on redis-server, where INFO commandstats must also agree.
func TestScriptsMirrorMemstoreOnRedisServer(t *testing.T) {
	srv := redistest.StartT(t)
	ign := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ign) })
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	for _, src := range []string{srcReadOrAcquire, srcPublish, srcExtend, srcRelease} {
		if err := c.ScriptLoad(context.Background(), src).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := redistest.ResetStats(srv.Addr); err != nil {
		t.Fatal(err)
	}
	commands := runScriptSpec(t, c, scriptSpec(300*time.Millisecond, 600*time.Millisecond), time.Sleep)
	stats, err := redistest.CommandStats(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	// The spec's own SUBSCRIBE is one command more.
	if got := redistest.Counted(stats); got != uint64(commands)+1 {
		t.Errorf("INFO commandstats counts %d commands %v, the scripts reported %d and the spec subscribed once", got, stats, commands)
	}
}

// A script the server has lost costs an EVALSHA that is refused, then an
// EVAL: two round trips and one command more.
func TestNoScriptFallsBackToEval(t *testing.T) {
	ign := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ign) })
	m := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: m.Addr(), MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	st := &store{scope: locks.ScopeRegion, client: c, base: "spec:region:{", publish: scriptPublish, release: scriptRelease}
	op := locks.Op[[]byte]{Kind: locks.OpReadOrAcquire, Key: "k", Token: locks.Token{Lo: 1}, TTL: time.Second}
	first := st.run(context.Background(), op)
	second := st.run(context.Background(), op)
	if first.res.Status != locks.StatusAcquired || first.roundTrips != 2 || first.commands != 5 {
		t.Errorf("first run: %+v, want acquired in 2 round trips and 5 commands", first)
	}
	if second.res.Status != locks.StatusHeld || second.roundTrips != 1 || second.commands != 4 {
		t.Errorf("second run: %+v, want held in 1 round trip and 4 commands", second)
	}
}
