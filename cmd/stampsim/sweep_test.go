package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stampsim/stampsim/internal/dirtest"
	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/sweeps"
	"github.com/stampsim/stampsim/world"
)

// smallSweep is the arguments of a quick sweep: the built-in requests
// sweep at its small size on two of its topologies.
// The figures are left out (TestSweepFigures draws them): rasterising
// takes seconds a figure under the race detector.
var smallSweep = []string{"sweep", "requests", "--size", "small", "-t", "two-level,none", "-q", "--no-plots"}

func TestSweepsList(t *testing.T) {
	code, out, errs := exec(t, newApp(nil, nil), context.Background(), "sweeps")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	for _, name := range sweeps.BuiltinNames() {
		if !strings.Contains(out, "\n"+name+" ") && !strings.HasPrefix(out, name+" ") {
			t.Errorf("%s is not listed:\n%s", name, out)
		}
	}
	code, out, _ = exec(t, newApp(nil, nil), context.Background(), "sweeps", "show", "requests")
	want, _ := sweeps.BuiltinSource("requests")
	if code != 0 || out != string(want) {
		t.Errorf("sweeps show requests: exit %d, printed\n%s", code, out)
	}
}

// A sweep writes its three files, the same bytes whatever -j, and prints
// where they are with the headline exponents.
func TestSweepRun(t *testing.T) {
	var want map[string][]byte
	for _, jobs := range []string{"1", "3"} {
		dir := t.TempDir()
		code, out, errs := exec(t, newApp(nil, nil), context.Background(), append(smallSweep, "-j", jobs, "--out", dir)...)
		if code != 0 || errs != "" {
			t.Fatalf("-j %s: exit %d, stderr %q", jobs, code, errs)
		}
		if !strings.HasPrefix(out, "sweep requests (small size, the whole sweep): 6 runs in "+dir+": sweep.json, rows.csv, fits.csv; index.html\n") ||
			!strings.Contains(out, "Fitted exponents against workload.bursts[0].requests") || !strings.Contains(out, "\ntwo-level ") {
			t.Errorf("-j %s printed:\n%s", jobs, out)
		}
		got := dirtest.Files(t, dir)
		if want == nil {
			want = got
			if len(got) != 4 {
				t.Fatalf("files %d, want sweep.json, rows.csv, fits.csv, index.html", len(got))
			}
			continue
		}
		dirtest.Same(t, "-j 3 against -j 1", got, want)
	}
}

// An interrupted sweep keeps its finished rows, says so and exits 130;
// --resume runs the rest and ends with the bytes of a sweep without a
// break.
func TestSweepResume(t *testing.T) {
	whole := t.TempDir()
	if code, _, errs := exec(t, newApp(nil, nil), context.Background(), append(smallSweep, "--out", whole)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancelCause(context.Background())
	a := newApp(nil, nil)
	var mu sync.Mutex
	runs := 0
	a.simulate = func(c context.Context, rs *scenarios.Resolved, topo locks.Topology, opt world.Options) (reports.Run, error) {
		mu.Lock()
		runs++
		n := runs
		mu.Unlock()
		if n == 3 {
			cancel(&signalError{syscall.SIGINT})
			return reports.Run{Interrupted: true}, context.Cause(ctx)
		}
		return world.Run(c, rs, topo, opt)
	}
	code, _, errs := exec(t, a, ctx, append(smallSweep, "-j", "1", "--out", dir)...)
	want := "stampsim: interrupted by SIGINT in a sweep: the rows are incomplete: 2 of 6 runs finished, kept in " + dir + " with \"complete\": false; --resume runs the rest\n"
	if code != 130 || errs != want {
		t.Fatalf("exit %d, stderr %q; want 130, %q", code, errs, want)
	}
	f, err := os.Open(filepath.Join(dir, "sweep.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := reports.ReadSweepJSON(f)
	f.Close()
	if err != nil || doc.Complete || len(doc.Rows) != 2 {
		t.Fatalf("after the interruption: %v, %+v", err, doc)
	}
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if want := "Incomplete: the sweep was stopped with 2 runs finished; no power law is fitted until every run has. stampsim sweep requests --size small -t two-level,none --out " + dir + " --resume runs the rest."; err != nil || !strings.Contains(string(page), want) {
		t.Errorf("the interrupted sweep's page (%v) does not say %q", err, want)
	}
	code, _, errs = exec(t, newApp(nil, nil), context.Background(), append(smallSweep, "--out", dir)...)
	if code != 2 || !strings.Contains(errs, "holds a sweep already: --resume finishes it") {
		t.Errorf("again without --resume: exit %d, %s", code, errs)
	}
	if code, _, errs := exec(t, newApp(nil, nil), context.Background(), append(smallSweep, "--out", dir, "--resume")...); code != 0 {
		t.Fatalf("--resume: exit %d: %s", code, errs)
	}
	dirtest.Same(t, "resumed against whole", dirtest.Files(t, dir), dirtest.Files(t, whole))
}

// Three shards, each a process of its own (one told its index by a
// Kubernetes Indexed Job's variable), merged, are the sweep run whole,
// byte for byte.
func TestSweepShardsMerged(t *testing.T) {
	whole := t.TempDir()
	if code, _, errs := exec(t, newApp(nil, nil), context.Background(), append(smallSweep, "--out", whole)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	base := t.TempDir()
	var dirs []string
	var children []*child
	for i := range 3 {
		dir := filepath.Join(base, fmt.Sprintf("shard-%d", i))
		dirs = append(dirs, dir)
		args := append(append([]string(nil), smallSweep...), "-j", "1", "--out", dir)
		var env []string
		if i == 2 {
			env = []string{"JOB_COMPLETION_INDEX=2"} // the index from the environment
			args = append(args, "--shards", "3")
		} else {
			args = append(args, "--shard", fmt.Sprintf("%d/3", i))
		}
		c := startChildEnv(t, nil, env, args...)
		children = append(children, c)
	}
	for i, c := range children {
		<-c.done
		if code := c.cmd.ProcessState.ExitCode(); code != 0 {
			t.Fatalf("shard %d: exit %d: %s", i, code, c.stderr.String())
		}
	}
	merged := filepath.Join(base, "merged")
	code, out, errs := exec(t, newApp(nil, nil), context.Background(), append([]string{"sweep", "merge", "--no-plots", "--out", merged}, dirs...)...)
	if code != 0 || !strings.HasPrefix(out, "sweep requests (small size, the whole sweep): 6 runs in "+merged) {
		t.Fatalf("merge: exit %d, stderr %s, printed:\n%s", code, errs, out)
	}
	dirtest.Same(t, "three shards merged against whole", dirtest.Files(t, merged), dirtest.Files(t, whole))
	code, _, errs = exec(t, newApp(nil, nil), context.Background(), "sweep", "merge", "--out", filepath.Join(base, "m2"), dirs[0], dirs[1])
	if code != 2 || !strings.Contains(errs, "rows are missing") {
		t.Errorf("merging two of three shards: exit %d, %s", code, errs)
	}
}

func TestSweepBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("base: {builtin: flash-crowd}\naxes:\n  - {path: topology.regoins, values: [1, 2]}\n"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sweep", "no-such", "--out", dir}, `stampsim: "no-such" is neither a sweep file nor a built-in sweep (`},
		{[]string{"sweep", "requets", "--out", dir}, `stampsim: "requets" is neither a sweep file nor a built-in sweep`},
		{[]string{"sweep", bad, "--out", dir}, "stampsim: " + bad + ":3: axes[0].path: topology.regoins names no field: topology has no \"regoins\" (did you mean topology.regions?)\n"},
		{[]string{"sweep", filepath.Join(dir, "absent.yaml"), "--out", dir}, "stampsim: no sweep file " + filepath.Join(dir, "absent.yaml") + "\n"},
		{[]string{"sweep", "requests"}, "stampsim: --out DIR is required"},
		{[]string{"sweep", "requests", "--out", dir, "--size", "huge"}, "stampsim: --size huge: want default or small\n"},
		{[]string{"sweep", "requests", "--out", dir, "--shard", "3/3"}, "stampsim: --shard 3/3: want 0 <= i < n\n"},
		{[]string{"sweep", "requests", "--out", dir, "--shard", "1-3"}, "stampsim: --shard 1-3: want i/n"},
		{[]string{"sweep", "requests", "--out", dir, "-j", "0"}, "stampsim: -j 0: want at least 1 run at once\n"},
		{[]string{"sweep", "requests", "--out", dir, "-t", "two-levle"}, `stampsim: --topology: unknown topology "two-levle" (did you mean "two-level"?)`},
		{[]string{"sweep", "requests", "--out", dir, "--max-requests", "1000"}, "stampsim: builtin/requests.yaml:"},
		{[]string{"sweep", "merge", dir}, "stampsim: --out DIR is required"},
		{[]string{"sweep", "merge", dir, "--out", filepath.Join(dir, "m")}, "has no sweep.json: is it the --out of a sweep's shard?"},
		{[]string{"sweeps", "show", "nope"}, `stampsim: "nope" is neither a sweep file nor a built-in sweep`},
	} {
		code, _, errs := exec(t, newApp(nil, nil), context.Background(), tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2, %q", tc.args, code, errs, tc.want)
		}
	}
	// The limits name the point and the axis that exceed them.
	_, _, errs := exec(t, newApp(nil, nil), context.Background(), "sweep", "requests", "--out", dir, "--max-requests", "1000")
	if want := "stampsim: builtin/requests.yaml:15: axes[0]: point 4 of 11 (workload.bursts[0].requests=3160): workload.bursts[0].requests: 3160 requests; at most 1000 per run (--max-requests raises it)\n"; !strings.HasPrefix(errs, want) {
		t.Errorf("limits: %s\nwant it to begin %s", errs, want)
	}
}

func TestShardFlags(t *testing.T) {
	for _, tc := range []struct {
		shard  string
		shards int
		env    map[string]string
		want   *reports.Shard
		err    string
	}{
		{"", 0, nil, nil, ""},
		{"0/1", 0, nil, &reports.Shard{Index: 0, Count: 1}, ""},
		{"2/3", 0, nil, &reports.Shard{Index: 2, Count: 3}, ""},
		{"", 3, map[string]string{"JOB_COMPLETION_INDEX": "1"}, &reports.Shard{Index: 1, Count: 3}, ""},
		{"", 3, map[string]string{"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1"}, &reports.Shard{Index: 2, Count: 3}, ""},
		{"", 3, map[string]string{"SLURM_ARRAY_TASK_ID": "0"}, &reports.Shard{Index: 0, Count: 3}, ""},
		{"", 3, map[string]string{"SLURM_ARRAY_TASK_ID": "3"}, nil, "SLURM_ARRAY_TASK_ID=3 gives shard 3, want 0 to 2 (a job array of indices 0 to 2)"},
		{"", 3, map[string]string{"JOB_COMPLETION_INDEX": "x"}, nil, `JOB_COMPLETION_INDEX="x" is not a number`},
		{"", 3, nil, nil, "neither is set; or give --shard i/n"},
		{"0/3", 3, nil, nil, "give one"},
		{"-1/3", 0, nil, nil, "want 0 <= i < n"},
		{"1/0", 0, nil, nil, "want 0 <= i < n"},
		{"01/3", 0, nil, nil, "want i/n"},
	} {
		got, err := shardFlags(tc.shard, tc.shards, func(k string) string { return tc.env[k] })
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("--shard %q --shards %d %v: %v, want an error saying %q", tc.shard, tc.shards, tc.env, err, tc.err)
		case tc.err == "" && (err != nil || (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want):
			t.Errorf("--shard %q --shards %d %v: %+v, %v; want %+v", tc.shard, tc.shards, tc.env, got, err, tc.want)
		}
	}
}
