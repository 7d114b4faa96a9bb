package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/world"
)

// A signal's exit status is what a shell reports for a process the signal
// killed, through every wrapping, and a signal is a cancellation.
func TestSignalExitStatus(t *testing.T) {
	for sig, want := range map[syscall.Signal]int{syscall.SIGINT: 130, syscall.SIGTERM: 143} {
		cause := &signalError{sig}
		wrapped := &interruptedError{cause: cause, where: "in topology none (1 of 1)"}
		for _, err := range []error{cause, wrapped, fmt.Errorf("running: %w", wrapped)} {
			if got := exitCode(err); got != want {
				t.Errorf("exitCode(%v) = %d, want %d", err, got, want)
			}
		}
		if !errors.Is(cause, context.Canceled) {
			t.Errorf("%v is not a context.Canceled", cause)
		}
		if got, want := wrapped.Error(), "interrupted by "+signalName(sig)+" in topology none (1 of 1)"; got != want {
			t.Errorf("message %q, want %q", got, want)
		}
	}
}

// The first signal cancels the work with the signal as the cause and lets
// it finish; the second exits at once, with its own status.
func TestWatchSignals(t *testing.T) {
	c := make(chan os.Signal, 2)
	done := make(chan struct{})
	defer close(done)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	exited := make(chan int, 1)
	var stderr syncBuffer
	go watchSignals(c, done, cancel, &stderr, func(code int) { exited <- code })

	c <- syscall.SIGTERM
	<-ctx.Done()
	var sig *signalError
	if !errors.As(context.Cause(ctx), &sig) || sig.sig != syscall.SIGTERM {
		t.Fatalf("cause %v, want SIGTERM", context.Cause(ctx))
	}
	select {
	case code := <-exited:
		t.Fatalf("the first signal exited with %d; it must only cancel", code)
	case <-time.After(50 * time.Millisecond):
	}
	if stderr.String() != "" {
		t.Errorf("the first signal wrote %q; the command reports it", stderr.String())
	}

	c <- syscall.SIGINT
	if code := <-exited; code != 130 {
		t.Errorf("the second signal exited with %d, want 130 (SIGINT's)", code)
	}
	if got := stderr.String(); got != "stampsim: SIGINT again: exiting at once, without waiting for the work in progress to stop or clean up\n" {
		t.Errorf("stderr %q", got)
	}
}

// validate's errors end with the cancellation, which the message already
// begins with; it is said once.
func TestValidateInterruptedMessage(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(&signalError{syscall.SIGTERM})
	for err, want := range map[error]string{
		fmt.Errorf("running two-level for real: %w", context.Canceled):                "interrupted by SIGTERM in validate, while running two-level for real",
		fmt.Errorf("simulating global: %w", context.Cause(ctx)):                       "interrupted by SIGTERM in validate, while simulating global",
		fmt.Errorf("calibrating redis 127.0.0.1:6379: %w", errors.New("i/o timeout")): "interrupted by SIGTERM in validate, while calibrating redis 127.0.0.1:6379: i/o timeout",
		context.Cause(ctx): "interrupted by SIGTERM in validate",
		context.Canceled:   "interrupted by SIGTERM in validate",
	} {
		got := validateInterrupted(ctx, err)
		if got.Error() != want || exitCode(got) != 143 {
			t.Errorf("validateInterrupted(%q) = %q, status %d; want %q, 143", err, got, exitCode(got), want)
		}
	}
}

// syncBuffer is a bytes.Buffer for writers on other goroutines.
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

// interruptAfter makes a's simulator behave as world.Run does when a
// signal comes part way through topology n (from 1): it cancels ctx with
// SIGINT as the cause, and returns what the topology did so far, marked.
func interruptAfter(a *app, n int, ctx context.Context, cancel context.CancelCauseFunc) {
	simulate := a.simulate
	started := 0
	a.simulate = func(ctx context.Context, rs *scenarios.Resolved, topo locks.Topology, opt world.Options) (reports.Run, error) {
		if started++; started < n {
			return simulate(ctx, rs, topo, opt)
		}
		cancel(&signalError{syscall.SIGINT})
		return reports.Run{Topology: topo.Name, Requests: 400, SimSeconds: 1.25, Interrupted: true}, context.Cause(ctx)
	}
}

// An interrupted run keeps, in --out, the topologies that finished and
// the one interrupted, marked; says "complete": false; prints the table of
// what it holds; and exits 130 saying where it stopped.
func TestInterruptKeepsFinishedRuns(t *testing.T) {
	a, _ := stubApp(t)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	interruptAfter(a, 2, ctx, cancel)
	dir := t.TempDir()
	code, out, errs := exec(t, a, ctx, "run", "-t", "none,two-level,global", "--out", dir)
	if code != 130 {
		t.Errorf("exit %d, want 130", code)
	}
	want := fmt.Sprintf("stampsim: interrupted by SIGINT in topology two-level (2 of 3): the results are incomplete: "+
		"1 of 3 topologies finished, two-level stopped at 1.25s of simulated time; kept in %s with \"complete\": false\n", filepath.Join(dir, "results.json"))
	if errs != want {
		t.Errorf("stderr %q\nwant   %q", errs, want)
	}
	if !strings.Contains(out, "\nnone ") || !strings.Contains(out, "\ntwo-level (interrupted at 1.25s) ") || strings.Contains(out, "global") {
		t.Errorf("table of the runs kept:\n%s", out)
	}
	res := readResults(t, filepath.Join(dir, "results.json"))
	if res.Complete || len(res.Runs) != 2 || res.Runs[0].Topology != "none" || res.Runs[0].Interrupted ||
		res.Runs[1].Topology != "two-level" || !res.Runs[1].Interrupted {
		t.Errorf("results.json: complete %v, runs %+v; want none, then two-level marked interrupted", res.Complete, res.Runs)
	}
}

// With -o json and no --out, the incomplete document is what is printed.
func TestInterruptPrintsTheIncompleteDocument(t *testing.T) {
	a, _ := stubApp(t)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	interruptAfter(a, 3, ctx, cancel)
	code, out, errs := exec(t, a, ctx, "run", "-t", "none,two-level,global", "-o", "json")
	if code != 130 || !strings.HasPrefix(errs, "stampsim: interrupted by SIGINT in topology global (3 of 3): ") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	res, err := reports.ReadJSON(strings.NewReader(out))
	if err != nil {
		t.Fatalf("stdout is not a results document: %v\n%s", err, out)
	}
	if res.Complete || len(res.Runs) != 3 || !res.Runs[2].Interrupted || res.Runs[1].Interrupted {
		t.Errorf("complete %v, runs %+v", res.Complete, res.Runs)
	}
}

// A signal between two topologies keeps the finished ones; the next one is
// named as not started.
func TestInterruptBetweenTopologies(t *testing.T) {
	a, _ := stubApp(t)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	a.afterRun = func(done int) {
		if done == 1 {
			cancel(&signalError{syscall.SIGTERM})
		}
	}
	dir := t.TempDir()
	code, _, errs := exec(t, a, ctx, "run", "-t", "none,two-level", "--out", dir, "-o", "json")
	if code != 143 || !strings.Contains(errs, "in topology two-level (2 of 2): the results are incomplete: 1 of 2 topologies finished, two-level had not started;") {
		t.Errorf("exit %d, stderr %q; want 143 naming two-level", code, errs)
	}
	if res := readResults(t, filepath.Join(dir, "results.json")); res.Complete || len(res.Runs) != 1 {
		t.Errorf("complete %v, %d runs; want the one that finished", res.Complete, len(res.Runs))
	}
}

// results.json says complete while topologies are still to come: false
// after the first of two (had the process been killed then), true at the
// end.
func TestCompleteOnlyWhenEveryTopologyRan(t *testing.T) {
	a, _ := stubApp(t)
	dir := t.TempDir()
	var afterFirst *reports.Results
	a.afterRun = func(done int) {
		if done == 1 {
			afterFirst = readResults(t, filepath.Join(dir, "results.json"))
		}
	}
	code, out, errs := exec(t, a, context.Background(), "run", "-t", "none,two-level", "--out", dir, "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if afterFirst == nil || afterFirst.Complete || len(afterFirst.Runs) != 1 {
		t.Errorf("results.json after the first topology: %+v; want 1 run, not complete", afterFirst)
	}
	if !strings.Contains(out, "\n  \"complete\": true,\n") || readResults(t, filepath.Join(dir, "results.json")).Complete != true {
		t.Errorf("the finished document does not say \"complete\": true:\n%s", out)
	}
}

// A results document from before the complete field still replays.
func TestReplayOlderResults(t *testing.T) {
	a, opts := stubApp(t)
	code, _, errs := exec(t, a, context.Background(), "run", filepath.Join("..", "..", "reports", "testdata", "results.without-complete.json"))
	if code != 0 || len(*opts) != 6 {
		t.Errorf("exit %d, %d topologies run; want 0 and the spec's 6: %s", code, len(*opts), errs)
	}
}

func readResults(t *testing.T, path string) *reports.Results {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := reports.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// cancelOnLine is stderr for validate's progress log: once a line that
// match accepts is written, it cancels after delay, with SIGINT as the
// cause, and sends the time on cancelled.
type cancelOnLine struct {
	syncBuffer
	match     func(line string) bool
	delay     time.Duration
	cancel    context.CancelCauseFunc
	cancelled chan time.Time
	once      sync.Once
}

func (c *cancelOnLine) Write(p []byte) (int, error) {
	n, err := c.syncBuffer.Write(p)
	if c.match(string(p)) {
		c.once.Do(func() {
			time.AfterFunc(c.delay, func() {
				c.cancelled <- time.Now() // first: the command may return as soon as it is cancelled
				c.cancel(&signalError{syscall.SIGINT})
			})
		})
	}
	return n, err
}

// validate interrupted while the real drivers run a topology stops within
// a second, says which topology, prints no report and exits 130. The real
// run of this scenario would last seconds: its upstream takes 5s, so the
// interruption finds drivers waiting on it.
func TestValidateInterrupted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slow-upstream.yaml")
	if err := os.WriteFile(path, []byte(slowUpstream), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	// Cancel once the real run of two-level is under way: the drivers,
	// made and loaded with scripts, wait on the upstream (or, on a
	// machine slow enough, are still being made: the message then says
	// which step failed, after the topology).
	stderr := &cancelOnLine{cancel: cancel, delay: 300 * time.Millisecond, cancelled: make(chan time.Time, 1), match: func(line string) bool {
		return strings.HasPrefix(line, "validate: two-level: ") && strings.HasSuffix(line, " requests against real drivers\n")
	}}
	var out bytes.Buffer
	a := newApp(&out, stderr)
	code := a.main(ctx, []string{"validate", path, "-t", "two-level"})
	var at time.Time
	select {
	case at = <-stderr.cancelled:
	default:
		t.Fatalf("validate ended before the interruption (exit %d); stderr:\n%s", code, stderr.String())
	}
	took := time.Since(at)
	if took > time.Second {
		t.Errorf("validate took %v to stop, want at most 1s", took)
	}
	if code != 130 {
		t.Errorf("exit %d, want 130; stderr:\n%s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
	if last, want := lines[len(lines)-1], "stampsim: interrupted by SIGINT in validate, while running two-level for real"; !strings.HasPrefix(last, want) {
		t.Errorf("last line %q, want it to begin %q", last, want)
	} else {
		t.Logf("%s, %v after the signal", last, took)
	}
	if out.Len() != 0 {
		t.Errorf("a report was printed for an interrupted validation:\n%s", out.String())
	}
}

// slowUpstream is a scenario whose real run takes seconds: every upstream
// call takes 5s, so an interruption finds drivers waiting on it.
const slowUpstream = `duration: 10s
topology: {regions: 1, zones_per_region: 1, nodes_per_zone: 4}
upstream: {latency: {dist: fixed, value: 5s}}
workload:
  keys: 1
  bursts: [{at: 0s, key: 0, requests: 200, over: 100ms}]
`
