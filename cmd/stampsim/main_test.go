package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/reports"
	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/world"
)

// exec runs the command line through a, returning the exit status and what
// it wrote.
func exec(t *testing.T, a *app, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	a.stdout, a.stderr = &out, &errb
	code := a.main(ctx, args)
	return code, out.String(), errb.String()
}

// stubApp is an app whose simulator is fake: each topology's run is made
// up from its name, so that the command's own logic is tested without the
// world.
func stubApp(t *testing.T) (*app, *[]world.Options) {
	var opts []world.Options
	a := newApp(io.Discard, io.Discard)
	a.simulate = func(ctx context.Context, rs *scenarios.Resolved, topo locks.Topology, opt world.Options) (reports.Run, error) {
		if err := ctx.Err(); err != nil {
			return reports.Run{}, err
		}
		opts = append(opts, opt)
		if opt.Progress != nil {
			for i := range 5 {
				opt.Progress(rs.Scenario.Duration.D()*time.Duration(i)/4, rs.Scenario.Duration.D())
			}
		}
		r := reports.Run{Topology: topo.Name, Requests: 1000, UpstreamCalls: uint64(len(topo.Levels) + 1), SimSeconds: rs.Scenario.Duration.D().Seconds()}
		for _, l := range topo.Levels {
			r.Levels = append(r.Levels, reports.Level{Name: l.LevelName(), Scope: l.Scope.String(), PeakContenders: 7})
		}
		if opt.Series {
			r.Series = &reports.Series{StepMs: float64(rs.Scenario.Step()) / 1e6, Requests: []uint64{1000}, UpstreamCalls: []uint64{r.UpstreamCalls},
				StoreOps: []uint64{0}, Errors: []uint64{0}, LatencyP99Ms: []float64{1.5}}
		}
		return r, nil
	}
	a.terminal = func(io.Writer) bool { return false }
	return a, &opts
}

func TestScenariosList(t *testing.T) {
	code, out, errs := exec(t, newApp(nil, nil), context.Background(), "scenarios")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	names := scenarios.BuiltinNames()
	if len(lines) != len(names) {
		t.Fatalf("%d lines for %d built-ins:\n%s", len(lines), len(names), out)
	}
	for i, name := range names {
		sc, err := scenarios.Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(lines[i], name+" ") || !strings.Contains(lines[i], sc.Description) {
			t.Errorf("line %q: want %s and its description", lines[i], name)
		}
		if (name == scenarios.DefaultBuiltin) != strings.HasSuffix(lines[i], "(default)") {
			t.Errorf("line %q: only the default is marked (default)", lines[i])
		}
	}
}

// What `scenarios show` prints loads back as the same scenario: a user can
// copy it and edit it.
func TestScenariosShowLoads(t *testing.T) {
	for _, name := range scenarios.BuiltinNames() {
		t.Run(name, func(t *testing.T) {
			code, out, errs := exec(t, newApp(nil, nil), context.Background(), "scenarios", "show", name)
			if code != 0 || errs != "" {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			path := filepath.Join(t.TempDir(), name+".yaml")
			if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			shown, err := scenarios.Load(path)
			if err != nil {
				t.Fatalf("shown YAML does not load: %v\n%s", err, out)
			}
			want, _ := scenarios.Builtin(name)
			if !reflect.DeepEqual(shown, want) {
				t.Errorf("shown scenario differs from the built-in:\n%s", out)
			}
			if !strings.HasPrefix(out, "# ") || !strings.Contains(out, "service_time: 2us") {
				t.Errorf("want the explaining comment and every default, got:\n%s", out)
			}

			code, out, _ = exec(t, newApp(nil, nil), context.Background(), "scenarios", "show", "--source", name)
			src, _ := scenarios.BuiltinSource(name)
			if code != 0 || out != string(src) {
				t.Errorf("--source: exit %d, output differs from the file", code)
			}
		})
	}
}

func TestShowFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mine.yaml")
	os.WriteFile(path, []byte("duration: 2s\ntopology: {regions: 1, zones_per_region: 1, nodes_per_zone: 2}\nupstream: {latency: {dist: fixed, value: 5ms}}\nworkload: {keys: 1, rate: 10}\n"), 0o644)
	code, out, errs := exec(t, newApp(nil, nil), context.Background(), "scenarios", "show", path)
	if code != 0 || !strings.Contains(out, "name: mine") || !strings.Contains(out, "lease_ttl: 5s") {
		t.Errorf("exit %d, stderr %q, output:\n%s", code, errs, out)
	}
}

var lineRef = regexp.MustCompile(`^stampsim: (.+\.yaml)(:\d+)?: `)

// Every bad scenario of package scenarios' tests is refused with status 2
// and one line naming the file, the line and the field; nothing runs.
func TestBadScenarioFiles(t *testing.T) {
	files, err := filepath.Glob("../../scenarios/testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad scenarios: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			a, opts := stubApp(t)
			code, out, errs := exec(t, a, context.Background(), "run", path)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if out != "" || len(*opts) != 0 {
				t.Errorf("something ran: stdout %q", out)
			}
			if strings.Count(errs, "\n") != 1 || strings.Contains(errs, "goroutine") {
				t.Errorf("want one line, got %q", errs)
			}
			m := lineRef.FindStringSubmatch(errs)
			if m == nil || m[1] != path {
				t.Errorf("stderr %q does not start with the file name", errs)
			}
			want := strings.TrimPrefix(firstLine(t, path), "# want: ")
			if !strings.Contains(errs, want) {
				t.Errorf("stderr %q lacks %q", errs, want)
			}
			if strings.Contains(path, "empty") {
				return
			}
			if m != nil && m[2] == "" {
				t.Errorf("stderr %q names no line", errs)
			}
		})
	}
}

func firstLine(t *testing.T, path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	return line
}

func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "flash-crowd", "extra"}, "want at most 1 argument"},
		{[]string{"run", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"run", "-o", "yaml"}, "-o yaml: want table, csv, json"},
		{[]string{"run", "--seed", "-1"}, `invalid argument "-1"`},
		{[]string{"run", "--topology", "mesh"}, `--topology mesh: unknown topology "mesh"`},
		{[]string{"run", "flash-crwod"}, `"flash-crwod" is neither a scenario file nor a built-in scenario`},
		{[]string{"run", "nowhere/missing.yaml"}, "no scenario file nowhere/missing.yaml"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"scenarios", "show"}, "want one argument"},
		{[]string{"scenarios", "show", "nope"}, `"nope" is neither a scenario file nor a built-in scenario`},
		{[]string{"scenarios", "extra"}, "did you mean 'scenarios show NAME'?"},
		{[]string{"version", "now"}, "want at most 0 argument"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			a, opts := stubApp(t)
			code, _, errs := exec(t, a, context.Background(), c.args...)
			if code != 2 || !strings.Contains(errs, c.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errs, c.want)
			}
			if len(*opts) != 0 {
				t.Error("a simulation ran")
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{&scenarios.Error{File: "a.yaml", Line: 3, Field: "seed", Msg: "bad"}, 2},
		{fmt.Errorf("loading: %w", &scenarios.Error{File: "a.yaml"}), 2},
		{&scenarios.NotFoundError{Name: "x"}, 2},
		{usagef("bad flag"), 2},
		{context.Canceled, 1},
		{errors.New("disk full"), 1},
	} {
		if got := exitCode(c.err); got != c.want {
			t.Errorf("exitCode(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

func TestPanicIsOneLine(t *testing.T) {
	a, _ := stubApp(t)
	a.simulate = func(context.Context, *scenarios.Resolved, locks.Topology, world.Options) (reports.Run, error) {
		panic("index out of range [7] with length 3")
	}
	t.Setenv("STAMPSIM_TRACEBACK", "")
	code, _, errs := exec(t, a, context.Background(), "run")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "stampsim: internal error: index out of range") {
		t.Errorf("stderr %q, want one line", errs)
	}
}

func TestSimulationErrorIsStatus1(t *testing.T) {
	a, _ := stubApp(t)
	a.simulate = func(context.Context, *scenarios.Resolved, locks.Topology, world.Options) (reports.Run, error) {
		return reports.Run{}, errors.New("store exploded")
	}
	code, _, errs := exec(t, a, context.Background(), "run", "--topology", "two-level")
	if code != 1 || errs != "stampsim: running flash-crowd on topology two-level: store exploded\n" {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

func TestRunFlags(t *testing.T) {
	a, opts := stubApp(t)
	dir := filepath.Join(t.TempDir(), "out")
	code, out, errs := exec(t, a, context.Background(), "run", "holder-pause", "--seed", "42",
		"--topology", "two-level,short-lease-no-renew", "-t", "two-level", "--out", dir, "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	res, err := reports.ReadJSON(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if res.Seed != 42 || res.Spec.Seed != 42 || res.Scenario != "holder-pause" {
		t.Errorf("seed/scenario: %d %d %q", res.Seed, res.Spec.Seed, res.Scenario)
	}
	if got := res.Spec.Topologies; !reflect.DeepEqual(got, []string{"two-level", "short-lease-no-renew"}) {
		t.Errorf("spec topologies %v: want the ones run, in order, once", got)
	}
	if len(res.Runs) != 2 || res.Runs[1].Topology != "short-lease-no-renew" {
		t.Errorf("runs: %+v", res.Runs)
	}
	if res.GoVersion != runtime.Version() || res.Version == "" || res.Schema != reports.Schema {
		t.Errorf("provenance: %q %q %q", res.GoVersion, res.Version, res.Schema)
	}
	for _, o := range *opts {
		if !o.Series {
			t.Error("--out did not ask for the time series")
		}
	}
	file, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil || string(file) != out {
		t.Errorf("results.json differs from the printed document (%v)", err)
	}
	csv, err := os.ReadFile(filepath.Join(dir, "series.csv"))
	if err != nil || !strings.HasPrefix(string(csv), "topology,time_ms,metric,value\n") || !strings.Contains(string(csv), "short-lease-no-renew,0,requests,1000") {
		t.Errorf("series.csv: %v\n%s", err, csv)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	// Without --out there is no series, and the table is the default.
	a, opts = stubApp(t)
	code, out, _ = exec(t, a, context.Background(), "run", "-t", "fanout-tree")
	if code != 0 || (*opts)[0].Series || !strings.HasPrefix(out, "flash-crowd, seed 1: ") || !strings.Contains(out, "\n\nTOPOLOGY ") || !strings.Contains(out, "node:7 zone:7 region:7 global:7") {
		t.Errorf("exit %d, series %v, table:\n%s", code, (*opts)[0].Series, out)
	}
}

func TestProgressBar(t *testing.T) {
	clock := time.Unix(0, 0)
	wallNow = func() time.Time { clock = clock.Add(700 * time.Millisecond); return clock }
	defer func() { wallNow = time.Now }()

	for _, c := range []struct {
		terminal, quiet, want bool
	}{{true, false, true}, {true, true, false}, {false, false, false}} {
		a, _ := stubApp(t)
		a.terminal = func(io.Writer) bool { return c.terminal }
		args := []string{"run", "-t", "two-level"}
		if c.quiet {
			args = append(args, "--quiet")
		}
		code, _, errs := exec(t, a, context.Background(), args...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		if got := strings.Contains(errs, "two-level [1/1]"); got != c.want {
			t.Errorf("terminal %v quiet %v: bar shown %v, want %v (stderr %q)", c.terminal, c.quiet, got, c.want, errs)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, _ := exec(t, newApp(nil, nil), context.Background(), args...)
		if code != 0 || !strings.HasPrefix(out, "stampsim ") || !strings.Contains(out, runtime.Version()) {
			t.Errorf("%v: exit %d, %q", args, code, out)
		}
	}
}

func TestCompletion(t *testing.T) {
	code, out, errs := exec(t, newApp(nil, nil), context.Background(), "completion", "bash")
	if code != 0 || !strings.Contains(out, "bash completion") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	code, out, _ = exec(t, newApp(nil, nil), context.Background(), "__complete", "run", "")
	if code != 0 || !strings.Contains(out, "flash-crowd") {
		t.Errorf("completing run: exit %d:\n%s", code, out)
	}
}

var wallSeconds = regexp.MustCompile(`"wall_seconds": [0-9.e+-]+`)

// The same scenario and seed give byte-identical results apart from the
// wall-clock time, through the real entry point and the real simulator.
func TestRunDeterministic(t *testing.T) {
	args := []string{"run", "flash-crowd", "-o", "json"}
	if raceEnabled {
		args = append(args, "-t", "node-only,two-level,fanout-tree")
	}
	var outs [2]string
	for i := range outs {
		var out, errs bytes.Buffer
		if code := run(args, &out, &errs); code != 0 {
			t.Fatalf("exit %d: %s", code, errs.String())
		}
		outs[i] = wallSeconds.ReplaceAllString(out.String(), `"wall_seconds": 0`)
	}
	if outs[0] != outs[1] {
		t.Errorf("two runs differ:\n%s\n---\n%s", outs[0], outs[1])
	}
	res, err := reports.ReadJSON(strings.NewReader(outs[0]))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Runs {
		if r.Requests != 100000 {
			t.Errorf("%s: %d requests, want the burst's 100000", r.Topology, r.Requests)
		}
	}
}

func TestRunOutReal(t *testing.T) {
	dir := t.TempDir()
	var out, errs bytes.Buffer
	if code := run([]string{"run", "-t", "two-level", "--out", dir, "-q"}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	csv, err := os.ReadFile(filepath.Join(dir, "series.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// flash-crowd's 5s get 5ms samples: its burst starts at 1000ms.
	for _, want := range []string{"two-level,1000,requests,", "two-level,1005,peak_contenders_region,", "two-level,1005,store_utilisation_region,"} {
		if !strings.Contains(string(csv), want) {
			t.Errorf("series.csv lacks %q", want)
		}
	}
	if !strings.HasPrefix(out.String(), "flash-crowd, seed 1: ") || !strings.Contains(out.String(), "\n\nTOPOLOGY ") || errs.Len() != 0 {
		t.Errorf("stdout:\n%s\nstderr: %s", out.String(), errs.String())
	}
}

func TestCPUProfile(t *testing.T) {
	a, _ := stubApp(t)
	path := filepath.Join(t.TempDir(), "cpu.prof")
	code, _, errs := exec(t, a, context.Background(), "run", "-t", "none", "--cpuprofile", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		t.Errorf("profile: %v", err)
	}
}

// A results document replays: run on it runs the scenario it holds, with
// its seed and topologies, and the real simulator gives the same numbers.
func TestReplayResults(t *testing.T) {
	dir := t.TempDir()
	var out, errs bytes.Buffer
	if code := run([]string{"run", "holder-pause", "--seed", "7", "-t", "two-level,short-lease-no-renew", "--out", dir, "-o", "json"}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	first := wallSeconds.ReplaceAllString(out.String(), `"wall_seconds": 0`)
	out.Reset()
	if code := run([]string{"run", filepath.Join(dir, "results.json"), "-o", "json"}, &out, &errs); code != 0 {
		t.Fatalf("replay: exit %d: %s", code, errs.String())
	}
	again := wallSeconds.ReplaceAllString(out.String(), `"wall_seconds": 0`)
	// The replay ran without --out, so it has no time series and no
	// latency histogram.
	var docs [2]*reports.Results
	for i, doc := range []string{first, again} {
		res, err := reports.ReadJSON(strings.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		for j := range res.Runs {
			res.Runs[j].Series, res.Runs[j].LatencyHistogramMs = nil, nil
		}
		docs[i] = res
	}
	a, b := docs[0], docs[1]
	if !reflect.DeepEqual(a, b) {
		t.Errorf("replay differs:\n%s\n---\n%s", first, again)
	}
	if b.Seed != 7 || len(b.Runs) != 2 {
		t.Errorf("replay ran seed %d, %d topologies", b.Seed, len(b.Runs))
	}

	for args, want := range map[string]string{
		"nowhere.json": "no results file nowhere.json",
		filepath.Join("..", "..", "reports", "testdata", "results.golden.json"): "", // a valid document replays
	} {
		a, _ := stubApp(t)
		code, _, errs := exec(t, a, context.Background(), "run", args)
		if want == "" {
			if code != 0 {
				t.Errorf("run %s: exit %d: %s", args, code, errs)
			}
			continue
		}
		if code != 2 || !strings.Contains(errs, want) {
			t.Errorf("run %s: exit %d, stderr %q", args, code, errs)
		}
	}
}
