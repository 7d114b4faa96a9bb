package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/stampsim/stampsim/bench/internal/rawlog"
	"github.com/stampsim/stampsim/bench/internal/simcmp"
	"github.com/stampsim/stampsim/real/redistest"
)

// runSim measures every unit of the simulator plan not yet in the raw
// file: stampsim and SimPy on each model size, stampsim validate's real
// runs, and the hold benchmarks.
func runSim(args []string) error {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	smoke := fs.Bool("smoke", false, "one repeat at small sizes (what CI runs)")
	out := fs.String("out", "", "the raw file (default results/sim.jsonl, results/smoke/sim.jsonl with -smoke)")
	root := fs.String("root", "..", "the stampsim module's directory")
	script := fs.String("script", filepath.Join("simpy", "stampede.py"), "the SimPy model")
	python := fs.String("python", os.Getenv("PYTHON"), "a Python with SimPy 3 (default: the first of python3 and /usr/bin/python3 that has it)")
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return usageError{fmt.Errorf("sim: %w", err)}
	}
	cfg := simcmp.Full()
	if *smoke {
		cfg = simcmp.Smoke()
	}
	path := *out
	if path == "" {
		path = defaultRaw(*smoke, "sim.jsonl")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	scriptPath, err := filepath.Abs(*script)
	if err != nil {
		return err
	}
	if _, err := os.Stat(scriptPath); err != nil {
		return usageError{fmt.Errorf("sim: -script: %w", err)}
	}
	py, pyVersion, err := simcmp.FindPython(ctx, *python)
	if err != nil {
		return err
	}
	rootPath, err := filepath.Abs(*root)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "stampsim-bench-sim-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "stampsim")
	build := exec.CommandContext(ctx, "nice", "-n", "19", "go", "build", "-o", bin, "./cmd/stampsim")
	build.Dir, build.Stdout, build.Stderr = rootPath, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building stampsim in %s: %w", rootPath, err)
	}
	redisBin, err := redistest.Binary()
	if err != nil {
		return err
	}
	srv, err := redistest.Start(dir, 0)
	if err != nil {
		return err
	}
	defer srv.Kill()

	m := rawlog.ThisMachine(time.Now())
	m.Redis, m.Python = rawlog.RedisVersion(redisBin), pyVersion
	plan := rawlog.Plan{Suite: "sim", Smoke: cfg.Smoke, Repeats: cfg.Repeats, Units: cfg.AllUnits(), Params: cfg.Params()}
	f, err := rawlog.Open(path, plan, m)
	if err != nil {
		return usageError{err}
	}
	defer f.Close()
	heapRaw, err := os.OpenFile(filepath.Join(filepath.Dir(path), "heap-hold.txt"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer heapRaw.Close()

	tools := simcmp.Tools{Stampsim: bin, Python: py, Script: scriptPath, Root: rootPath, Dir: dir}
	total, done := len(plan.Units), 0
	for r := range cfg.Repeats {
		for _, u := range cfg.Units(r) {
			done++
			if f.Done(u.Key, r) {
				continue
			}
			if ctx.Err() != nil {
				return fmt.Errorf("interrupted; run again to go on from %s", u.Key)
			}
			t0 := time.Now()
			var metrics map[string]float64
			switch u.Tool {
			case "stampsim":
				metrics, err = tools.RunStampsim(ctx, u.Model)
			case "simpy":
				metrics, err = tools.RunSimPy(ctx, u.Model)
			case "validate":
				if err = srvFlush(srv.Addr); err == nil {
					metrics, err = tools.RunValidate(ctx, u.Model, srv.Addr)
				}
			case "heap":
				metrics, err = tools.RunHeapHold(ctx, cfg.HeapBenchtime, heapRaw)
			default:
				err = fmt.Errorf("unknown tool %q", u.Tool)
			}
			if err != nil && ctx.Err() != nil {
				return fmt.Errorf("interrupted during %s#%d, which is not kept; run again to go on from it", u.Key, r)
			}
			if err != nil {
				return fmt.Errorf("%s, repeat %d: %w", u.Key, r, err)
			}
			if err := f.Add(rawlog.Result{Unit: u.Key, Repeat: r, Labels: u.Labels, Metrics: metrics}); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "[%d/%d] %s#%d %.1fs\n", done, total, u.Key, r, time.Since(t0).Seconds())
		}
	}
	return nil
}

// srvFlush empties the server before a validate run, which deletes its own
// keys anyway: what another run left must not change it.
func srvFlush(addr string) error {
	_, err := redistest.Do(addr, "FLUSHALL")
	return err
}
