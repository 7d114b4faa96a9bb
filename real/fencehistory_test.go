package real_test

// This file checks fencing as a history: several drivers, through proxies
// to one redis-server, contend for keys while their holders are paused
// (realhooks.FreezeDriver) or cut off (a hung proxy) for longer than their
// leases; every publish (its fence, and whether the store accepted it) and
// every read of the shared cache is recorded as the client saw it, with when
// it was called and when it returned, and porcupine checks that the history is
// that of a fenced register: no accepted write carries a fence older than
// one accepted before it, and no read returns a value older than one a read
// before it returned. A mutant driver that publishes without the fence check
// must fail the same check.

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"

	"github.com/stampsim/stampsim/internal/realhooks"
	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/real"
	"github.com/stampsim/stampsim/real/redistest"
)

// fenceIn is one operation on a key's shared cache: a publish of value with
// fence, or a read.
type fenceIn struct {
	key   string
	write bool
	fence uint64
	value string
}

// fenceOut is what the client saw: whether a publish was accepted (known
// false when its reply never came, so that it may or may not have been),
// or the value a read found ("" for none).
type fenceOut struct {
	known, accepted bool
	value           string
}

// fencedState is a fenced register: the last accepted fence and its value.
type fencedState struct {
	fence uint64
	value string
}

// fencedRegister is the model: a write is accepted exactly when its fence is
// not older than the last accepted one, and a read returns the last
// accepted value. A write whose reply was lost may or may not have happened.
var fencedRegister = porcupine.NondeterministicModel{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range h {
			k := op.Input.(fenceIn).key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		var out [][]porcupine.Operation
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() []any { return []any{fencedState{}} },
	Step: func(state, input, output any) []any {
		s, in, out := state.(fencedState), input.(fenceIn), output.(fenceOut)
		if !in.write {
			if out.value == s.value {
				return []any{s}
			}
			return nil
		}
		fresh := in.fence >= s.fence
		next := fencedState{in.fence, in.value}
		switch {
		case !out.known && fresh:
			return []any{s, next}
		case !out.known:
			return []any{s}
		case out.accepted && fresh:
			return []any{next}
		case !out.accepted && !fresh:
			return []any{s}
		}
		return nil
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(fenceIn), output.(fenceOut)
		if !in.write {
			return fmt.Sprintf("read %s -> %q", in.key, out.value)
		}
		verdict := "lost"
		if out.known {
			verdict = strconv.FormatBool(out.accepted)
		}
		return fmt.Sprintf("publish %s %q fence %d -> accepted %s", in.key, in.value, in.fence, verdict)
	},
}

// historian records the publishes and cache reads of every driver's client.
type historian struct {
	base time.Time
	mu   sync.Mutex
	ops  []porcupine.Operation
}

// historyHook is one client's go-redis hook.
type historyHook struct {
	h      *historian
	client int
}

func (historyHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (historyHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// ProcessHook records the scripts that publish (five keys: value, lock,
// accepted fence, channel, fence counter; then value and fence first among
// the arguments) and read-or-acquires (three keys, the value first): see
// real/store.go.
func (r historyHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		args := cmd.Args()
		if len(args) < 3 || (args[0] != "evalsha" && args[0] != "eval") {
			return next(ctx, cmd)
		}
		nkeys, _ := args[2].(int)
		if nkeys != 3 && nkeys != 5 || len(args) < 3+nkeys+2 {
			return next(ctx, cmd)
		}
		in := fenceIn{key: fmt.Sprint(args[3]), write: nkeys == 5}
		if in.write {
			in.value = fmt.Sprintf("%s", args[3+nkeys])
			in.fence, _ = strconv.ParseUint(fmt.Sprint(args[4+nkeys]), 10, 64)
		}
		call := time.Since(r.h.base).Nanoseconds()
		err := next(ctx, cmd)
		ret := time.Since(r.h.base).Nanoseconds()
		reply, _ := cmd.(*redis.Cmd).Val().([]any)
		var out fenceOut
		switch {
		case in.write && (err != nil || len(reply) < 1):
			ret = math.MaxInt64 // it may take effect at any time after its call
		case in.write:
			out = fenceOut{known: true, accepted: reply[0] == int64(1)}
		case err != nil || len(reply) < 2:
			return err // a read whose reply was lost says nothing
		case reply[0] == int64(0):
			out.value = fmt.Sprint(reply[1])
		}
		r.h.mu.Lock()
		r.h.ops = append(r.h.ops, porcupine.Operation{ClientId: r.client, Input: in, Call: call, Output: out, Return: ret})
		r.h.mu.Unlock()
		return err
	}
}

// fencedStory runs rounds of contention on fresh keys through three drivers:
// in each, one driver takes a key's lock and, in the middle of its upstream
// call, is paused or cut off from the store for longer than its lease; the
// others' callers take the lock once the lease has ended, fetch and publish;
// then the first holder comes back and publishes with its old fence, and
// callers on every driver read the cache. The seed draws which driver holds,
// how it is stopped, and the callers' number, nodes and times. It returns the
// history and the writes the drivers counted as refused.
func fencedStory(t *testing.T, srv *redistest.Server, seed uint64) ([]porcupine.Operation, uint64) {
	const lease, rounds = 150 * time.Millisecond, 2
	rng := rand.New(rand.NewPCG(seed, 0xfe2ce))
	h := &historian{base: time.Now()}
	prefix := fmt.Sprintf("fh-%d-%d:", seed, time.Now().UnixNano())
	opt := real.Options{Topology: topology(t, "one-level", level(lease, 5*time.Second, 20*time.Millisecond, locks.PolicyFail)), NodeCacheTTL: -1, Prefix: prefix}
	ns := hookedNetNodes(t, srv, 3, opt, func(i int) redis.Hook { return historyHook{h, i} })
	var serial atomic.Int64
	fetch := func(ctx context.Context) ([]byte, error) {
		n := serial.Add(1)
		time.Sleep(time.Duration(n%3) * 5 * time.Millisecond)
		return fmt.Appendf(nil, "v%d", n), nil
	}
	for round := range rounds {
		key := "k" + strconv.Itoa(round)
		hi := rng.IntN(len(ns))
		holder, pause := ns[hi], rng.IntN(2) == 0
		before := holder.d.Stats()
		release := make(chan struct{})
		held := make(chan outcome, 1)
		go func() {
			held <- stampede([]*real.Driver{holder.d}, 1, key, func(ctx context.Context) ([]byte, error) {
				select {
				case <-release:
					return fmt.Appendf(nil, "stale%d", round), nil
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			})[0]
		}()
		waitFor(t, 5*time.Second, "the first holder's lock", func() bool {
			return holder.d.Stats().Levels[0].Acquisitions > before.Levels[0].Acquisitions
		})
		var thaw func()
		if pause {
			thaw = realhooks.FreezeDriver(holder.d)
		} else if err := holder.proxy.Hang(); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 2 + rng.IntN(4) {
			d := ns[(hi+1+rng.IntN(len(ns)-1))%len(ns)].d
			delay := time.Duration(rng.Int64N(int64(2 * lease)))
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(delay)
				checkOutcomes(t, "a contending", stampede([]*real.Driver{d}, 1, key, fetch), key, nil, lease+slack+delay)
			}()
		}
		wg.Wait()
		time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
		if pause {
			close(release) // the call returns while the node is paused
			time.Sleep(10 * time.Millisecond)
			thaw()
		} else {
			if err := holder.proxy.Heal(); err != nil {
				t.Fatal(err)
			}
			close(release)
		}
		checkOutcomes(t, "the first holder's", []outcome{<-held}, key, nil, 10*time.Second)
		waitFor(t, 5*time.Second, "the first holder's publish", func() bool {
			return holder.d.Stats().Store[locks.ScopeRegion][locks.OpPublish].Ops > before.Store[locks.ScopeRegion][locks.OpPublish].Ops
		})
		for range 2 + rng.IntN(3) {
			checkOutcomes(t, "a reading", stampede([]*real.Driver{ns[rng.IntN(len(ns))].d}, 1, key, fetch), key, nil, slack)
		}
	}
	var refused uint64
	for _, n := range ns {
		n.d.Close()
		refused += n.d.Stats().WritesRefused
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ops, refused
}

// Across seeds, the history of publishes and reads under pauses and
// partitions is a fenced register's, and each round's stale write is
// refused; the mutant that skips the fence check fails the same check.
func TestFencingHistory(t *testing.T) {
	srv := redistest.StartT(t)
	model := fencedRegister.ToModel()
	for _, tc := range []struct {
		name   string
		mutant bool
		seeds  uint64
	}{
		{"fenced", false, 6},
		{"mutant skipping the fence check", true, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range tc.seeds {
				t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
					noLeaks(t)
					if tc.mutant {
						defer real.SkipFenceCheck()()
					}
					ops, refused := fencedStory(t, srv, seed)
					writes := 0
					for _, op := range ops {
						if op.Input.(fenceIn).write {
							writes++
						}
					}
					if writes < 4 {
						t.Fatalf("the history holds %d publishes, too few to say anything (every round has at least two)", writes)
					}
					res, info := porcupine.CheckOperationsVerbose(model, ops, 30*time.Second)
					switch {
					case !tc.mutant && res != porcupine.Ok:
						t.Errorf("the history of %d operations is not a fenced register's (%s): %s", len(ops), res, describe(info))
					case !tc.mutant && refused != 2:
						t.Errorf("%d writes refused, want 2 (each round's stale holder)", refused)
					case tc.mutant && res != porcupine.Illegal:
						t.Errorf("the mutant's history of %d operations passed as a fenced register's (%s)", len(ops), res)
					}
				})
			}
		})
	}
}

// describe lists the longest linearizable prefix porcupine found for each
// partition, which ends where the history went wrong.
func describe(info porcupine.LinearizationInfo) string {
	var b []byte
	for i, part := range info.PartialLinearizationsOperations() {
		longest := []porcupine.Operation(nil)
		for _, l := range part {
			if len(l) > len(longest) {
				longest = l
			}
		}
		b = fmt.Appendf(b, "\n  partition %d:", i)
		for _, op := range longest {
			b = fmt.Appendf(b, "\n    %s", fencedRegister.DescribeOperation(op.Input, op.Output))
		}
	}
	return string(b)
}
