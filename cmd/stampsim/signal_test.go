//go:build linux

package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stampsim/stampsim/reports"
)

// pollStorm is a scenario with one topology that finishes at once
// (node-only: each node's requests wait on one upstream call) and one
// that would run for hours of wall time: poll-storm's thousand waiters
// poll their region's store, free and no distance away, every
// microsecond, for the minute the run drains after its one-second
// duration, while the holder's upstream call takes an hour. Its virtual
// clock crawls, a microsecond per thousand polls, so that the world's own
// steps of 10ms of simulated time take seconds each: only the engine's
// check, every few thousand events, stops it within a second. Its series
// take a sample a second: at the default step (1ms for a 1s run) the
// minute of drain would make 61,000 samples of each series, which the
// race detector takes seconds to write out at the interruption, and what
// these tests time is the stop, not the writing.
const pollStorm = `duration: 1s
series_step: 1s
topology: {regions: 1, zones_per_region: 1, nodes_per_zone: 10}
network: {node_to_region_store: {dist: fixed, value: 0s}}
store: {service_time: 0s, op_overhead: 0s}
upstream: {latency: {dist: fixed, value: 1h}}
workload:
  keys: 1
  bursts: [{at: 0s, key: 0, requests: 1000, over: 1ms}]
locks: {lease_ttl: 2h, wait_timeout: 2h, wake: poll, poll_interval: 1us}
topologies: [node-only, poll-storm]
custom_topologies:
  - name: poll-storm
    levels: [{scope: region}]
`

// startPollStorm starts `stampsim run` on pollStorm with --out and the
// extra args, and returns while poll-storm runs: node-only is in
// results.json, and poll-storm, whose world is built in microseconds, has
// had 300ms to start (the tests check that it did: it has counts). Its
// hours of polling are what --max-events refuses by default, so the limit
// is switched off.
func startPollStorm(t *testing.T, stdout *os.File, args ...string) (c *child, results string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "poll-storm.yaml")
	if err := os.WriteFile(path, []byte(pollStorm), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	c = startChild(t, stdout, append([]string{"run", path, "-q", "--out", out, "--max-events", "0"}, args...)...)
	results = filepath.Join(out, "results.json")
	c.waitFor(t, "results.json with node-only", 2*time.Minute, func() bool {
		_, err := os.Stat(results)
		return err == nil
	})
	time.Sleep(300 * time.Millisecond)
	return c, results
}

// SIGINT or SIGTERM, sent while a topology runs, stops the run within a
// second of wall time with the signal's exit status; results.json keeps
// the topology that finished and the interrupted one, marked, and says
// "complete": false; with -o json the same document is printed.
func TestSignalStopsARunMidTopology(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
		args []string
	}{
		{syscall.SIGINT, 130, nil},
		{syscall.SIGTERM, 143, []string{"-o", "json"}},
	} {
		t.Run(signalName(tc.sig), func(t *testing.T) {
			stdout, err := os.CreateTemp(t.TempDir(), "stdout")
			if err != nil {
				t.Fatal(err)
			}
			defer stdout.Close()
			c, results := startPollStorm(t, stdout, tc.args...)
			sent := c.signal(t, tc.sig)
			code, took := c.wait(t, sent, time.Minute)
			if code != tc.code {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, tc.code, c.stderr.String())
			}
			if took > time.Second {
				t.Errorf("exited %v after the signal, want within 1s", took)
			}
			t.Logf("exit status %d, %v after %s", code, took, signalName(tc.sig))
			want := "stampsim: interrupted by " + signalName(tc.sig) + " in topology poll-storm (2 of 2): the results are incomplete: 1 of 2 topologies finished, poll-storm stopped at "
			if !strings.HasPrefix(c.stderr.String(), want) {
				t.Errorf("stderr %q, want it to begin %q", c.stderr.String(), want)
			}
			res := readResults(t, results)
			checkInterrupted(t, res)
			printed, _ := os.ReadFile(stdout.Name())
			if tc.args != nil {
				doc, err := reports.ReadJSON(strings.NewReader(string(printed)))
				if err != nil {
					t.Fatalf("stdout is not a results document: %v", err)
				}
				checkInterrupted(t, doc)
			} else if !strings.Contains(string(printed), "\npoll-storm (interrupted at ") {
				t.Errorf("the table does not show the interrupted run:\n%s", printed)
			}
		})
	}
}

// checkInterrupted checks a document of pollStorm interrupted in
// poll-storm.
func checkInterrupted(t *testing.T, res *reports.Results) {
	t.Helper()
	if res.Complete {
		t.Error(`the document says "complete": true`)
	}
	if len(res.Runs) != 2 || res.Runs[0].Topology != "node-only" || res.Runs[0].Interrupted || res.Runs[0].Requests != 1000 {
		t.Fatalf("runs %+v: want node-only finished, then poll-storm", res.Runs)
	}
	if r := res.Runs[1]; r.Topology != "poll-storm" || !r.Interrupted || r.StoreOps == 0 {
		t.Errorf("poll-storm: interrupted %v, %d store ops; want it marked, with what it did", r.Interrupted, r.StoreOps)
	}
}

// A second signal exits at once, even when the first one's orderly stop
// cannot finish: here stdout is a pipe that nobody reads (a stalled
// consumer), so printing the partial document blocks. results.json was
// kept before that.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// The smallest pipe there is, so that the document cannot fit.
	if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, w.Fd(), syscall.F_SETPIPE_SZ, 4096); errno != 0 {
		t.Fatal(errno)
	}
	c, results := startPollStorm(t, w, "-o", "json")
	w.Close() // the child has its own copy

	// Only the first signal's orderly stop writes poll-storm, marked, into
	// results.json: once it is there, that stop is under way. (Two
	// signals sent before a busy child's runtime takes the first arrive
	// as one: the kernel keeps one pending SIGINT, not two.)
	c.signal(t, syscall.SIGINT)
	c.waitFor(t, "results.json with poll-storm marked interrupted", time.Minute, func() bool {
		data, err := os.ReadFile(results)
		var doc struct {
			Runs []struct{ Interrupted bool }
		}
		return err == nil && json.Unmarshal(data, &doc) == nil && len(doc.Runs) == 2 && doc.Runs[1].Interrupted
	})
	time.Sleep(200 * time.Millisecond)
	if !c.running() {
		t.Fatalf("exited with %d after one signal although its stdout is full; the test proves nothing. stderr:\n%s", c.cmd.ProcessState.ExitCode(), c.stderr.String())
	}

	sent := c.signal(t, syscall.SIGINT)
	code, took := c.wait(t, sent, time.Minute)
	if code != 130 || took > time.Second {
		t.Errorf("exit status %d %v after the second signal, want 130 within 1s", code, took)
	}
	t.Logf("exit status %d, %v after the second signal", code, took)
	if want := "stampsim: SIGINT again: exiting at once"; !strings.HasPrefix(c.stderr.String(), want) {
		t.Errorf("stderr %q, want it to begin %q", c.stderr.String(), want)
	}
	checkInterrupted(t, readResults(t, results))
	_, _ = io.Copy(io.Discard, r)
}
