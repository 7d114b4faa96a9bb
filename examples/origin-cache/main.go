// Command origin-cache is an example service built on stampsim's production
// driver, package real: an HTTP cache in front of a slow origin that
// collapses the requests of a cache miss, across every instance that shares
// one Redis, into one origin call.
//
// It serves GET /<path> by calling a built-in simulated origin (it waits
// -origin-latency, then answers with a body naming the path and the serial
// number of its call) through real.Driver.Do, with the path as the cache
// key. The response header X-Stampsim-Served says how the request was
// served: hit, collapsed, fetched, hedged, stale or revalidating (a value
// past its soft TTL, served while one background refresh runs). A failed request gets
// 502 and the error's message. GET /metrics serves the driver's counts (see
// real/promcollector) and origin_calls_total, the origin's own count of its
// calls, in Prometheus's text format.
//
// Run two or three instances against one redis-server and send them a
// burst for one path: the sum of origin_calls_total over the instances
// grows by one (see README.md beside this file).
//
// It is an example: it must use only the exported API of real and
// real/promcollector, as any service would, and nothing in stampsim may
// depend on it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/real"
	"github.com/stampsim/stampsim/real/promcollector"
)

// ServedHeader is the response header that says how a request was served.
const ServedHeader = "X-Stampsim-Served"

// config holds the service's settings, as the flags give them.
type config struct {
	listen    string
	redisAddr string
	redisURL  string
	topology  locks.Topology
	nodeTTL   time.Duration
	sharedTTL time.Duration
	prefix    string
	// The cache policies beyond locking (see real.Options): TTL jitter,
	// XFetch's beta, and the bound on background refreshes. The hard TTLs
	// and adaptive wait timeouts are in topology's levels.
	ttlJitter    float64
	xfetchBeta   float64
	maxRefreshes int
	// originLatency is how long the simulated origin takes per call.
	originLatency time.Duration
	// shutdownTimeout bounds how long a shutdown waits for requests in
	// progress.
	shutdownTimeout time.Duration
	// log receives the driver's and the server's diagnostics; nil discards
	// them.
	log *slog.Logger
}

// parseFlags reads the command line. It returns flag.ErrHelp for -h.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("origin-cache", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: origin-cache [flags]\n\n"+
			"An HTTP cache in front of a simulated slow origin; misses are collapsed through\n"+
			"stampsim's lock topologies against Redis. GET /<path> serves the path, GET /metrics\n"+
			"the metrics.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	var c config
	var topo string
	fs.StringVar(&c.listen, "listen", "127.0.0.1:8080", "`address` to serve HTTP on")
	fs.StringVar(&c.redisAddr, "redis", "127.0.0.1:6379", "`host:port` of the Redis every shared lock level uses")
	fs.StringVar(&c.redisURL, "redis-url", "", "Redis `URL` (redis://[user:password@]host:port/db), instead of -redis")
	fs.StringVar(&topo, "topology", "two-level", "lock topology, one of the built-ins: none, node-only, one-level, two-level, global, fanout-tree")
	fs.DurationVar(&c.nodeTTL, "node-ttl", real.DefaultNodeCacheTTL, "how long a value stays in this instance's own cache (negative: no node cache)")
	fs.DurationVar(&c.sharedTTL, "shared-ttl", real.DefaultSharedCacheTTL, "how long a value stays in the shared cache in Redis (at least 1ms)")
	fs.StringVar(&c.prefix, "prefix", "origin-cache:", "`prefix` of every Redis key and channel; instances that should collapse together need the same one")
	fs.DurationVar(&c.originLatency, "origin-latency", 200*time.Millisecond, "how long the simulated origin takes to answer a call")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long a shutdown waits for requests in progress")
	var p policyFlags
	p.register(fs)
	fs.Float64Var(&c.ttlJitter, "ttl-jitter", 0, "shorten each fill's TTLs by a random `fraction` of them below this, so that paths cached together do not expire together (0: off)")
	fs.Float64Var(&c.xfetchBeta, "xfetch-beta", 0, "XFetch's `beta`: refresh a value early, in the background, with a probability that rises as its expiry nears (0: off; 1 is the paper's default)")
	fs.IntVar(&c.maxRefreshes, "max-refreshes", real.DefaultMaxRefreshes, "at most this many background refreshes call the origin at once")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q: origin-cache takes flags only", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["redis"] && set["redis-url"] {
		return c, fmt.Errorf("-redis %q and -redis-url %q both given: use one", c.redisAddr, c.redisURL)
	}
	t, err := real.Topology(topo)
	if err != nil {
		return c, fmt.Errorf("-topology %q: %w", topo, err)
	}
	c.topology = t
	if err := p.apply(&c); err != nil {
		return c, err
	}
	switch {
	case !(c.ttlJitter >= 0 && c.ttlJitter < 1):
		return c, fmt.Errorf("-ttl-jitter must be a fraction in [0, 1), got %v", c.ttlJitter)
	case !(c.xfetchBeta >= 0 && c.xfetchBeta <= math.MaxFloat64):
		return c, fmt.Errorf("-xfetch-beta must be a finite number at least 0, got %v", c.xfetchBeta)
	case c.maxRefreshes < 1:
		return c, fmt.Errorf("-max-refreshes must be at least 1, got %d", c.maxRefreshes)
	}
	if c.originLatency < 0 {
		return c, fmt.Errorf("-origin-latency must not be negative, got %v", c.originLatency)
	}
	if c.shutdownTimeout <= 0 {
		return c, fmt.Errorf("-shutdown-timeout must be positive, got %v", c.shutdownTimeout)
	}
	return c, nil
}

// usesRedis reports whether the topology has a shared level, which needs a
// Redis client.
func (c *config) usesRedis() bool {
	for _, l := range c.topology.Levels {
		if l.Scope.Shared() {
			return true
		}
	}
	return false
}

// redisOptions returns the options of the Redis client for c.
func (c *config) redisOptions() (*redis.Options, error) {
	opt := &redis.Options{Addr: c.redisAddr}
	if c.redisURL != "" {
		var err error
		if opt, err = redis.ParseURL(c.redisURL); err != nil {
			return nil, fmt.Errorf("-redis-url %q: %w", c.redisURL, err)
		}
	}
	// Store operations end at the deadlines the driver gives them, and a
	// lock script is never sent twice behind the driver's back (a retried
	// read-or-acquire could take a second fence), which also keeps the
	// round-trip counts in /metrics exact.
	opt.ContextTimeoutEnabled = true
	opt.MaxRetries = -1
	return opt, nil
}

// origin is the simulated slow origin: every call waits latency, then
// answers with a body naming the path and the call's serial number. It is
// safe for concurrent use; several servers may share one.
type origin struct {
	latency time.Duration
	// hold, if not nil, replaces the wait: a call waits until it is closed.
	// Tests use it to keep a call in progress until every request has
	// arrived.
	hold  chan struct{}
	calls atomic.Uint64
}

func newOrigin(latency time.Duration) *origin { return &origin{latency: latency} }

// Calls returns the number of calls the origin has received.
func (o *origin) Calls() uint64 { return o.calls.Load() }

// Fetch is one origin call for path. It counts the call when it starts and
// returns ctx's error if ctx ends before the answer is ready.
func (o *origin) Fetch(ctx context.Context, path string) ([]byte, error) {
	serial := o.calls.Add(1)
	var done <-chan time.Time // nil, which never fires, while hold is in use
	if o.hold == nil {
		t := time.NewTimer(o.latency)
		defer t.Stop()
		done = t.C
	}
	select {
	case <-done:
	case <-o.hold:
	case <-ctx.Done():
		return nil, fmt.Errorf("origin call %d for %q: %w", serial, path, ctx.Err())
	}
	return fmt.Appendf(nil, "origin response for %s (serial %d)\n", path, serial), nil
}

// server is one instance of the service: a driver in front of an origin,
// and the metrics of both. Its ServeHTTP is the whole HTTP interface.
type server struct {
	driver  *real.Driver
	origin  *origin
	metrics http.Handler
}

// newServer returns a server for cfg whose shared lock levels all use
// client (nil when the topology has none), calling origin on misses. The
// caller closes the server, then the client.
func newServer(cfg config, client redis.UniversalClient, o *origin) (*server, error) {
	if cfg.usesRedis() && client == nil {
		return nil, fmt.Errorf("topology %q has shared levels but no Redis client was given", cfg.topology.Name)
	}
	log := cfg.log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var clients map[locks.Scope]redis.UniversalClient
	if client != nil {
		clients = map[locks.Scope]redis.UniversalClient{
			locks.ScopeZone: client, locks.ScopeRegion: client, locks.ScopeGlobal: client,
		}
	}
	d, err := real.New(real.Options{
		Topology:       cfg.topology,
		Clients:        clients,
		Prefix:         cfg.prefix,
		NodeCacheTTL:   cfg.nodeTTL,
		SharedCacheTTL: cfg.sharedTTL,
		TTLJitter:      cfg.ttlJitter,
		XFetchBeta:     cfg.xfetchBeta,
		MaxRefreshes:   cfg.maxRefreshes,
		Logger:         log,
	})
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	err = errors.Join(
		reg.Register(promcollector.New(d, nil)),
		reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "origin_calls_total",
			Help: "Calls the simulated origin received.",
		}, func() float64 { return float64(o.Calls()) })),
	)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("registering metrics: %w", err)
	}
	return &server{
		driver:  d,
		origin:  o,
		metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)}),
	}, nil
}

// ServeHTTP serves GET /metrics, and GET (or HEAD) of any other path through
// the driver, with the path as the cache key.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, fmt.Sprintf("method %s not allowed: origin-cache serves GET and HEAD", r.Method), http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Path == "/metrics" {
		s.metrics.ServeHTTP(w, r)
		return
	}
	path := r.URL.Path
	// The fetch runs under the driver's context, not the request's: a
	// client that hangs up does not cancel the call other clients wait for.
	res, err := s.driver.Do(r.Context(), path, func(ctx context.Context) ([]byte, error) {
		return s.origin.Fetch(ctx, path)
	})
	w.Header().Set(ServedHeader, res.Served.String())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(res.Value)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.Value)
}

// Close closes the driver: requests still waiting fail, upstream calls in
// progress are cancelled, held locks are released. It does not close the
// Redis client.
func (s *server) Close() error { return s.driver.Close() }

// run is the whole command: it parses args, serves until ctx ends, then
// shuts down gracefully (the HTTP server first, letting requests in progress
// finish, then the driver, then the Redis client). It returns the exit
// status: 0 after a clean shutdown, 1 on a failure, 2 on bad flags.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "origin-cache: %v\n", err)
		return 2
	}
	cfg.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	var client *redis.Client
	where := "no Redis"
	if cfg.usesRedis() {
		opt, err := cfg.redisOptions()
		if err != nil {
			fmt.Fprintf(stderr, "origin-cache: %v\n", err)
			return 2
		}
		client = redis.NewClient(opt)
		defer client.Close()
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = client.Ping(pctx).Err()
		cancel()
		if err != nil {
			fmt.Fprintf(stderr, "origin-cache: Redis at %s does not answer: %v\n", opt.Addr, err)
			return 1
		}
		where = "Redis " + opt.Addr
	}
	var uc redis.UniversalClient
	if client != nil {
		uc = client
	}
	srv, err := newServer(cfg, uc, newOrigin(cfg.originLatency))
	if err != nil {
		fmt.Fprintf(stderr, "origin-cache: %v\n", err)
		return 1
	}
	defer srv.Close()

	l, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		fmt.Fprintf(stderr, "origin-cache: -listen %q: %v\n", cfg.listen, err)
		return 1
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(cfg.log.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(stdout, "origin-cache: listening on http://%s (topology %s, %s, origin latency %v)\n",
		l.Addr(), cfg.topology.Name, where, cfg.originLatency)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(l) }()

	status := 0
	select {
	case err := <-served:
		fmt.Fprintf(stderr, "origin-cache: serving: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		fmt.Fprintf(stderr, "origin-cache: shutdown: %v; closing the connections left\n", err)
		hs.Close()
		status = 1
	}
	<-served // http.ErrServerClosed
	if err := srv.Close(); err != nil {
		fmt.Fprintf(stderr, "origin-cache: closing the driver: %v\n", err)
		status = 1
	}
	fmt.Fprintf(stdout, "origin-cache: stopped\n")
	return status
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
