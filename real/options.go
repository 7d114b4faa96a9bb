package real

import (
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/stampsim/stampsim/locks"
)

// DefaultLevel holds the settings a level of a topology takes where it leaves a
// field zero: a 10s lease (renewed every third of it while the upstream call
// runs), a 5s wait, then a direct upstream call (locks.PolicyInvoke), release
// notifications with a poll every 250ms as the safety net.
var DefaultLevel = locks.Level{
	LeaseTTL:     10 * time.Second,
	WaitTimeout:  5 * time.Second,
	OnTimeout:    locks.PolicyInvoke,
	Wake:         locks.WakeNotify,
	PollInterval: 250 * time.Millisecond,
}

// Topology returns the built-in topology called name (none, node-only,
// one-level, two-level, global, fanout-tree) with every level set to
// DefaultLevel.
func Topology(name string) (locks.Topology, error) {
	return locks.Builtin(name, DefaultLevel)
}

// The defaults of Options.
const (
	DefaultPrefix         = "stampsim:"
	DefaultNodeCacheTTL   = 10 * time.Second
	DefaultSharedCacheTTL = 10 * time.Second
	DefaultFetchTimeout   = 10 * time.Second
	DefaultMaxRefreshes   = 8
)

// Options configure a Driver.
type Options struct {
	// Topology is the list of lock levels, innermost first; build it with
	// Topology (or locks.Builtin) or list the levels. Zero durations in a
	// level take DefaultLevel's. It must not be empty: use the built-in
	// "none" to run without locks.
	Topology locks.Topology
	// Clients holds one client per shared scope the topology uses (zone,
	// region, global); they may be the same client, as the scope is part of
	// every key. Clients of scopes the topology does not use are ignored.
	// The driver never closes them.
	//
	// For operations to end at their deadlines, create the clients with
	// ContextTimeoutEnabled; otherwise the clients' read and write timeouts
	// bound them. For exact round-trip counts, create them with MaxRetries
	// -1: a command that go-redis retries after a network error is sent
	// again without the driver seeing it.
	Clients map[locks.Scope]redis.UniversalClient
	// Prefix starts every key and channel the driver uses; default
	// DefaultPrefix. It must not contain '{' or '}', which would move the
	// hash tag.
	Prefix string
	// ScopePrefixes overrides Prefix for the keys and channels of one scope.
	// Nodes that share a server but not a store instance (two regions'
	// locks on one test server, say) keep them apart this way; the same
	// rules as for Prefix apply.
	ScopePrefixes map[locks.Scope]string
	// NodeCacheTTL is how long a value stays fresh in the node cache;
	// default DefaultNodeCacheTTL, negative to switch the node cache off.
	NodeCacheTTL time.Duration
	// SharedCacheTTL is how long a value stays in a shared cache; default
	// DefaultSharedCacheTTL. Redis counts it in milliseconds, so it must be
	// at least 1ms.
	SharedCacheTTL time.Duration
	// StaleFor is how long past its TTL the node cache keeps a value for the
	// stale policy; default 0 (no stale values).
	StaleFor time.Duration
	// FetchTimeout is the deadline of an upstream call, measured from its
	// start; default DefaultFetchTimeout. When it passes, the flight fails
	// with context.DeadlineExceeded even if the fetch function has not
	// returned.
	FetchTimeout time.Duration
	// TTLJitter spreads cache TTLs so that keys cached together do not
	// expire together: each fill shortens the node-cache and shared-cache
	// TTL of its value by a fraction of itself in [0, TTLJitter) (see
	// locks.Config.TTLJitter). Default 0, off; it must be below 1.
	TTLJitter float64
	// XFetchBeta switches XFetch's early probabilistic refresh on with this
	// beta (1 is the paper's default; larger refreshes earlier): a request
	// for a value that expires within its recompute time times beta times
	// -ln(u), for a uniform draw u of its own, starts a background refresh
	// while it is served the value (see locks.Config.XFetchBeta). Default
	// 0, off; it must be finite and not negative.
	XFetchBeta float64
	// XFetchSource is where Do draws XFetch's uniforms from; default a PCG
	// seeded from crypto/rand, one per driver. It is used under the
	// driver's mutex only, so it need not be safe for concurrent use, but
	// it must not be shared between drivers. Give a seeded one to make
	// the draws reproducible; DoDrawn takes a draw per call instead.
	XFetchSource rand.Source
	// MaxRefreshes bounds the goroutines that run background refreshes'
	// upstream calls (stale-while-revalidate, XFetch): refreshes beyond it
	// wait in a queue for one to be free, so that a burst of keys going
	// stale at once does not start as many calls; a refresh that has not
	// returned within FetchTimeout of being asked for fails, and the stale
	// value is served on until its hard TTL. A refresh that a caller joins
	// (with a node level, a request past the hard TTL waits for the key's
	// refresh) leaves the queue and starts at once, outside the bound, so
	// that the caller does not wait behind other keys' refreshes. Default
	// DefaultMaxRefreshes.
	MaxRefreshes int
	// Logger receives the driver's diagnostics; default: discard.
	Logger *slog.Logger
	// Observer, if not nil, is told of every store operation, contention
	// change, upstream call and reply, as they happen.
	Observer Observer
}

// Observer is told what a driver does, so that validation tooling can count
// exactly what the simulator counts. Its methods are called from the
// driver's goroutines and from callers of Do, never under the driver's
// mutex, and concurrently: they must be safe for concurrent use and quick.
type Observer interface {
	// StoreOp reports a finished store operation of kind on the store of
	// scope, with the requests it sent (1, or 2 when the server had lost
	// its script cache; 0 when it could not be sent), the commands the
	// store ran for it, counted as INFO commandstats counts them, and how
	// long it took from the machine asking for it to the machine having
	// its result (0 for a subscription, which the driver does not time).
	// It is called once the machine has the result.
	StoreOp(scope locks.Scope, kind locks.OpKind, roundTrips, commands int, took time.Duration)
	// Contend reports that delta flights (+1 or -1) started or stopped
	// holding or waiting for the lock of the topology's level on key.
	Contend(level int, key string, delta int)
	// Fetch reports an upstream call starting, with its cause.
	Fetch(cause locks.Cause)
	// Reply reports a request answered, how, and how long after it arrived.
	Reply(served locks.Served, latency time.Duration)
}

// config is Options with the defaults filled in and checked.
type config struct {
	topo           locks.Topology
	prefix         string
	nodeCacheTTL   time.Duration
	sharedCacheTTL time.Duration
	staleFor       time.Duration
	fetchTimeout   time.Duration
	ttlJitter      float64
	xfetchBeta     float64
	xfetchSource   rand.Source
	maxRefreshes   int
	log            *slog.Logger
	obs            Observer
	scopePrefix    [locks.MaxLevels]string
}

func (o *Options) resolve() (config, error) {
	c := config{
		prefix:         o.Prefix,
		nodeCacheTTL:   o.NodeCacheTTL,
		sharedCacheTTL: o.SharedCacheTTL,
		staleFor:       o.StaleFor,
		fetchTimeout:   o.FetchTimeout,
		ttlJitter:      o.TTLJitter,
		xfetchBeta:     o.XFetchBeta,
		xfetchSource:   o.XFetchSource,
		maxRefreshes:   o.MaxRefreshes,
		log:            o.Logger,
		obs:            o.Observer,
	}
	if o.Topology.Name == "" && len(o.Topology.Levels) == 0 {
		return c, fmt.Errorf("Options.Topology is empty: name a built-in with real.Topology, list levels, or use the built-in %q to run without locks", "none")
	}
	c.topo = locks.Topology{Name: o.Topology.Name}
	for _, l := range o.Topology.Levels {
		if l.LeaseTTL == 0 {
			l.LeaseTTL = DefaultLevel.LeaseTTL
		}
		if l.WaitTimeout == 0 {
			l.WaitTimeout = DefaultLevel.WaitTimeout
		}
		if l.PollInterval == 0 {
			l.PollInterval = DefaultLevel.PollInterval
		}
		c.topo.Levels = append(c.topo.Levels, l)
	}
	if err := c.topo.Validate(); err != nil {
		return c, err
	}
	if c.prefix == "" {
		c.prefix = DefaultPrefix
	}
	if strings.ContainsAny(c.prefix, "{}") {
		return c, fmt.Errorf("Options.Prefix %q contains '{' or '}', which would move the keys' hash tag", c.prefix)
	}
	for scope, p := range o.ScopePrefixes {
		if int(scope) >= locks.MaxLevels || !scope.Shared() {
			return c, fmt.Errorf("Options.ScopePrefixes: %s is not a shared scope", scope)
		}
		if strings.ContainsAny(p, "{}") {
			return c, fmt.Errorf("Options.ScopePrefixes[%s] %q contains '{' or '}', which would move the keys' hash tag", scope, p)
		}
		c.scopePrefix[scope] = p
	}
	switch {
	case c.nodeCacheTTL == 0:
		c.nodeCacheTTL = DefaultNodeCacheTTL
	case c.nodeCacheTTL < 0:
		c.nodeCacheTTL = 0
	}
	if c.sharedCacheTTL == 0 {
		c.sharedCacheTTL = DefaultSharedCacheTTL
	}
	if c.sharedCacheTTL < time.Millisecond {
		return c, fmt.Errorf("Options.SharedCacheTTL must be at least 1ms (Redis counts it in milliseconds), got %v", c.sharedCacheTTL)
	}
	if c.staleFor < 0 {
		return c, fmt.Errorf("Options.StaleFor must not be negative, got %v", c.staleFor)
	}
	if c.fetchTimeout == 0 {
		c.fetchTimeout = DefaultFetchTimeout
	}
	if c.fetchTimeout < 0 {
		return c, fmt.Errorf("Options.FetchTimeout must not be negative, got %v", c.fetchTimeout)
	}
	if !(c.ttlJitter >= 0 && c.ttlJitter < 1) { // also refuses NaN
		return c, fmt.Errorf("Options.TTLJitter must be a fraction in [0, 1), got %v", c.ttlJitter)
	}
	if !(c.xfetchBeta >= 0 && c.xfetchBeta <= math.MaxFloat64) { // also refuses NaN and +Inf
		return c, fmt.Errorf("Options.XFetchBeta must be a finite number at least 0, got %v", c.xfetchBeta)
	}
	switch {
	case c.maxRefreshes == 0:
		c.maxRefreshes = DefaultMaxRefreshes
	case c.maxRefreshes < 0:
		return c, fmt.Errorf("Options.MaxRefreshes must not be negative, got %d", c.maxRefreshes)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
