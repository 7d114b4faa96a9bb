package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"syscall"
	"time"

	"github.com/stampsim/stampsim/bench/internal/peers"
	"github.com/stampsim/stampsim/bench/internal/rawlog"
	"github.com/stampsim/stampsim/real/redistest"
)

// runPeers measures every unit of the peers plan not yet in the raw file,
// against a redis-server it starts on a free loopback port.
func runPeers(args []string) error {
	fs := flag.NewFlagSet("peers", flag.ContinueOnError)
	smoke := fs.Bool("smoke", false, "one repeat at small sizes (what CI runs)")
	out := fs.String("out", "", "the raw file (default results/peers.jsonl, results/smoke/peers.jsonl with -smoke)")
	repeats := fs.Int("repeats", 0, "repeats of every unit (default 5, 1 with -smoke)")
	only := fs.String("only", "", "measure only the units whose key matches this regular expression (the rest stay to do)")
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return usageError{fmt.Errorf("peers: %w", err)}
	}
	keep, err := regexp.Compile(*only)
	if err != nil {
		return usageError{fmt.Errorf("peers: -only: %w", err)}
	}
	cfg := peers.Full()
	if *smoke {
		cfg = peers.Smoke()
	}
	if *repeats < 0 {
		return usageError{fmt.Errorf("peers: -repeats must be at least 1, got %d", *repeats)}
	}
	if *repeats > 0 {
		cfg.Repeats = *repeats
	}
	path := *out
	if path == "" {
		path = defaultRaw(*smoke, "peers.jsonl")
	}
	bin, err := redistest.Binary()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "stampsim-bench-redis-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	srv, err := redistest.Start(dir, 0)
	if err != nil {
		return err
	}
	defer srv.Kill()

	m := rawlog.ThisMachine(time.Now())
	m.Redis = rawlog.RedisVersion(bin)
	plan := rawlog.Plan{Suite: "peers", Smoke: cfg.Smoke, Repeats: cfg.Repeats, Units: cfg.AllUnits(), Params: cfg.Params()}
	f, err := rawlog.Open(path, plan, m)
	if err != nil {
		return usageError{err}
	}
	defer f.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	total, done := len(plan.Units), 0
	for r := range cfg.Repeats {
		for _, u := range cfg.Units(r) {
			done++
			if f.Done(u.Key, r) || !keep.MatchString(u.Key) {
				continue
			}
			if ctx.Err() != nil {
				return fmt.Errorf("interrupted; run again to go on from %s", u.Key)
			}
			t0 := time.Now()
			metrics, err := peers.Run(ctx, cfg, u, srv.Addr, r)
			if err != nil && ctx.Err() != nil {
				return fmt.Errorf("interrupted during %s#%d, which is not kept; run again to go on from it", u.Key, r)
			}
			if err != nil {
				return fmt.Errorf("repeat %d: %w", r, err)
			}
			if err := f.Add(rawlog.Result{Unit: u.Key, Repeat: r, Labels: u.Labels, Metrics: metrics}); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "[%d/%d] %s#%d %.1fs\n", done, total, u.Key, r, time.Since(t0).Seconds())
		}
	}
	return nil
}

// defaultRaw is where a suite keeps its raw file: results/ for the full
// run, results/smoke/ for the smoke run.
func defaultRaw(smoke bool, name string) string {
	if smoke {
		return filepath.Join("results", "smoke", name)
	}
	return filepath.Join("results", name)
}
