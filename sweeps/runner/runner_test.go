package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stampsim/stampsim/internal/dirtest"
	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/sweeps"
	"github.com/stampsim/stampsim/world"
)

// tinySweep is a sweep of 4 points, 2 repeats and 2 topologies: 16 runs
// of a few hundred requests.
const tinySweep = `name: tiny
seed: 5
base:
  scenario:
    duration: 1s
    topology: {regions: 2, zones_per_region: 1, nodes_per_zone: 3}
    upstream: {latency: {dist: fixed, value: 30ms}}
    workload:
      keys: 1
      bursts: [{at: 100ms, key: 0, requests: 100, over: 10ms}]
axes:
  - path: workload.bursts[0].requests
    values: [100, 200]
    scale: log
  - path: topology.nodes_per_zone
    values: [2, 4]
    scale: log
repeats: 2
topologies: [two-level, one-level]
`

func tinyPlan(t *testing.T, shard *reports.Shard) *Plan {
	t.Helper()
	sw, err := sweeps.Parse("tiny.yaml", []byte(tinySweep), sweeps.Options{})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := NewPlan(sw, shard)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// runInto runs plan into dir with opt (world.Run by default) and returns
// the document.
func runInto(t *testing.T, plan *Plan, dir string, opt Options, resume bool) (*reports.SweepResults, error) {
	t.Helper()
	if opt.Simulate == nil {
		opt.Simulate = world.Run
	}
	if opt.Jobs == 0 {
		opt.Jobs = 2
	}
	out, err := Open(dir, plan, Build{Version: "test"}, resume)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	err = plan.Execute(context.Background(), opt, out.Done, out.Add)
	doc, werr := out.Write()
	if err != nil {
		return doc, err
	}
	return doc, werr
}

// The output is the same bytes whatever the number of jobs.
func TestSameBytesWhateverTheJobs(t *testing.T) {
	var want map[string][]byte
	for _, jobs := range []int{1, 4} {
		dir := t.TempDir()
		doc, err := runInto(t, tinyPlan(t, nil), dir, Options{Jobs: jobs}, false)
		if err != nil {
			t.Fatal(err)
		}
		if !doc.Complete || len(doc.Rows) != 16 || len(doc.Fits) == 0 {
			t.Fatalf("jobs %d: complete %v, %d rows, %d fits", jobs, doc.Complete, len(doc.Rows), len(doc.Fits))
		}
		got := dirtest.Files(t, dir)
		if _, ok := got[JournalFile]; ok {
			t.Errorf("jobs %d: the journal is left behind", jobs)
		}
		if want == nil {
			want = got
			continue
		}
		dirtest.Same(t, "jobs 4 against jobs 1", got, want)
	}
}

// stopAfter is a simulator that runs n tasks and then cancels the sweep,
// as a signal would.
func stopAfter(n int, cancel context.CancelFunc) Simulate {
	var mu sync.Mutex
	return func(ctx context.Context, rs *scenarios.Resolved, topo locks.Topology, opt world.Options) (reports.Run, error) {
		mu.Lock()
		n--
		last := n < 0
		mu.Unlock()
		if last {
			cancel()
			<-ctx.Done()
			return reports.Run{}, ctx.Err()
		}
		return world.Run(ctx, rs, topo, opt)
	}
}

// An interrupted sweep keeps its finished rows; resumed, it runs only
// those missing and ends with the same bytes as a run without a break,
// even when the journal's last line was cut short.
func TestResume(t *testing.T) {
	whole := t.TempDir()
	if _, err := runInto(t, tinyPlan(t, nil), whole, Options{}, false); err != nil {
		t.Fatal(err)
	}
	want := dirtest.Files(t, whole)

	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	plan := tinyPlan(t, nil)
	out, err := Open(dir, plan, Build{Version: "test"}, false)
	if err != nil {
		t.Fatal(err)
	}
	err = plan.Execute(ctx, Options{Simulate: stopAfter(5, cancel), Jobs: 1}, out.Done, out.Add)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted: %v", err)
	}
	doc, err := out.Write()
	out.Close()
	if err != nil || doc.Complete || len(doc.Rows) != 5 || len(doc.Fits) != 0 {
		t.Fatalf("after the interruption: %v; complete %v, %d rows, %d fits", err, doc.Complete, len(doc.Rows), len(doc.Fits))
	}
	// A row cut short at the end of the journal is dropped.
	j, err := os.OpenFile(filepath.Join(dir, JournalFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	j.WriteString(`{"point": 3, "params": [`)
	j.Close()
	if _, err := runInto(t, tinyPlan(t, nil), dir, Options{}, false); err == nil || !strings.Contains(err.Error(), "holds a sweep already: --resume finishes it") {
		t.Fatalf("without --resume: %v", err)
	}
	ran := 0
	count := func(ctx context.Context, rs *scenarios.Resolved, topo locks.Topology, opt world.Options) (reports.Run, error) {
		ran++
		return world.Run(ctx, rs, topo, opt)
	}
	if _, err := runInto(t, tinyPlan(t, nil), dir, Options{Simulate: count, Jobs: 1}, true); err != nil {
		t.Fatal(err)
	}
	if ran != 11 {
		t.Errorf("resumed, it ran %d tasks, want the 11 missing", ran)
	}
	dirtest.Same(t, "resumed against whole", dirtest.Files(t, dir), want)
	// A complete sweep resumed runs nothing and writes the same again.
	ran = 0
	if _, err := runInto(t, tinyPlan(t, nil), dir, Options{Simulate: count}, true); err != nil || ran != 0 {
		t.Fatalf("resuming a complete sweep: %v, ran %d", err, ran)
	}
	dirtest.Same(t, "resumed twice against whole", dirtest.Files(t, dir), want)
}

// Rows of another sweep, shard or build are not taken.
func TestResumeRefusesOtherRows(t *testing.T) {
	dir := t.TempDir()
	if _, err := runInto(t, tinyPlan(t, &reports.Shard{Index: 0, Count: 2}), dir, Options{}, false); err != nil {
		t.Fatal(err)
	}
	other, _ := sweeps.Parse("tiny.yaml", []byte(strings.Replace(tinySweep, "seed: 5", "seed: 6", 1)), sweeps.Options{})
	otherPlan, _ := NewPlan(other, &reports.Shard{Index: 0, Count: 2})
	for _, tc := range []struct {
		plan  *Plan
		build Build
		want  string
	}{
		{tinyPlan(t, nil), Build{Version: "test"}, "holds the rows of shard 0/2, not the whole sweep"},
		{tinyPlan(t, &reports.Shard{Index: 1, Count: 2}), Build{Version: "test"}, "holds the rows of shard 0/2, not shard 1/2"},
		{otherPlan, Build{Version: "test"}, "holds the rows of another sweep (tiny, or another size or version of it)"},
		{tinyPlan(t, &reports.Shard{Index: 0, Count: 2}), Build{Version: "v2"}, `holds rows made by stampsim test (commit ""), not by this one, v2`},
	} {
		_, err := Open(dir, tc.plan, tc.build, true)
		var ie *InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v, want an *InputError saying %q", err, tc.want)
		}
	}
}

// Three shards merged are the whole sweep, byte for byte; a shard
// missing or given twice is refused, saying so.
func TestMerge(t *testing.T) {
	whole := t.TempDir()
	if _, err := runInto(t, tinyPlan(t, nil), whole, Options{}, false); err != nil {
		t.Fatal(err)
	}
	var shards []string
	var nonEmpty string // a shard with rows
	for i := range 3 {
		dir := t.TempDir()
		doc, err := runInto(t, tinyPlan(t, &reports.Shard{Index: i, Count: 3}), dir, Options{}, false)
		if err != nil {
			t.Fatal(err)
		}
		if !doc.Complete || doc.Fits != nil {
			t.Errorf("shard %d: complete %v, %d fits", i, doc.Complete, len(doc.Fits))
		}
		if _, err := os.Stat(filepath.Join(dir, FitsFile)); err == nil {
			t.Errorf("shard %d wrote %s", i, FitsFile)
		}
		shards = append(shards, dir)
		if len(doc.Rows) > 0 {
			nonEmpty = dir
		}
	}
	merged := filepath.Join(t.TempDir(), "merged")
	if _, err := Merge(shards, merged); err != nil {
		t.Fatal(err)
	}
	dirtest.Same(t, "merged against whole", dirtest.Files(t, merged), dirtest.Files(t, whole))

	for _, tc := range []struct {
		dirs []string
		want string
	}{
		{without(shards, nonEmpty), "rows are missing: point"},
		{append(shards, shards[0]), "is in both"},
		{append(shards, whole), "is in both"},
		{[]string{shards[0], t.TempDir()}, "has no sweep.json: is it the --out of a sweep's shard?"},
		{[]string{shards[0], merged}, "is one of the directories merged"},
	} {
		out := merged
		if strings.Contains(tc.want, "missing") || strings.Contains(tc.want, "both") || strings.Contains(tc.want, "no sweep.json") {
			out = filepath.Join(t.TempDir(), "m")
		}
		_, err := Merge(tc.dirs, out)
		var ie *InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("merging %d directories: %v, want an *InputError saying %q", len(tc.dirs), err, tc.want)
		}
	}
}

func without(dirs []string, drop string) []string {
	var out []string
	for _, d := range dirs {
		if d != drop {
			out = append(out, d)
		}
	}
	return out
}

// Tasks whose estimated memory adds up to more than the bound do not run
// together, whatever the jobs.
func TestMemoryBound(t *testing.T) {
	plan := tinyPlan(t, nil)
	for i := range plan.Tasks {
		plan.Tasks[i].Cost.MemoryBytes = 60
	}
	var mu sync.Mutex
	inUse, most := 0, 0
	sim := func(ctx context.Context, rs *scenarios.Resolved, topo locks.Topology, opt world.Options) (reports.Run, error) {
		mu.Lock()
		inUse++
		most = max(most, inUse)
		mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		inUse--
		mu.Unlock()
		return reports.Run{Topology: topo.Name}, nil
	}
	for _, tc := range []struct {
		memory float64
		want   int
	}{{100, 1}, {130, 2}, {0, 4}} {
		most = 0
		err := plan.Execute(context.Background(), Options{Simulate: sim, Jobs: 4, Memory: tc.memory},
			func(reports.Key) bool { return false }, func(reports.Row) error { return nil })
		if err != nil || most != tc.want {
			t.Errorf("memory %v: %d tasks at once (%v), want %d", tc.memory, most, err, tc.want)
		}
	}
}

// A task that fails stops the sweep with an error naming it; progress
// goes from the done share to the whole.
func TestFailureAndProgress(t *testing.T) {
	plan := tinyPlan(t, nil)
	boom := errors.New("boom")
	sim := func(ctx context.Context, rs *scenarios.Resolved, topo locks.Topology, opt world.Options) (reports.Run, error) {
		if rs.Scenario.Workload.Bursts[0].Requests == 200 && topo.Name == "one-level" {
			return reports.Run{}, boom
		}
		return reports.Run{Topology: topo.Name}, nil
	}
	err := plan.Execute(context.Background(), Options{Simulate: sim, Jobs: 1}, func(reports.Key) bool { return false }, func(reports.Row) error { return nil })
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "point 3 of 4 (workload.bursts[0].requests=200, topology.nodes_per_zone=2), repeat 0, topology one-level: boom") {
		t.Errorf("failure: %v", err)
	}
	var last, total float64
	calls := 0
	err = plan.Execute(context.Background(), Options{Simulate: world.Run, Jobs: 2, Progress: func(d, all float64) { last, total = d, all; calls++ }},
		func(k reports.Key) bool { return k.Point == 0 }, func(reports.Row) error { return nil })
	if err != nil || calls < len(plan.Tasks)-4 || last != total || total <= 0 {
		t.Errorf("progress: %v; %d calls, last %v of %v", err, calls, last, total)
	}
}
