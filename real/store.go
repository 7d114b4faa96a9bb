package real

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/stampsim/stampsim/locks"
)

// The scripts run exactly the commands package memstore counts for the same
// operation, and return, last, how many they ran; the script call itself is
// the one more that INFO commandstats counts.
//
// The fence counter and the accepted fence get the operation's fence TTL
// (locks.FenceTTL, "0" for none) whenever an acquisition, a renewal or an
// accepted write sets them; locks.FenceTTL says why that is safe.
const (
	// KEYS value, lock, fence; ARGV token, lease ms, fence ttl ms, refresh
	// window us (Op.Refresh, "0" for none), early factor (Op.Early, "0" for
	// none). Replies {0, value, n} (n 2, or 3 with a refresh window or an
	// early factor, which cost the value's PTTL), {1, fence, n} (n 4, 5 with
	// a fence TTL) or {2, pttl, 4}; a value within the refresh window of its
	// expiry, or due for XFetch's early refresh (its time left at most its
	// delta, read from the value's envelope, times the factor), is stale:
	// the lock is tried as on a miss, and the reply is {1, fence, value,
	// pttl of the value, n} or {2, pttl, value, pttl of the value, n}, n one
	// more than on a miss. The envelope's rule is unwrapValue's.
	srcReadOrAcquire = `local v = redis.call('GET', KEYS[1])
local n, left = 2, nil
if v then
  if ARGV[4] == '0' and ARGV[5] == '0' then return {0, v, 2} end
  left, n = redis.call('PTTL', KEYS[1]), 3
  local early = false
  if ARGV[5] ~= '0' then
    local d = string.match(v, '^\255XF(%d+):')
    if d and #d <= 19 then
      d = math.min(tonumber(d), 4294967295)
      early = d > 0 and left * 1000 <= d * tonumber(ARGV[5])
    end
  end
  if left * 1000 > tonumber(ARGV[4]) and not early then return {0, v, 3} end
end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local fence = redis.call('INCR', KEYS[3])
  n = n + 2
  if ARGV[3] ~= '0' then
    redis.call('PEXPIRE', KEYS[3], ARGV[3])
    n = n + 1
  end
  if left then return {1, fence, v, left, n} end
  return {1, fence, n}
end
local pttl = redis.call('PTTL', KEYS[2])
if left then return {2, pttl, v, left, n + 2} end
return {2, pttl, n + 2}`

	// KEYS value, lock, accepted fence, channel, fence counter; ARGV value,
	// fence, cache ttl ms, token, fence ttl ms. Replies {written, released,
	// n}. A fence beyond the counter was granted before the server lost its
	// keys (a restart without persistence, or the fences' TTL) and is
	// refused, as memstore does, so that the accepted fence never runs ahead
	// of the counter.
	srcPublish = `local n = 3
local written, released = 0, 0
local fences = redis.call('MGET', KEYS[5], KEYS[3])
local counter, accepted = tonumber(fences[1] or '0'), tonumber(fences[2] or '0')
local fence = tonumber(ARGV[2])
if fence >= accepted and fence <= counter then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
  if ARGV[5] == '0' then
    redis.call('SET', KEYS[3], ARGV[2])
    n = n + 2
  else
    redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[5])
    redis.call('PEXPIRE', KEYS[5], ARGV[5])
    n = n + 3
  end
  written = 1
end
if redis.call('GET', KEYS[2]) == ARGV[4] then
  redis.call('DEL', KEYS[2])
  released, n = 1, n + 1
end
if written == 1 or released == 1 then
  redis.call('PUBLISH', KEYS[4], '1')
  n = n + 1
end
return {written, released, n}`

	// KEYS lock, fence counter; ARGV token, lease ms, fence ttl ms.
	// Replies {renewed, n}.
	srcExtend = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  if ARGV[3] == '0' then return {1, 3} end
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  return {1, 4}
end
return {0, 2}`

	// KEYS lock, channel; ARGV token. Replies {released, n}.
	srcRelease = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', KEYS[2], '1')
  return {1, 4}
end
return {0, 2}`
)

// script is a Lua script and the SHA-1 EVALSHA names it by.
type script struct{ src, sha string }

func newScript(src string) *script {
	h := sha1.Sum([]byte(src))
	return &script{src: src, sha: hex.EncodeToString(h[:])}
}

// sharded returns src with PUBLISH turned into SPUBLISH, for Cluster.
func sharded(src string) string { return strings.ReplaceAll(src, "'PUBLISH'", "'SPUBLISH'") }

var (
	scriptReadOrAcquire   = newScript(srcReadOrAcquire)
	scriptPublish         = newScript(srcPublish)
	scriptPublishSharded  = newScript(sharded(srcPublish))
	scriptExtend          = newScript(srcExtend)
	scriptRelease         = newScript(srcRelease)
	scriptReleaseSharded  = newScript(sharded(srcRelease))
	errNotSent            = errors.New("request not sent")
	errNoSubscriber       = errors.New("no subscriber connection")
	errSubscribeAbandoned = errors.New("subscription abandoned")
	errConnRetired        = errors.New("pub/sub connection retired")
)

// store is the Redis of one shared scope, as the driver reaches it.
type store struct {
	scope   locks.Scope
	client  redis.UniversalClient
	cluster *redis.ClusterClient // set when client is a Cluster client
	base    string               // <prefix><scope>:{
	publish *script
	release *script
	subs    *subscriber
}

func newStore(d *Driver, scope locks.Scope, client redis.UniversalClient, prefix string) *store {
	if p := d.cfg.scopePrefix[scope]; p != "" {
		prefix = p
	}
	s := &store{scope: scope, client: client, base: prefix + scope.String() + ":{", publish: scriptPublish, release: scriptRelease}
	if cc, ok := client.(*redis.ClusterClient); ok {
		s.cluster = cc
		s.publish, s.release = scriptPublishSharded, scriptReleaseSharded
	}
	s.subs = newSubscriber(d, s)
	return s
}

// key returns the Redis key of key's part (v, l, f, w or r).
func (s *store) key(key, part string) string { return s.base + key + "}:" + part }

// keyOfChannel returns the cache key whose notification channel is ch.
func (s *store) keyOfChannel(ch string) (string, bool) {
	rest, ok := strings.CutPrefix(ch, s.base)
	if !ok {
		return "", false
	}
	return strings.CutSuffix(rest, "}:r")
}

// outcome is what one store operation did, for the machine and the counts.
type outcome struct {
	res        locks.Result[[]byte]
	roundTrips int
	commands   int
	emitted    time.Time // when the machine asked for a script operation
}

func failed(o outcome, err error) outcome {
	o.res = locks.Result[[]byte]{Status: locks.StatusError, Err: err}
	return o
}

// millis returns d in whole milliseconds, rounded up and at least 1, as
// Redis's PX and PEXPIRE want it.
func millis(d time.Duration) string {
	ms := (d + time.Millisecond - 1) / time.Millisecond
	if ms < 1 {
		ms = 1
	}
	return strconv.FormatInt(int64(ms), 10)
}

// fenceMillis is millis for a fence TTL, and "0" for none (the fences then
// never expire).
func fenceMillis(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	return millis(d)
}

// micros is d in whole microseconds, "0" for none: a refresh window, which
// the read-or-acquire script compares with the value's PTTL.
func micros(d time.Duration) string {
	return strconv.FormatInt(int64(max(d, 0)/time.Microsecond), 10)
}

// factor is XFetch's factor as the script reads it, "0" for none: the
// shortest decimal that reads back as the same float64.
func factor(x float64) string {
	if !(x > 0) {
		return "0"
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}

// run runs a script operation (every kind but subscriptions).
func (s *store) run(ctx context.Context, op locks.Op[[]byte]) outcome {
	var (
		reply []any
		o     outcome
		err   error
	)
	switch op.Kind {
	case locks.OpReadOrAcquire:
		reply, o, err = s.eval(ctx, scriptReadOrAcquire, []string{s.key(op.Key, "v"), s.key(op.Key, "l"), s.key(op.Key, "f")},
			op.Token.String(), millis(op.TTL), fenceMillis(op.FenceTTL), micros(op.Refresh), factor(op.Early))
	case locks.OpPublish:
		reply, o, err = s.eval(ctx, s.publish, []string{s.key(op.Key, "v"), s.key(op.Key, "l"), s.key(op.Key, "w"), s.key(op.Key, "r"), s.key(op.Key, "f")},
			wrapValue(op.Value, op.Delta), strconv.FormatUint(op.Fence, 10), millis(op.TTL), op.Token.String(), fenceMillis(op.FenceTTL))
	case locks.OpExtend:
		reply, o, err = s.eval(ctx, scriptExtend, []string{s.key(op.Key, "l"), s.key(op.Key, "f")}, op.Token.String(), millis(op.TTL), fenceMillis(op.FenceTTL))
	case locks.OpRelease:
		reply, o, err = s.eval(ctx, s.release, []string{s.key(op.Key, "l"), s.key(op.Key, "r")}, op.Token.String())
	default:
		return failed(o, fmt.Errorf("operation %s is not a script", op.Kind))
	}
	if err != nil {
		return failed(o, fmt.Errorf("%s on %s store: %w", op.Kind, s.scope, err))
	}
	ints, err := parseReply(reply)
	if err != nil {
		return failed(o, fmt.Errorf("%s on %s store: %w", op.Kind, s.scope, err))
	}
	o.commands += int(ints[len(ints)-1])
	switch op.Kind {
	case locks.OpReadOrAcquire:
		switch ints[0] {
		case 0:
			v, ok := reply[1].(string)
			if !ok {
				return failed(o, fmt.Errorf("%s on %s store: value of type %T, want a string", op.Kind, s.scope, reply[1]))
			}
			o.res = locks.Result[[]byte]{Status: locks.StatusValue}
			o.res.Value, o.res.Delta = unwrapValue(v)
		case 1:
			o.res = locks.Result[[]byte]{Status: locks.StatusAcquired, Fence: uint64(ints[1])}
		default:
			ttl := time.Duration(ints[1]) * time.Millisecond
			if ttl < 0 { // -1: no expiry, -2: gone; neither says how long to wait
				ttl = 0
			}
			o.res = locks.Result[[]byte]{Status: locks.StatusHeld, TTL: ttl}
		}
		if ints[0] != 0 && len(reply) == 5 { // the lock's reply beside a stale value
			v, ok := reply[2].(string)
			if !ok {
				return failed(o, fmt.Errorf("%s on %s store: stale value of type %T, want a string", op.Kind, s.scope, reply[2]))
			}
			o.res.Stale, o.res.ValueTTL = true, max(time.Duration(ints[3])*time.Millisecond, 0)
			o.res.Value, o.res.Delta = unwrapValue(v)
		}
	case locks.OpPublish:
		o.res = locks.Result[[]byte]{Status: locks.StatusOK, Written: ints[0] == 1, Released: ints[1] == 1}
	default:
		o.res.Status = locks.StatusNotHeld
		if ints[0] == 1 {
			o.res.Status = locks.StatusOK
		}
	}
	return o
}

// eval runs sc by its SHA, and by its source when the server does not know
// it, counting the requests sent and the commands they cost so far (a
// refused EVALSHA is a command too).
func (s *store) eval(ctx context.Context, sc *script, keys []string, args ...any) ([]any, outcome, error) {
	var o outcome
	v, err := s.client.EvalSha(ctx, sc.sha, keys, args...).Result()
	o.roundTrips++
	if isNoScript(err) {
		o.commands++
		v, err = s.client.Eval(ctx, sc.src, keys, args...).Result()
		o.roundTrips++
	}
	if err != nil {
		if !sent(err) {
			o.roundTrips--
		}
		return nil, o, err
	}
	reply, ok := v.([]any)
	if !ok {
		return nil, o, fmt.Errorf("script replied %T, want an array", v)
	}
	return reply, o, nil
}

func isNoScript(err error) bool {
	return err != nil && (errors.Is(err, redis.ErrNoScript) || redis.HasErrorPrefix(err, "NOSCRIPT"))
}

// sent reports whether a request that failed with err may have reached the
// server: it did not when no connection could be made.
func sent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return false
	}
	return !errors.Is(err, redis.ErrPoolTimeout) && !errors.Is(err, redis.ErrClosed) && !errors.Is(err, errNotSent)
}

// parseReply checks that a script's reply is a status, a payload and, last,
// a command count, and returns its integers (the payload's is 0 when it is
// not one).
func parseReply(reply []any) ([]int64, error) {
	if len(reply) < 2 {
		return nil, fmt.Errorf("script replied %d elements, want at least 2", len(reply))
	}
	ints := make([]int64, len(reply))
	for i, e := range reply {
		switch x := e.(type) {
		case int64:
			ints[i] = x
		case string:
			if i == 0 || i == len(reply)-1 {
				return nil, fmt.Errorf("script reply element %d is %q, want an integer", i, x)
			}
		default:
			return nil, fmt.Errorf("script reply element %d is of type %T, want an integer or a string", i, e)
		}
	}
	return ints, nil
}
