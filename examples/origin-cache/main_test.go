package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/real"
)

// noLeaks fails t if a goroutine started during the test outlives it. Call
// it first, so that its check runs after every other cleanup.
func noLeaks(t *testing.T) {
	t.Helper()
	ign := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ign) })
}

// testConfig is the service's default configuration, as the flags give it.
func testConfig(t *testing.T, args ...string) config {
	t.Helper()
	cfg, err := parseFlags(args, io.Discard)
	if err != nil {
		t.Fatalf("parseFlags(%q): %v", args, err)
	}
	return cfg
}

// instance is one service instance on a loopback listener: its own Redis
// client and driver, as a separate process would have.
type instance struct {
	srv *server
	url string
}

// startInstance starts an instance against the Redis at addr, calling o on
// misses, and closes it (server, driver, client, in that order) when t ends.
func startInstance(t *testing.T, cfg config, addr string, o *origin) *instance {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { client.Close() })
	srv, err := newServer(cfg, client, o)
	if err != nil {
		t.Fatalf("newServer: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &instance{srv: srv, url: hs.URL}
}

// httpClient returns a client that keeps up to n connections per instance
// alive, closed when t ends.
func httpClient(t *testing.T, n int) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: n}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

type response struct {
	status int
	served string
	body   string
}

func get(t *testing.T, c *http.Client, url string) response {
	t.Helper()
	r, err := getErr(c, url)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func getErr(c *http.Client, url string) (response, error) {
	resp, err := c.Get(url)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("GET %s: reading the body: %w", url, err)
	}
	return response{resp.StatusCode, resp.Header.Get(ServedHeader), string(b)}, nil
}

// waitFor polls cond until it holds, failing t after a generous deadline
// (a correctness bound, not a timing target) with what cond last said.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; last: %s", what, state)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Two instances share one Redis and one origin. 500 concurrent requests for
// one path, half to each, cost the origin one call: every response is 200
// with the body of that call; one request was fetched and the other 499
// collapsed onto it, on its own instance through the node lock or on the
// other instance through the region lock in Redis.
func TestTwoInstancesCollapseABurstIntoOneOriginCall(t *testing.T) {
	noLeaks(t)
	m := miniredis.RunT(t)
	m.ClockTTL(true)
	o := newOrigin(0)
	o.hold = make(chan struct{})
	cfg := testConfig(t) // two-level
	insts := []*instance{startInstance(t, cfg, m.Addr(), o), startInstance(t, cfg, m.Addr(), o)}
	const n = 500
	c := httpClient(t, n)

	resps := make([]response, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	release := sync.OnceFunc(func() { close(o.hold) })
	t.Cleanup(func() { release(); wg.Wait() }) // before the instances close, if the test fails early
	for i := range n {
		wg.Go(func() { resps[i], errs[i] = getErr(c, insts[i%2].url+"/hot") })
	}
	// Keep the origin call in progress until every request waits in Do and
	// both instances' flights have reached the region lock (one took it, the
	// other waits), so that every request but one must collapse.
	waitFor(t, "500 waiting requests and both flights at the region lock", func() (bool, string) {
		var waiting int
		var acq, waits uint64
		for _, in := range insts {
			s := in.srv.driver.Stats()
			waiting += s.Waiting
			for _, l := range s.Levels {
				if l.Scope == locks.ScopeRegion {
					acq += l.Acquisitions
					waits += l.Waits
				}
			}
		}
		state := fmt.Sprintf("%d waiting, region lock taken %d times and waited for %d times", waiting, acq, waits)
		if acq > 1 {
			t.Fatalf("the instances do not share the region lock: %s", state)
		}
		return waiting == n && acq == 1 && waits == 1, state
	})
	release()
	wg.Wait()

	if got := o.Calls(); got != 1 {
		t.Errorf("origin calls = %d, want 1", got)
	}
	const want = "origin response for /hot (serial 1)\n"
	served := map[string]int{}
	for i, r := range resps {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		if r.status != http.StatusOK || r.body != want {
			t.Fatalf("request %d to instance %d: status %d, body %q; want 200, %q", i, i%2, r.status, r.body, want)
		}
		served[r.served]++
	}
	if want := map[string]int{"fetched": 1, "collapsed": n - 1}; fmt.Sprint(served) != fmt.Sprint(want) {
		t.Errorf("%s headers: %v, want %v", ServedHeader, served, want)
	}
	var upstream uint64
	for _, in := range insts {
		s := in.srv.driver.Stats()
		for _, u := range s.UpstreamCalls {
			upstream += u
		}
	}
	if upstream != 1 {
		t.Errorf("the drivers counted %d upstream calls, want 1", upstream)
	}

	// The value is cached now: a later request is a hit and calls nothing.
	if r := get(t, c, insts[1].url+"/hot"); r.status != http.StatusOK || r.served != "hit" || r.body != want {
		t.Errorf("a request after the burst: %+v, want 200, hit, %q", r, want)
	}
	if got := o.Calls(); got != 1 {
		t.Errorf("origin calls after a hit = %d, want 1", got)
	}
}

// /metrics serves the driver's lock, request and store metrics and the
// origin's own count, in Prometheus's text format. (The publish that
// follows the fetch is not asserted: the driver answers the requests before
// the store has confirmed it.)
func TestMetrics(t *testing.T) {
	noLeaks(t)
	m := miniredis.RunT(t)
	m.ClockTTL(true)
	o := newOrigin(time.Millisecond)
	in := startInstance(t, testConfig(t), m.Addr(), o)
	c := httpClient(t, 1)

	for _, want := range []string{"fetched", "hit"} {
		if r := get(t, c, in.url+"/a"); r.status != http.StatusOK || r.served != want {
			t.Fatalf("GET /a: %+v, want 200 and %s", r, want)
		}
	}
	resp, err := c.Get(in.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: status %d, Content-Type %q; want 200, text/plain", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, line := range []string{
		"# TYPE origin_calls_total counter",
		"origin_calls_total 1",
		"# TYPE stampsim_lock_acquisitions_total counter",
		`stampsim_lock_acquisitions_total{level="node",scope="node"} 1`,
		`stampsim_lock_acquisitions_total{level="region",scope="region"} 1`,
		`stampsim_lock_waits_total{level="node",scope="node"} 0`,
		`stampsim_lock_waits_total{level="region",scope="region"} 0`,
		`stampsim_lock_timeouts_total{level="region",scope="region"} 0`,
		"# TYPE stampsim_lock_wait_duration_seconds histogram",
		"stampsim_lock_wait_duration_seconds_count 0",
		`stampsim_requests_total{served="fetched"} 1`,
		`stampsim_requests_total{served="hit"} 1`,
		`stampsim_upstream_calls_total{cause="holder"} 1`,
		`stampsim_store_operations_total{op="read_or_acquire",scope="region"} 1`,
	} {
		if !bytes.Contains(body, []byte("\n"+line+"\n")) {
			t.Errorf("/metrics has no line %q", line)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
}

// A request that fails gets 502 with the error's message; other methods
// than GET and HEAD get 405.
func TestErrors(t *testing.T) {
	noLeaks(t)
	m := miniredis.RunT(t)
	in := startInstance(t, testConfig(t), m.Addr(), newOrigin(0))
	c := httpClient(t, 1)

	in.srv.Close() // from now on the driver refuses every request
	r := get(t, c, in.url+"/x")
	if r.status != http.StatusBadGateway || r.served != "error" || !strings.Contains(r.body, real.ErrClosed.Error()) {
		t.Errorf("GET /x from a closed driver: %+v, want 502, error, a body naming %q", r, real.ErrClosed)
	}
	resp, err := c.Post(in.url+"/x", "text/plain", strings.NewReader("v"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /x: status %d, Allow %q; want 405, GET, HEAD", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// syncBuffer is a bytes.Buffer that run may write while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listening = regexp.MustCompile(`listening on (http://\S+) `)

// run serves until its context ends (as main's does on SIGINT or SIGTERM),
// then lets the request in progress finish before it closes the driver, and
// exits 0.
func TestRunShutsDownGracefully(t *testing.T) {
	noLeaks(t)
	m := miniredis.RunT(t)
	m.ClockTTL(true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"-listen", "127.0.0.1:0", "-redis", m.Addr(), "-origin-latency", "300ms"}, &stdout, &stderr)
	}()
	var base string
	waitFor(t, "run to listen", func() (bool, string) {
		if s := listening.FindStringSubmatch(stdout.String()); s != nil {
			base = s[1]
			return true, ""
		}
		return false, fmt.Sprintf("stdout %q, stderr %q", stdout.String(), stderr.String())
	})
	c := httpClient(t, 2)

	slow := make(chan response, 1)
	go func() {
		r, err := getErr(c, base+"/slow")
		if err != nil {
			r.body = err.Error()
		}
		slow <- r
	}()
	waitFor(t, "the request to wait for the origin", func() (bool, string) {
		r := get(t, c, base+"/metrics")
		return strings.Contains(r.body, "\nstampsim_waiting_requests 1\n"), "stampsim_waiting_requests is not 1"
	})
	cancel()
	if r := <-slow; r.status != http.StatusOK || r.served != "fetched" || r.body != "origin response for /slow (serial 1)\n" {
		t.Errorf("the request in progress at shutdown: %+v, want 200, fetched, the origin's body", r)
	}
	if code := <-exit; code != 0 {
		t.Errorf("run exited %d, want 0; stderr:\n%s", code, stderr.String())
	}
	if !strings.HasSuffix(stdout.String(), "origin-cache: stopped\n") {
		t.Errorf("stdout %q does not end with the stop message", stdout.String())
	}
}

// run refuses bad flags with status 2 and a message naming the flag, and
// fails with status 1 when it cannot reach Redis or listen.
func TestRunRefuses(t *testing.T) {
	noLeaks(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String() // nothing listens there once l is closed
	l.Close()

	for _, tt := range []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"help", []string{"-h"}, 0, "Usage: origin-cache"},
		{"unknown topology", []string{"-topology", "three-level"}, 2, `-topology "three-level"`},
		{"both Redis flags", []string{"-redis", "127.0.0.1:1", "-redis-url", "redis://127.0.0.1:2"}, 2, "both given"},
		{"bad Redis URL", []string{"-redis-url", "http://127.0.0.1:1"}, 2, `-redis-url "http://127.0.0.1:1"`},
		{"negative origin latency", []string{"-origin-latency", "-1s"}, 2, "-origin-latency must not be negative"},
		{"arguments", []string{"extra"}, 2, "unexpected arguments"},
		{"unknown flag", []string{"-port", "1"}, 2, "flag provided but not defined: -port"},
		{"node hard TTL without a node level", []string{"-topology", "one-level", "-node-hard-ttl", "1m"}, 2, `topology "one-level" has no node level`},
		{"node hard TTL not past the node TTL", []string{"-node-ttl", "10s", "-node-hard-ttl", "5s"}, 2, "-node-hard-ttl 5s must be longer than -node-ttl 10s"},
		{"node hard TTL without a node cache", []string{"-node-ttl", "-1s", "-node-hard-ttl", "5s"}, 2, "switches off"},
		{"shared hard TTL without a shared level", []string{"-topology", "node-only", "-shared-hard-ttl", "1m"}, 2, "no shared level"},
		{"shared hard TTL not past the shared TTL", []string{"-shared-hard-ttl", "1s"}, 2, "-shared-hard-ttl 1s must be longer than -shared-ttl 10s"},
		{"adaptive quantile of 1", []string{"-adaptive-wait", "1"}, 2, "-adaptive-wait must be a quantile"},
		{"adaptive ceiling below the floor", []string{"-adaptive-wait", "0.9", "-adaptive-floor", "2s", "-adaptive-ceiling", "1s"}, 2, "-adaptive-ceiling 1s is below -adaptive-floor 2s"},
		{"jitter of 1", []string{"-ttl-jitter", "1"}, 2, "-ttl-jitter must be a fraction"},
		{"negative beta", []string{"-xfetch-beta", "-1"}, 2, "-xfetch-beta must be"},
		{"no refresh goroutine", []string{"-max-refreshes", "0"}, 2, "-max-refreshes must be at least 1"},
		{"no Redis", []string{"-redis", closed}, 1, "Redis at " + closed + " does not answer"},
		{"bad listen address, without Redis", []string{"-topology", "node-only", "-listen", "127.0.0.1:-1"}, 1, `-listen "127.0.0.1:-1"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.wantCode || !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("run(%q) = %d, stderr %q; want %d and a message containing %q", tt.args, code, stderr.String(), tt.wantCode, tt.wantStderr)
			}
		})
	}
}

// The policy flags land in the driver's options and the topology's levels.
func TestPolicyFlags(t *testing.T) {
	cfg := testConfig(t, "-node-ttl", "1s", "-node-hard-ttl", "5s", "-shared-ttl", "2s", "-shared-hard-ttl", "1m",
		"-adaptive-wait", "0.95", "-adaptive-floor", "200ms", "-adaptive-ceiling", "4s",
		"-ttl-jitter", "0.2", "-xfetch-beta", "1.5", "-max-refreshes", "3")
	want := []locks.Level{
		{Scope: locks.ScopeNode, HardTTL: 5 * time.Second},
		{Scope: locks.ScopeRegion, HardTTL: time.Minute},
	}
	for i, l := range cfg.topology.Levels {
		if l.Scope != want[i].Scope || l.HardTTL != want[i].HardTTL || l.AdaptiveQuantile != 0.95 || l.AdaptiveFloor != 200*time.Millisecond || l.AdaptiveCeiling != 4*time.Second {
			t.Errorf("level %d: %+v, want scope %v, hard TTL %v, adaptive 0.95 within 200ms and 4s", i, l, want[i].Scope, want[i].HardTTL)
		}
	}
	if cfg.ttlJitter != 0.2 || cfg.xfetchBeta != 1.5 || cfg.maxRefreshes != 3 {
		t.Errorf("jitter %v, beta %v, max refreshes %d; want 0.2, 1.5, 3", cfg.ttlJitter, cfg.xfetchBeta, cfg.maxRefreshes)
	}
	// The defaults leave every policy off.
	for i, l := range testConfig(t).topology.Levels {
		if l.HardTTL != 0 || l.AdaptiveQuantile != 0 {
			t.Errorf("default level %d: %+v, want no hard TTL and no adaptive wait", i, l)
		}
	}
}

// With -node-hard-ttl and -shared-hard-ttl, a path past its soft TTLs is
// served at once with the stale body (revalidating) while one background
// refresh calls the origin; the next request gets the new body.
func TestStaleWhileRevalidate(t *testing.T) {
	noLeaks(t)
	m := miniredis.RunT(t)
	m.ClockTTL(true)
	o := newOrigin(20 * time.Millisecond)
	cfg := testConfig(t, "-node-ttl", "100ms", "-node-hard-ttl", "1m", "-shared-ttl", "150ms", "-shared-hard-ttl", "1m")
	in := startInstance(t, cfg, m.Addr(), o)
	c := httpClient(t, 1)
	first := "origin response for /swr (serial 1)\n"
	if r := get(t, c, in.url+"/swr"); r.served != "fetched" || r.body != first {
		t.Fatalf("first request: %+v, want fetched, %q", r, first)
	}
	time.Sleep(200 * time.Millisecond)
	if r := get(t, c, in.url+"/swr"); r.status != http.StatusOK || r.served != "revalidating" || r.body != first {
		t.Fatalf("past the soft TTLs: %+v, want 200, revalidating, %q", r, first)
	}
	second := "origin response for /swr (serial 2)\n"
	waitFor(t, "the refreshed body", func() (bool, string) {
		r := get(t, c, in.url+"/swr")
		return r.served == "hit" && r.body == second, fmt.Sprintf("%+v", r)
	})
	if got := o.Calls(); got != 2 {
		t.Errorf("origin calls = %d, want 2 (the fill and one refresh)", got)
	}
}
