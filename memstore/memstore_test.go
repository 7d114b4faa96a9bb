package memstore_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/memstore"
)

const ms = time.Millisecond

var (
	tokA = locks.Token{Hi: 1, Lo: 1}
	tokB = locks.Token{Hi: 2, Lo: 2}
)

// step is one operation applied at a time, and what it must answer.
type step struct {
	at   time.Duration
	sub  int32
	op   locks.Op[string]
	want locks.Result[string]
	// commands is what the matching script runs, counted as redis-server's
	// INFO commandstats counts it (the script call plus each command).
	commands int
	notify   bool
}

func ra(tok locks.Token, ttl time.Duration) locks.Op[string] {
	return locks.Op[string]{Kind: locks.OpReadOrAcquire, Key: "k", Token: tok, TTL: ttl}
}

func publish(tok locks.Token, fence uint64, v string, ttl time.Duration) locks.Op[string] {
	return locks.Op[string]{Kind: locks.OpPublish, Key: "k", Token: tok, Fence: fence, Value: v, TTL: ttl}
}

func op(kind locks.OpKind, tok locks.Token, ttl time.Duration) locks.Op[string] {
	return locks.Op[string]{Kind: kind, Key: "k", Token: tok, TTL: ttl}
}

// fenced gives o a fence TTL, as the machine gives its operations.
func fenced(o locks.Op[string], fenceTTL time.Duration) locks.Op[string] {
	o.FenceTTL = fenceTTL
	return o
}

// stores are the ways to make a store; every test runs against each, and
// they must behave alike. The indexed one numbers "k" 1 (in its slice) and
// "k0" 0, puts "k1" beyond its slice (number 5) and gives other keys no
// number, so that both of its halves are exercised.
var stores = []struct {
	name string
	new  func() *memstore.Store[string]
}{
	{"map", memstore.New[string]},
	{"indexed", func() *memstore.Store[string] {
		return memstore.NewIndexed[string](func(key string) int {
			switch key {
			case "k":
				return 1
			case "k0":
				return 0
			case "k1":
				return 5
			}
			return -1
		}, 2)
	}},
}

// forEachStore runs test once for each way to make a store.
func forEachStore(t *testing.T, test func(t *testing.T, newStore func() *memstore.Store[string])) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) { test(t, st.new) })
	}
}

var (
	acquired = func(f uint64) locks.Result[string] {
		return locks.Result[string]{Status: locks.StatusAcquired, Fence: f}
	}
	held = func(ttl time.Duration) locks.Result[string] {
		return locks.Result[string]{Status: locks.StatusHeld, TTL: ttl}
	}
	value   = func(v string) locks.Result[string] { return locks.Result[string]{Status: locks.StatusValue, Value: v} }
	ok      = locks.Result[string]{Status: locks.StatusOK}
	notHeld = locks.Result[string]{Status: locks.StatusNotHeld}
	wrote   = func(written, released bool) locks.Result[string] {
		return locks.Result[string]{Status: locks.StatusOK, Written: written, Released: released}
	}
)

// Each script of the protocol, step by step against one key.
func TestOperations(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"read-or-acquire takes a free lock and bumps the fence, then reports it held with its remaining lease", []step{
			{at: 0, op: ra(tokA, time.Second), want: acquired(1), commands: 4},
			{at: 300 * ms, op: ra(tokB, time.Second), want: held(700 * ms), commands: 4},
		}},
		{"an expired lease frees the lock for the next acquirer, with a newer fence", []step{
			{at: 0, op: ra(tokA, time.Second), want: acquired(1), commands: 4},
			{at: time.Second, op: ra(tokB, time.Second), want: acquired(2), commands: 4},
		}},
		{"publish writes, releases and notifies; the value is then read until its TTL", []step{
			{at: 0, op: ra(tokA, time.Second), want: acquired(1), commands: 4},
			{at: 10 * ms, op: publish(tokA, 1, "v1", 100*ms), want: wrote(true, true), commands: 7, notify: true},
			{at: 20 * ms, op: ra(tokB, time.Second), want: value("v1"), commands: 2},
			{at: 110 * ms, op: ra(tokB, time.Second), want: acquired(2), commands: 4},
		}},
		{"a publish with an older fence is refused, and does not delete the newer holder's lock", []step{
			{at: 0, op: ra(tokA, 100*ms), want: acquired(1), commands: 4},
			{at: 200 * ms, op: ra(tokB, time.Second), want: acquired(2), commands: 4},
			{at: 300 * ms, op: publish(tokB, 2, "v2", time.Second), want: wrote(true, true), commands: 7, notify: true},
			{at: 400 * ms, op: publish(tokA, 1, "v1", time.Second), want: wrote(false, false), commands: 3},
			{at: 500 * ms, op: ra(tokA, time.Second), want: value("v2"), commands: 2},
		}},
		{"a late publish with an equal or newer fence is written, but releases only its own lock", []step{
			{at: 0, op: ra(tokA, 100*ms), want: acquired(1), commands: 4},
			{at: 200 * ms, op: ra(tokB, time.Second), want: acquired(2), commands: 4},
			{at: 300 * ms, op: publish(tokA, 1, "v1", time.Second), want: wrote(true, false), commands: 6, notify: true},
			{at: 400 * ms, op: ra(tokA, time.Second), want: value("v1"), commands: 2},
			{at: 500 * ms, op: publish(tokB, 2, "v2", time.Second), want: wrote(true, true), commands: 7, notify: true},
			{at: 600 * ms, op: ra(tokA, time.Second), want: value("v2"), commands: 2},
		}},
		{"extend renews only the holder's lease", []step{
			{at: 0, op: ra(tokA, 100*ms), want: acquired(1), commands: 4},
			{at: 50 * ms, op: op(locks.OpExtend, tokB, 100*ms), want: notHeld, commands: 2},
			{at: 90 * ms, op: op(locks.OpExtend, tokA, 100*ms), want: ok, commands: 3},
			{at: 150 * ms, op: ra(tokB, time.Second), want: held(40 * ms), commands: 4},
			{at: 190 * ms, op: op(locks.OpExtend, tokA, 100*ms), want: notHeld, commands: 2},
		}},
		{"release deletes only the holder's lock and notifies", []step{
			{at: 0, op: ra(tokA, time.Second), want: acquired(1), commands: 4},
			{at: 10 * ms, op: op(locks.OpRelease, tokB, 0), want: notHeld, commands: 2},
			{at: 20 * ms, op: op(locks.OpRelease, tokA, 0), want: ok, commands: 4, notify: true},
			{at: 30 * ms, op: op(locks.OpRelease, tokA, 0), want: notHeld, commands: 2},
			{at: 40 * ms, op: ra(tokB, time.Second), want: acquired(2), commands: 4},
		}},
		{"with a fence TTL, a stale write is refused while the newer value is cached; once the fences expire it meets a fresh counter", []step{
			{at: 0, op: fenced(ra(tokA, 100*ms), time.Second), want: acquired(1), commands: 5},
			{at: 200 * ms, op: fenced(ra(tokB, time.Second), time.Second), want: acquired(2), commands: 5},
			{at: 300 * ms, op: fenced(publish(tokB, 2, "v2", time.Second), time.Second), want: wrote(true, true), commands: 8, notify: true},
			{at: 400 * ms, op: fenced(publish(tokA, 1, "v1", time.Second), time.Second), want: wrote(false, false), commands: 3},
			{at: 1200 * ms, op: fenced(ra(tokA, 100*ms), time.Second), want: value("v2"), commands: 2},
			{at: 1300 * ms, op: fenced(ra(tokA, time.Second), time.Second), want: acquired(1), commands: 5},
			{at: 1350 * ms, op: fenced(publish(tokB, 2, "v2 again", time.Second), time.Second), want: wrote(false, false), commands: 3},
			{at: 1400 * ms, op: fenced(publish(tokA, 1, "v3", time.Second), time.Second), want: wrote(true, true), commands: 8, notify: true},
		}},
		{"with a fence TTL, renewals keep the counter as long as the lock, so the holder's late write is accepted", []step{
			{at: 0, op: fenced(ra(tokA, 100*ms), 150*ms), want: acquired(1), commands: 5},
			{at: 90 * ms, op: fenced(op(locks.OpExtend, tokA, 100*ms), 150*ms), want: ok, commands: 4},
			{at: 180 * ms, op: fenced(op(locks.OpExtend, tokA, 100*ms), 150*ms), want: ok, commands: 4},
			{at: 270 * ms, op: fenced(publish(tokA, 1, "v1", 50*ms), 150*ms), want: wrote(true, true), commands: 8, notify: true},
			{at: 280 * ms, op: fenced(op(locks.OpExtend, tokA, 100*ms), 150*ms), want: notHeld, commands: 2},
		}},
		{"subscribe and unsubscribe are idempotent", []step{
			{sub: 3, op: op(locks.OpSubscribe, locks.Token{}, 0), want: ok, commands: 1},
			{sub: 3, op: op(locks.OpSubscribe, locks.Token{}, 0), want: ok, commands: 1},
			{sub: 3, op: op(locks.OpUnsubscribe, locks.Token{}, 0), want: ok, commands: 1},
			{sub: 3, op: op(locks.OpUnsubscribe, locks.Token{}, 0), want: ok, commands: 1},
		}},
	}
	forEachStore(t, func(t *testing.T, newStore func() *memstore.Store[string]) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := newStore()
				for i, st := range tt.steps {
					a := s.Apply(locks.Time(st.at), st.sub, st.op)
					if a.Result != st.want || a.Commands != st.commands || a.Notify != st.notify {
						t.Errorf("step %d (%s at %v): got %+v, %d commands, notify %v; want %+v, %d, %v",
							i, st.op.Kind, st.at, a.Result, a.Commands, a.Notify, st.want, st.commands, st.notify)
					}
				}
			})
		}
	})
}

// Subscribers are kept per key in subscription order; an unsubscribe moves
// the last into the gap.
func TestSubscribers(t *testing.T) { forEachStore(t, testSubscribers) }

func testSubscribers(t *testing.T, newStore func() *memstore.Store[string]) {
	s := newStore()
	for _, sub := range []int32{4, 7, 9, 7} {
		s.Apply(0, sub, op(locks.OpSubscribe, locks.Token{}, 0))
	}
	if got := s.Subscribers("k"); !slices.Equal(got, []int32{4, 7, 9}) {
		t.Errorf("subscribers %v, want [4 7 9]", got)
	}
	s.Apply(0, 4, op(locks.OpUnsubscribe, locks.Token{}, 0))
	if got := s.Subscribers("k"); !slices.Equal(got, []int32{9, 7}) {
		t.Errorf("after 4 left: %v, want [9 7]", got)
	}
	if got := s.Subscribers("other"); got != nil {
		t.Errorf("subscribers of an unknown key: %v", got)
	}
}

// The inspection methods see TTLs at the time they are given.
func TestInspection(t *testing.T) { forEachStore(t, testInspection) }

func testInspection(t *testing.T, newStore func() *memstore.Store[string]) {
	s := newStore()
	s.Apply(0, 0, ra(tokA, 100*ms))
	s.Apply(0, 0, publish(tokA, 1, "v", 200*ms))
	s.Apply(0, 0, ra(tokB, 100*ms)) // reads the value: no lock taken
	if v, ok := s.Value(locks.Time(199*ms), "k"); !ok || v != "v" {
		t.Errorf("Value at 199ms: %q, %v", v, ok)
	}
	if _, ok := s.Value(locks.Time(200*ms), "k"); ok {
		t.Errorf("Value at 200ms still there")
	}
	s.Apply(locks.Time(300*ms), 0, ra(tokB, 100*ms))
	if tok, ok := s.Holder(locks.Time(399*ms), "k"); !ok || tok != tokB {
		t.Errorf("Holder at 399ms: %v, %v", tok, ok)
	}
	if _, ok := s.Holder(locks.Time(400*ms), "k"); ok {
		t.Errorf("Holder at 400ms still there")
	}
	if c, a := s.Fence(locks.Time(400*ms), "k"); c != 2 || a != 1 {
		t.Errorf("Fence: counter %d, accepted %d; want 2, 1", c, a)
	}
	if s.Len() != 1 {
		t.Errorf("Len %d, want 1", s.Len())
	}
	s.Clear()
	if c, a := s.Fence(locks.Time(400*ms), "k"); c != 0 || a != 0 || s.Len() != 0 {
		t.Errorf("after Clear: fence %d/%d, %d keys", c, a, s.Len())
	}
}

// A store that restarted empty has forgotten its fence counter. A holder
// from before the restart must not get its write accepted with a fence the
// store has not granted since: that would make the store refuse every fresh
// value whose (restarted) fence is lower, until the counter caught up. The
// store refuses it instead, and the accepted fence never passes the counter.
func TestWriteFromBeforeRestartIsRefused(t *testing.T) {
	forEachStore(t, testWriteFromBeforeRestartIsRefused)
}

func testWriteFromBeforeRestartIsRefused(t *testing.T, newStore func() *memstore.Store[string]) {
	s := newStore()
	for i := range 5 {
		tok := locks.Token{Lo: uint64(i)}
		s.Apply(locks.Time(i), 0, ra(tok, time.Second))
		s.Apply(locks.Time(i), 0, publish(tok, uint64(i+1), "old", 0)) // written, expires at once
	}
	s.Apply(10, 0, ra(tokA, time.Second)) // fence 6
	s.Clear()
	if a := s.Apply(20, 0, publish(tokA, 6, "stale", time.Second)); a.Result.Written {
		t.Errorf("write with fence 6 after the restart was accepted")
	}
	if c, a := s.Fence(20, "k"); a > c {
		t.Errorf("accepted fence %d beyond the counter %d", a, c)
	}
	if a := s.Apply(30, 0, ra(tokB, time.Second)); a.Result != acquired(1) {
		t.Fatalf("acquisition after the restart: %+v", a.Result)
	}
	if a := s.Apply(40, 0, publish(tokB, 1, "fresh", time.Second)); !a.Result.Written || !a.Result.Released {
		t.Errorf("fresh write after the restart: %+v, want written and released", a.Result)
	}
	if v, _ := s.Value(50, "k"); v != "fresh" {
		t.Errorf("store holds %q, want the fresh value", v)
	}
}

// Keys do not share anything.
func TestKeysAreIndependent(t *testing.T) { forEachStore(t, testKeysAreIndependent) }

func testKeysAreIndependent(t *testing.T, newStore func() *memstore.Store[string]) {
	s := newStore()
	for i := range 3 { // for the indexed store: in its slice, beyond it, unnumbered
		k := fmt.Sprint("k", i)
		a := s.Apply(0, 0, locks.Op[string]{Kind: locks.OpReadOrAcquire, Key: k, Token: tokA, TTL: time.Second})
		if a.Result != acquired(1) {
			t.Errorf("%s: %+v, want its own first fence", k, a.Result)
		}
	}
	if s.Len() != 3 {
		t.Errorf("Len %d, want 3", s.Len())
	}
}

// An indexed store grows its slice as larger numbers come, keeps the entries
// it has, and after Clear has forgotten every key, numbered or not. It does
// so whether the ops name their keys only or also carry their numbers
// (Op.KeyNumbered, as a numbering machine sends them, which the store takes
// at its word): Fence, which finds a key by name, sees what the ops did
// only if the store put each where its number says, key 0 included.
func TestIndexedGrowsAndClears(t *testing.T) {
	number := func(key string) int {
		var n int
		if _, err := fmt.Sscanf(key, "k%d", &n); err != nil {
			return -1
		}
		return n
	}
	for _, numbered := range []bool{false, true} {
		t.Run(fmt.Sprintf("numbered ops %v", numbered), func(t *testing.T) {
			s := memstore.NewIndexed[string](number, 1000)
			keys := []string{"k0", "k999", "k5", "k1000", "other"}
			for i, k := range keys {
				op := locks.Op[string]{Kind: locks.OpReadOrAcquire, Key: k, Token: tokA, TTL: time.Second}
				if n := number(k); numbered && n >= 0 {
					op.KeyNum, op.KeyNumbered = uint32(n), true
				}
				a := s.Apply(locks.Time(i), 0, op)
				if a.Result != acquired(1) {
					t.Errorf("%s: %+v, want its first fence", k, a.Result)
				}
			}
			for _, k := range keys {
				if c, _ := s.Fence(10, k); c != 1 {
					t.Errorf("%s: fence counter %d after growing, want 1", k, c)
				}
			}
			if s.Len() != len(keys) {
				t.Errorf("Len %d, want %d", s.Len(), len(keys))
			}
			s.Clear()
			for _, k := range keys {
				if c, _ := s.Fence(10, k); c != 0 {
					t.Errorf("%s: fence counter %d after Clear", k, c)
				}
			}
			if s.Len() != 0 {
				t.Errorf("Len %d after Clear", s.Len())
			}
		})
	}
}

// Fence reports the fences as they stand at a time: the counter lives the
// fence TTL after its last acquisition, renewal or write, the accepted fence
// the fence TTL after its write.
func TestFenceExpiry(t *testing.T) { forEachStore(t, testFenceExpiry) }

func testFenceExpiry(t *testing.T, newStore func() *memstore.Store[string]) {
	s := newStore()
	at := func(d time.Duration) locks.Time { return locks.Time(d) }
	s.Apply(at(0), 0, fenced(ra(tokA, 100*ms), time.Second))
	s.Apply(at(50*ms), 0, fenced(publish(tokA, 1, "v", 500*ms), time.Second)) // both live to 1050ms
	s.Apply(at(700*ms), 0, fenced(ra(tokB, 100*ms), time.Second))             // the counter to 1700ms
	for _, c := range []struct {
		at                time.Duration
		counter, accepted uint64
	}{{1049 * ms, 2, 1}, {1050 * ms, 2, 0}, {1699 * ms, 2, 0}, {1700 * ms, 0, 0}} {
		if counter, accepted := s.Fence(at(c.at), "k"); counter != c.counter || accepted != c.accepted {
			t.Errorf("at %v: counter %d, accepted %d; want %d, %d", c.at, counter, accepted, c.counter, c.accepted)
		}
	}
}
