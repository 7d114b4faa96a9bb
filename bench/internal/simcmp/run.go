package simcmp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Tools are the programs the suite runs.
type Tools struct {
	// Stampsim is a stampsim binary built from this tree.
	Stampsim string
	// Python is an interpreter with SimPy 3 (FindPython), Script the path
	// of stampede.py.
	Python, Script string
	// Root is the stampsim module's directory, for BenchmarkBareHeapHold.
	Root string
	// Dir holds the scenario files written.
	Dir string
}

// process is what one run of a program cost.
type process struct {
	stdout   []byte
	wall     time.Duration
	maxRSSKB float64
	exit     int
}

// runProcess runs name with args, niced like every process of the bench
// so as to share the machine politely, and returns its output, wall time,
// peak resident memory (getrusage of the child, in KiB) and exit status.
func runProcess(ctx context.Context, dir, name string, args ...string) (process, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	t0 := time.Now()
	err := cmd.Run()
	p := process{stdout: out.Bytes(), wall: time.Since(t0)}
	if cmd.ProcessState != nil {
		p.exit = cmd.ProcessState.ExitCode()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			p.maxRSSKB = float64(ru.Maxrss)
		}
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return p, fmt.Errorf("running %s: %w", name, err)
	}
	if err != nil && p.exit != 3 { // validate's "the counts disagree" is a result
		return p, fmt.Errorf("%s %s: exit %d: %s", name, strings.Join(args, " "), p.exit, lastLines(errb.String(), 5))
	}
	return p, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// writeScenario writes m's scenario into t.Dir and returns its path.
func (t Tools) writeScenario(m Model) (string, error) {
	path := filepath.Join(t.Dir, fmt.Sprintf("model-n%d-r%d-w%d.yaml", m.Nodes, m.Requests, m.RegionWait.Milliseconds()))
	if err := os.WriteFile(path, []byte(m.Scenario()), 0o644); err != nil {
		return "", fmt.Errorf("writing the model's scenario: %w", err)
	}
	return path, nil
}

// RunStampsim runs the model in stampsim (stampsim run -o json) and returns
// its counts, its own wall time for the run (wall_seconds: building the
// world, running it, counting) and the process's wall time and peak memory.
func (t Tools) RunStampsim(ctx context.Context, m Model) (map[string]float64, error) {
	path, err := t.writeScenario(m)
	if err != nil {
		return nil, err
	}
	p, err := runProcess(ctx, t.Dir, "nice", "-n", "19", t.Stampsim, "run", path, "-o", "json", "-q")
	if err != nil {
		return nil, err
	}
	var doc struct {
		Runs []struct {
			Requests      float64 `json:"requests"`
			Unfinished    float64 `json:"unfinished"`
			UpstreamCalls float64 `json:"upstream_calls"`
			StoreOps      float64 `json:"store_ops"`
			StoreCommands float64 `json:"store_commands"`
			Events        float64 `json:"events"`
			WallSeconds   float64 `json:"wall_seconds"`
			Levels        []struct {
				PeakContenders float64 `json:"peak_contenders"`
			} `json:"levels"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(p.stdout, &doc); err != nil {
		return nil, fmt.Errorf("stampsim run %s: reading its results: %w", path, err)
	}
	if len(doc.Runs) != 1 || len(doc.Runs[0].Levels) != 2 {
		return nil, fmt.Errorf("stampsim run %s: want one run of two levels, got %d runs", path, len(doc.Runs))
	}
	r := doc.Runs[0]
	return map[string]float64{
		"requests": r.Requests, "unfinished": r.Unfinished, "upstream_calls": r.UpstreamCalls,
		"node_peak_contenders": r.Levels[0].PeakContenders, "region_peak_contenders": r.Levels[1].PeakContenders,
		"store_ops": r.StoreOps, "store_commands": r.StoreCommands, "events": r.Events,
		"run_seconds": r.WallSeconds, "process_seconds": p.wall.Seconds(), "maxrss_kb": p.maxRSSKB,
	}, nil
}

// RunSimPy runs the model in stampede.py and returns the same figures.
func (t Tools) RunSimPy(ctx context.Context, m Model) (map[string]float64, error) {
	p, err := runProcess(ctx, t.Dir, "nice", append([]string{"-n", "19", t.Python, t.Script}, m.SimPyArgs()...)...)
	if err != nil {
		return nil, err
	}
	var r map[string]any
	if err := json.Unmarshal(p.stdout, &r); err != nil {
		return nil, fmt.Errorf("%s: reading its output: %w", t.Script, err)
	}
	out := map[string]float64{"process_seconds": p.wall.Seconds(), "maxrss_kb": p.maxRSSKB}
	for _, k := range []string{"requests", "upstream_calls", "node_peak_contenders", "region_peak_contenders", "store_ops", "store_commands"} {
		v, ok := r[k].(float64)
		if !ok {
			return nil, fmt.Errorf("%s: its output has no number %q", t.Script, k)
		}
		out[k] = v
	}
	w, ok := r["wall_seconds"].(float64)
	if !ok {
		return nil, fmt.Errorf("%s: its output has no wall_seconds", t.Script)
	}
	out["run_seconds"] = w
	return out, nil
}

// RunValidate runs stampsim validate on the model against the redis-server at
// addr, asking it not to scale the model down, and returns how long it
// took, whether the two sides agreed, and the requests and nodes it ran
// (read from its output, so that a scaling down would show).
func (t Tools) RunValidate(ctx context.Context, m Model, addr string) (map[string]float64, error) {
	path, err := t.writeScenario(m)
	if err != nil {
		return nil, err
	}
	p, err := runProcess(ctx, t.Dir, "nice", "-n", "19", t.Stampsim, "validate", path, "--redis", addr, "-o", "json", "-q",
		"--max-nodes", fmt.Sprint(m.Nodes), "--max-requests", fmt.Sprint(m.Requests))
	if err != nil {
		return nil, err
	}
	var doc struct {
		Agree bool `json:"agree"`
		// The scenario as validate ran it, after any scaling down.
		Spec struct {
			Topology struct {
				Nodes float64 `json:"nodes_per_zone"`
			} `json:"topology"`
			Workload struct {
				Bursts []struct {
					Requests float64 `json:"requests"`
				} `json:"bursts"`
			} `json:"workload"`
		} `json:"scenario_spec"`
	}
	if err := json.Unmarshal(p.stdout, &doc); err != nil {
		return nil, fmt.Errorf("stampsim validate %s: reading its output: %w", path, err)
	}
	agree := 0.0
	if doc.Agree {
		agree = 1
	}
	ran := 0.0
	for _, b := range doc.Spec.Workload.Bursts {
		ran += b.Requests
	}
	return map[string]float64{"process_seconds": p.wall.Seconds(), "maxrss_kb": p.maxRSSKB, "agree": agree,
		"requests": ran, "nodes": doc.Spec.Topology.Nodes}, nil
}

// benchLine matches a line of go test -bench output with ns/op.
var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+([0-9.]+) ns/op`)

// RunHeapHold runs BenchmarkEngineHold and BenchmarkBareHeapHold once each
// (-count 1, -benchtime as given) in package sim, appends the raw output
// to raw (benchstat reads it), and returns ns per hold by benchmark name
// ("BenchmarkBareHeapHold/n=1000").
func (t Tools) RunHeapHold(ctx context.Context, benchtime string, raw *os.File) (map[string]float64, error) {
	p, err := runProcess(ctx, t.Root, "nice", "-n", "19", "go", "test", "-run", "^$",
		"-bench", "^(BenchmarkEngineHold|BenchmarkBareHeapHold)$", "-benchtime", benchtime, "-count", "1", "./sim/")
	if err != nil {
		return nil, err
	}
	if _, err := raw.Write(p.stdout); err != nil {
		return nil, fmt.Errorf("writing %s: %w", raw.Name(), err)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(p.stdout))
	for sc.Scan() {
		if g := benchLine.FindStringSubmatch(sc.Text()); g != nil {
			v, err := strconv.ParseFloat(g[3], 64)
			if err != nil {
				return nil, fmt.Errorf("go test -bench line %q: %w", sc.Text(), err)
			}
			out[g[1]+"_ns"] = v
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("go test -bench ./sim/ printed no benchmark line: %s", lastLines(string(p.stdout), 5))
	}
	return out, nil
}

// FindPython returns the first of candidates (then python3 and
// /usr/bin/python3, where Debian's python3-simpy3 installs) that imports
// SimPy 3 or later, and the version it has.
func FindPython(ctx context.Context, candidates ...string) (string, string, error) {
	candidates = append(candidates, "python3", "/usr/bin/python3")
	var tried []string
	for _, c := range candidates {
		if c == "" {
			continue
		}
		out, err := exec.CommandContext(ctx, c, "-c", "import simpy, sys; print(sys.version.split()[0], simpy.__version__)").Output()
		f := strings.Fields(string(out))
		if err != nil || len(f) != 2 {
			tried = append(tried, c+": no simpy")
			continue
		}
		if major, _ := strconv.Atoi(strings.SplitN(f[1], ".", 2)[0]); major < 3 {
			tried = append(tried, fmt.Sprintf("%s: SimPy %s is SimPy 2", c, f[1]))
			continue
		}
		return c, "Python " + f[0] + ", SimPy " + f[1], nil
	}
	return "", "", fmt.Errorf("no Python with SimPy 3 (%s); install Debian's python3-simpy3 (not python3-simpy, which is SimPy 2)", strings.Join(tried, "; "))
}
