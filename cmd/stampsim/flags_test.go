package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// Bad input on the command line exits 2 with a message naming the flag or
// argument and its value; nothing runs.
func TestBadFlagValues(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "results")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", dir}, dir + " is a directory, not a scenario file"},
		{[]string{"validate", dir}, dir + " is a directory, not a scenario file"},
		{[]string{"run", "-t", "none", "--out", file}, "--out " + file + ": is a file; --out names a directory"},
		{[]string{"run", "-t", "none", "--out", filepath.Join(file, "sub")}, "--out " + filepath.Join(file, "sub") + ": cannot create the directory: not a directory"},
		{[]string{"run", "--max-memory", "8"}, `invalid argument "8" for "--max-memory" flag: want a size with a unit`},
		{[]string{"run", "--max-memory", "-1GB"}, `invalid argument "-1GB" for "--max-memory" flag: want a positive size`},
		{[]string{"run", "--max-requests", "-1"}, "--max-requests -1: want a number of requests, 0 for no limit"},
		{[]string{"run", "--max-nodes", "-5"}, "--max-nodes -5: want a number of nodes"},
		{[]string{"validate", "--redis", "foo://bar"}, "--redis foo://bar: invalid URL scheme: foo"},
		{[]string{"validate", "--redis", "127.0.0.1:99999"}, "--redis 127.0.0.1:99999: want host:port or a URL"},
		{[]string{"validate", "--redis", "localhost"}, "--redis localhost: want host:port or a URL such as redis://host:port/db (address localhost: missing port in address)"},
		{[]string{"validate", "--redis-cluster", "127.0.0.1:7000,nowhere"}, "--redis-cluster 127.0.0.1:7000,nowhere: nowhere: want host:port"},
		{[]string{"validate", "--store-load", "5"}, "--store-load 5: want the share of the store's time one operation per request may take, above 0 and at most 1"},
		{[]string{"validate", "--store-load", "0"}, "--store-load 0: want"},
		{[]string{"validate", "--store-load", "NaN"}, "--store-load NaN: want"},
		{[]string{"validate", "-t", "two-level,mesh"}, `--topology mesh: unknown topology "mesh"`},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			a, opts := stubApp(t)
			code, _, errs := exec(t, a, context.Background(), c.args...)
			if code != 2 || !strings.Contains(errs, c.want) || strings.Count(errs, "stampsim:") != 1 {
				t.Errorf("exit %d, stderr %q; want 2 and one message with %q", code, errs, c.want)
			}
			if len(*opts) != 0 {
				t.Error("a simulation ran")
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the refused --out left %d entries in %s", len(entries), dir)
	}
}

// validate takes --topology as run does, repeated or comma-separated, and
// --redis as host:port as the example service does, or as a URL.
func TestValidateFlagsLikeRun(t *testing.T) {
	m := miniredis.NewMiniRedis()
	m.ClockTTL(true) // leases expire, as on a server
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tiny := filepath.Join("testdata", "tiny.yaml")
	for _, c := range []struct {
		args  []string
		topos []string
	}{
		{[]string{"--redis", m.Addr(), "-t", "two-level,none"}, []string{"two-level", "none"}},
		{[]string{"--redis", "redis://" + m.Addr() + "/0", "-t", "two-level", "-t", "none,two-level"}, []string{"two-level", "none"}},
	} {
		args := append([]string{"validate", tiny, "-q", "-o", "json"}, c.args...)
		code, out, errs := exec(t, newApp(nil, nil), context.Background(), args...)
		if code != 0 {
			t.Errorf("%v: exit %d: %s", args, code, errs)
			continue
		}
		var doc struct {
			Store string `json:"store"`
			Runs  []struct {
				Topology string `json:"topology"`
			} `json:"runs"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		var ran []string
		for _, r := range doc.Runs {
			ran = append(ran, r.Topology)
		}
		if !reflect.DeepEqual(ran, c.topos) || doc.Store != "redis "+m.Addr() {
			t.Errorf("%v: ran %q against %q; want %q against redis %s", args, ran, doc.Store, c.topos, m.Addr())
		}
	}
}

func TestClusterAddrs(t *testing.T) {
	got, err := clusterAddrs("127.0.0.1:7000, 127.0.0.1:7001,,[::1]:7002")
	if want := []string{"127.0.0.1:7000", "127.0.0.1:7001", "[::1]:7002"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("clusterAddrs = %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{",", "127.0.0.1", "host:port", "a:0"} {
		if _, err := clusterAddrs(bad); err == nil {
			t.Errorf("clusterAddrs(%q) accepted", bad)
		}
	}
}

// A refused connection is one message, the command's: the Redis client's
// own log line (redis: 2026/12/01 ... pool.go:770: ...) comes to validate,
// which says it has it, and prints it only when -v asks for it. (The
// client has one logger for the process: lines that reach validate's are
// not printed by the client's own.)
func TestRedisClientLogFolded(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: connections are refused

	code, _, errs := exec(t, newApp(nil, nil), context.Background(), "validate", "-q", "--redis", addr)
	if code != 1 || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "stampsim: calibrating redis "+addr+": ") ||
		!strings.Contains(errs, "connection refused (-v also shows the Redis client's log: ") || strings.Contains(errs, "pool.go") {
		t.Errorf("exit %d, stderr:\n%s\nwant 1 and one line from stampsim", code, errs)
	}
	code, _, errs = exec(t, newApp(nil, nil), context.Background(), "validate", "-q", "-v", "--redis", addr)
	if code != 1 || !strings.Contains(errs, "validate: redis client: ") || strings.Contains(errs, "pool.go") {
		t.Errorf("-v: exit %d, stderr:\n%s\nwant the client's lines as validate's", code, errs)
	}
}

// --series-step sets the series' step as the scenario's series_step does,
// checked the same way; with --out the step used is recorded in the spec,
// so that the document replays it, and without --out nothing is.
func TestSeriesStep(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string // the step in the spec, or "" for none
		err  string // the message of exit 2, or "" for success
	}{
		{[]string{"--series-step", "2ms"}, "2ms", ""},
		{nil, "5ms", ""}, // flash-crowd's default: about 1,000 samples over 5s
		{[]string{"--series-step", "0s"}, "", "--series-step 0s: must be positive, got 0s"},
		{[]string{"--series-step", "-1ms"}, "", "--series-step -1ms: must be positive, got -1ms"},
		{[]string{"--series-step", "100us"}, "", "--series-step 100us: must be at least 1ms (the finest step the series keep), got 100us"},
		{[]string{"--series-step", "1h"}, "", "--series-step 1h: 1h0m0s is longer than the duration, 5s"},
		{[]string{"--series-step", "5"}, "", `--series-step 5: duration "5" has no unit`},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			a, opts := stubApp(t)
			args := append([]string{"run", "flash-crowd", "-t", "two-level", "-o", "json", "--out", t.TempDir()}, c.args...)
			code, out, errs := exec(t, a, context.Background(), args...)
			if c.err != "" {
				if code != 2 || !strings.Contains(errs, c.err) || len(*opts) != 0 {
					t.Errorf("exit %d, stderr %q, %d runs; want 2, %q, none", code, errs, len(*opts), c.err)
				}
				return
			}
			var doc struct {
				Spec map[string]any `json:"scenario_spec"`
				Runs []struct {
					Series struct {
						StepMs float64 `json:"step_ms"`
					} `json:"series"`
				} `json:"runs"`
			}
			if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil {
				t.Fatalf("exit %d (%v): %s", code, err, errs)
			}
			if got := doc.Spec["series_step"]; got != c.want {
				t.Errorf("scenario_spec.series_step = %v, want %s", got, c.want)
			}
			// The run was given that step (the stub's series say it).
			if want, _ := time.ParseDuration(c.want); len(doc.Runs) != 1 || doc.Runs[0].Series.StepMs != float64(want)/1e6 {
				t.Errorf("runs %+v, want one with series of step %v", doc.Runs, want)
			}
		})
	}

	// Without --out there are no series: the flag is a mistake, and the
	// document says nothing of a step.
	a, opts := stubApp(t)
	code, _, errs := exec(t, a, context.Background(), "run", "-t", "two-level", "--series-step", "2ms")
	if code != 2 || !strings.Contains(errs, "--series-step 2ms: the series are kept only with --out DIR") || len(*opts) != 0 {
		t.Errorf("--series-step without --out: exit %d, stderr %q", code, errs)
	}
	a, _ = stubApp(t)
	code, out, errs := exec(t, a, context.Background(), "run", "-t", "two-level", "-o", "json")
	if code != 0 || strings.Contains(out, "series_step") {
		t.Errorf("without --out: exit %d (%s), document mentions series_step: %v", code, errs, strings.Contains(out, "series_step"))
	}
}
