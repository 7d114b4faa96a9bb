// Package memstore is the reference implementation of the compound store
// operations of package locks: a single-threaded in-memory key space with
// key TTLs against a time the caller passes in, set-if-absent locks with
// tokens, fence numbers, fenced cache writes, compare-and-delete,
// compare-and-extend and release subscribers.
//
// The simulator puts it behind a queue and a service time to model one store
// server; the tests of package locks drive machines against it directly. Its
// semantics, and the number of commands it reports for each operation, mirror
// the Lua scripts of package real one for one, so that a simulated run and a
// run against Redis count the same things.
//
// It must not read a clock, do I/O or start goroutines.
package memstore

import (
	"math"

	"github.com/stampsim/stampsim/internal/prefetch"
	"github.com/stampsim/stampsim/locks"
)

// never is the expiry of a key without a TTL.
const never = locks.Time(math.MaxInt64)

// entry is one key's state but for its fences' expiries: 64 bytes, one cache
// line, when V is.
type entry[V any] struct {
	value    V
	valueExp locks.Time
	lockExp  locks.Time
	token    locks.Token
	fence    uint64 // the fence counter: bumped by every acquisition; 0 when absent
	accepted uint64 // the fence of the last accepted write; 0 when absent
	hasValue bool
	locked   bool
	used     bool // in a dense store: the key has been seen
	// subscribed: the key has subscribers (in Store.subs), so that a
	// notification for a key without any costs no map lookup.
	subscribed bool
}

// fenceExp is when a key's two fences expire (Op.FenceTTL), or never;
// accepted is never later than fence. It is kept beside the entry rather
// than in it: only operations that take a lock or write a value read it,
// and a read that finds the value stays within the entry's cache line.
type fenceExp struct{ fence, accepted locks.Time }

// mapEntry is the state of a key kept in the map.
type mapEntry[V any] struct {
	entry[V]
	exp fenceExp
}

// Store is one store's key space. The zero value is not usable; call New or
// NewIndexed.
type Store[V any] struct {
	entries map[string]*mapEntry[V]
	subs    map[string][]int32 // subscribers, for keys that have any

	// Keys the caller numbers (NewIndexed) below denseMax live in dense,
	// by number, grown as numbers are used, and their fences' expiries in
	// denseExp beside it.
	index     func(key string) int
	dense     []entry[V]
	denseExp  []fenceExp
	denseMax  int
	denseUsed int
}

// New returns an empty store.
func New[V any]() *Store[V] {
	return &Store[V]{entries: make(map[string]*mapEntry[V]), subs: make(map[string][]int32)}
}

// NewIndexed returns an empty store for keys the caller numbers: index
// returns a key's number, or -1 for a key that has none, and must give
// different keys different numbers. Keys numbered below n are kept in a
// slice indexed by number (grown as larger numbers are used, up to n), the
// others in a map as in a store from New, so that a simulator whose keys are
// numbered saves a hash lookup per operation. An Op whose KeyNumbered is set
// is taken at its word (KeyNum is the key's number), so the machines that
// send the ops must number keys with index too (locks.SimHooks.NumberKeys). It
// behaves exactly as a store from New.
func NewIndexed[V any](index func(key string) int, n int) *Store[V] {
	s := New[V]()
	s.index, s.denseMax = index, n
	return s
}

// get returns key's entry and its fences' expiries, creating them if need
// be. num is the key's number when the caller knows it (numbered: the Op's
// KeyNum and KeyNumbered).
func (s *Store[V]) get(key string, num uint32, numbered bool) (*entry[V], *fenceExp) {
	if s.index != nil {
		i := int(num)
		if !numbered {
			i = s.index(key)
		}
		if i >= 0 && i < s.denseMax {
			if i >= len(s.dense) {
				s.grow(i)
			}
			e := &s.dense[i]
			if !e.used {
				e.used = true
				s.denseUsed++
			}
			return e, &s.denseExp[i]
		}
	}
	e := s.entries[key]
	if e == nil {
		e = &mapEntry[V]{entry: entry[V]{used: true}}
		s.entries[key] = e
	}
	return &e.entry, &e.exp
}

// grow makes the dense slices long enough for number i.
func (s *Store[V]) grow(i int) {
	n := min(max(2*len(s.dense), i+1, 64), s.denseMax)
	dense := make([]entry[V], n)
	copy(dense, s.dense)
	s.dense = dense
	exp := make([]fenceExp, n)
	copy(exp, s.denseExp)
	s.denseExp = exp
}

// Prefetch is a hint that an operation on the key numbered num (an Op's
// KeyNum) is coming: it starts loading the key's entry into the CPU's
// caches, for a store from NewIndexed. It changes nothing the store does.
// A simulator calls it when it sends an operation, which reaches the store
// some hundreds of events later.
func (s *Store[V]) Prefetch(num uint32) {
	if i := int(num); i < len(s.dense) {
		prefetch.At(&s.dense[i])
	}
}

// find returns key's entry and its fences' expiries, or nil if the store has
// never seen the key.
func (s *Store[V]) find(key string) (*entry[V], *fenceExp) {
	if s.index != nil {
		if i := s.index(key); i >= 0 && i < s.denseMax {
			if i < len(s.dense) && s.dense[i].used {
				return &s.dense[i], &s.denseExp[i]
			}
			return nil, nil
		}
	}
	if e := s.entries[key]; e != nil {
		return &e.entry, &e.exp
	}
	return nil, nil
}

// expireFences forgets the fences of e that have expired at now.
func expireFences[V any](now locks.Time, e *entry[V], x *fenceExp) {
	if e.accepted != 0 && now >= x.accepted {
		e.accepted = 0
	}
	if e.fence != 0 && now >= x.fence {
		e.fence, e.accepted = 0, 0
	}
}

// Applied is what one operation did.
type Applied[V any] struct {
	// Result is the reply for the machine.
	Result locks.Result[V]
	// Commands is the number of commands the operation ran, counted as
	// redis-server's INFO commandstats counts the matching script: the
	// script call itself plus every command it runs.
	Commands int
	// Notify says that subscribers of the key must be told (a release or a
	// write happened).
	Notify bool
}

// Apply runs op at time now on behalf of subscriber sub (the node's number,
// used by OpSubscribe and OpUnsubscribe).
func (s *Store[V]) Apply(now locks.Time, sub int32, op locks.Op[V]) Applied[V] {
	e, x := s.get(op.Key, op.KeyNum, op.KeyNumbered)
	if e.hasValue && now >= e.valueExp {
		e.hasValue = false
		var zero V
		e.value = zero
	}
	if e.locked && now >= e.lockExp {
		e.locked = false
	}
	var a Applied[V]
	switch op.Kind {
	case locks.OpReadOrAcquire:
		// GET value; SET lock NX PX; then INCR fence [PEXPIRE fence] or
		// PTTL lock.
		a.Commands = 2
		if e.hasValue {
			a.Result = locks.Result[V]{Status: locks.StatusValue, Value: e.value}
			return a
		}
		a.Commands += 2
		if !e.locked {
			e.locked, e.token, e.lockExp = true, op.Token, now.Add(op.TTL)
			expireFences(now, e, x)
			e.fence++
			if e.fence == 1 {
				x.fence = never // INCR creates the counter without a TTL
			}
			if op.FenceTTL > 0 {
				x.fence = now.Add(op.FenceTTL)
				a.Commands++
			}
			a.Result = locks.Result[V]{Status: locks.StatusAcquired, Fence: e.fence}
			return a
		}
		a.Result = locks.Result[V]{Status: locks.StatusHeld, TTL: e.lockExp.Sub(now)}
	case locks.OpPublish:
		// MGET fence accepted; [SET value PX; SET accepted [PX]; [PEXPIRE
		// fence]]; GET lock; [DEL lock]; [PUBLISH].
		// A fence beyond the counter was granted before the store lost its
		// keys (a restart, or the fences' TTL): accepting it would make the
		// store refuse every fresh write until the counter caught up, so it
		// is refused.
		a.Commands = 3
		a.Result.Status = locks.StatusOK
		expireFences(now, e, x)
		if op.Fence >= e.accepted && op.Fence <= e.fence {
			e.value, e.hasValue, e.valueExp = op.Value, true, now.Add(op.TTL)
			e.accepted, x.accepted = op.Fence, never
			a.Result.Written = true
			a.Commands += 2
			if op.FenceTTL > 0 {
				x.accepted = now.Add(op.FenceTTL)
				x.fence = x.accepted
				a.Commands++
			}
		}
		if e.locked && e.token == op.Token {
			e.locked = false
			a.Result.Released = true
			a.Commands++
		}
		if a.Result.Written || a.Result.Released {
			a.Notify = true
			a.Commands++
		}
	case locks.OpExtend:
		// GET lock; [PEXPIRE lock; [PEXPIRE fence]].
		a.Commands = 2
		if e.locked && e.token == op.Token {
			e.lockExp = now.Add(op.TTL)
			a.Commands++
			if op.FenceTTL > 0 {
				expireFences(now, e, x)
				if e.fence != 0 { // PEXPIRE of a missing key does nothing
					x.fence = now.Add(op.FenceTTL)
				}
				a.Commands++
			}
			a.Result.Status = locks.StatusOK
			return a
		}
		a.Result.Status = locks.StatusNotHeld
	case locks.OpRelease:
		// GET lock; [DEL lock; PUBLISH].
		a.Commands = 2
		if e.locked && e.token == op.Token {
			e.locked = false
			a.Commands += 2
			a.Notify = true
			a.Result.Status = locks.StatusOK
			return a
		}
		a.Result.Status = locks.StatusNotHeld
	case locks.OpSubscribe:
		a.Commands = 1
		a.Result.Status = locks.StatusOK
		subs := s.subs[op.Key]
		for _, x := range subs {
			if x == sub {
				return a
			}
		}
		s.subs[op.Key] = append(subs, sub)
		e.subscribed = true
	case locks.OpUnsubscribe:
		a.Commands = 1
		a.Result.Status = locks.StatusOK
		subs := s.subs[op.Key]
		for i, x := range subs {
			if x == sub {
				subs[i] = subs[len(subs)-1]
				s.subs[op.Key] = subs[:len(subs)-1]
				e.subscribed = len(subs) > 1
				break
			}
		}
	}
	return a
}

// Subscribers returns the subscribers of key, in the order they subscribed
// (an unsubscribe moves the last one into the gap). The slice is the store's
// own: read it before the next Apply.
func (s *Store[V]) Subscribers(key string) []int32 {
	if e, _ := s.find(key); e == nil || !e.subscribed {
		return nil
	}
	return s.subs[key]
}

// Fence returns the key's fence counter and the fence of its last accepted
// write at now (0 for one that does not exist or has expired), for tests and
// invariant checks.
func (s *Store[V]) Fence(now locks.Time, key string) (counter, accepted uint64) {
	e, x := s.find(key)
	if e == nil || e.fence == 0 || now >= x.fence {
		return 0, 0
	}
	if e.accepted != 0 && now < x.accepted {
		accepted = e.accepted
	}
	return e.fence, accepted
}

// Holder returns the token holding key's lock at now, if any.
func (s *Store[V]) Holder(now locks.Time, key string) (locks.Token, bool) {
	if e, _ := s.find(key); e != nil && e.locked && now < e.lockExp {
		return e.token, true
	}
	return locks.Token{}, false
}

// Value returns key's cached value at now, if any.
func (s *Store[V]) Value(now locks.Time, key string) (V, bool) {
	if e, _ := s.find(key); e != nil && e.hasValue && now < e.valueExp {
		return e.value, true
	}
	var zero V
	return zero, false
}

// Clear drops every key (a store restarted empty), keeping fence counters
// out of it too, as a real server without persistence would.
func (s *Store[V]) Clear() {
	clear(s.entries)
	clear(s.subs)
	clear(s.dense)
	clear(s.denseExp)
	s.denseUsed = 0
}

// Len returns the number of keys the store tracks.
func (s *Store[V]) Len() int { return len(s.entries) + s.denseUsed }
