package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/spf13/cobra"

	"github.com/stampsim/stampsim/validate"
)

// errDisagree is the outcome of a validation whose two sides differ: exit
// status 3.
var errDisagree = errors.New("simulation and real runs differ")

type validateFlags struct {
	output      string
	redis       string
	cluster     string
	topologies  []string
	maxNodes    int
	maxRequests int
	seed        uint64
	quiet       bool
	verbose     bool
	skipNode    bool
	// ignoreFaults: the real side injects no fault (a test hook).
	ignoreFaults bool
	storeLoad    float64
}

func (a *app) validateCommand() *cobra.Command {
	var f validateFlags
	cmd := &cobra.Command{
		Use:   "validate [SCENARIO]",
		Short: "Run a scenario in the simulator and for real against Redis, and compare",
		Long: `validate scales a scenario down to what goroutines and wall-clock time carry,
measures the store's round trip and gives the simulator that latency, then runs
each topology twice: in the simulator, and for real, with one production driver
(package real) per simulated node, replaying the simulated run's arrivals.
After each real run it simulates the topology again at the real run's timing
(the requests at the times they were sent, store delays like the measured
ones) and judges the real counts against what those retimed runs count.
The scenario's faults run on both sides, at the same moments of the traffic
(through a proxy per node and store on the real side). It prints both
sides' counts and exits 0 when they agree, 3 when upstream calls fall
outside the retimed range where the protocol fixes them (a locking
topology, wait timeouts longer than the upstream, slowed by any
upstream-slowdown, no value expiring while its key is asked for), when
writes refused do under a node-pause or a partition, or when store round
trips are more than 10% from it. It deletes every key it created before it
exits.

The store is an embedded miniredis unless --redis or --redis-cluster names one.`,
		Args:              maxArgs(1, "a scenario file or built-in name"),
		ValidArgsFunction: completeScenario,
		RunE: func(cmd *cobra.Command, args []string) error {
			arg := ""
			if len(args) > 0 {
				arg = args[0]
			}
			return a.validate(cmd, arg, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.output, "output", "o", "table", "table or json")
	fl.StringVar(&f.redis, "redis", "", "run against this Redis server (host:port, or a URL redis://host:port/db)")
	fl.StringVar(&f.cluster, "redis-cluster", "", "run against this Redis Cluster (comma-separated addresses)")
	fl.StringSliceVarP(&f.topologies, "topology", "t", nil, "run only this topology (repeatable, or comma-separated)")
	fl.IntVar(&f.maxNodes, "max-nodes", 20, "scale the fleet down to at most this many nodes")
	fl.IntVar(&f.maxRequests, "max-requests", 10000, "scale the traffic down to at most this many requests")
	fl.Float64Var(&f.storeLoad, "store-load", validate.DefaultStoreLoad, "scale traffic so that one store operation per request at its peak keeps the real store at most this busy (above 0, at most 1)")
	fl.Uint64Var(&f.seed, "seed", 0, "override the scenario's seed")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "do not report progress on stderr")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "also show the Redis client's own log lines on stderr")
	fl.BoolVar(&f.skipNode, "break-real-node-level", false, "fault injection: the real drivers skip the node level (validate must then disagree)")
	_ = fl.MarkHidden("break-real-node-level")
	fl.BoolVar(&f.ignoreFaults, "break-real-faults", false, "fault injection: the real side injects none of the scenario's faults (validate must then disagree)")
	_ = fl.MarkHidden("break-real-faults")
	return cmd
}

func (a *app) validate(cmd *cobra.Command, arg string, f validateFlags) (err error) {
	if f.output != "table" && f.output != "json" {
		return usagef("-o %s: want table or json", f.output)
	}
	if f.maxNodes < 1 || f.maxRequests < 1 {
		return usagef("--max-nodes and --max-requests must be positive, got %d and %d", f.maxNodes, f.maxRequests)
	}
	if !(f.storeLoad > 0 && f.storeLoad <= 1) {
		return usagef("--store-load %v: want the share of the store's time one operation per request may take, above 0 and at most 1 (0.1: 10%% busy)", f.storeLoad)
	}
	if f.redis != "" && f.cluster != "" {
		return usagef("--redis and --redis-cluster: name one store, not both")
	}
	opt := validate.Options{
		MaxNodes: f.maxNodes, MaxRequests: f.maxRequests,
		SkipNodeLevel: f.skipNode, StoreLoad: f.storeLoad, RealIgnoresFaults: f.ignoreFaults,
	}
	if f.redis != "" {
		if opt.Redis, err = redisURL(f.redis); err != nil {
			return err
		}
	}
	if f.cluster != "" {
		if opt.Cluster, err = clusterAddrs(f.cluster); err != nil {
			return err
		}
	}
	sc, err := loadScenario(arg)
	if err != nil {
		return err
	}
	if cmd.Flags().Changed("seed") {
		sc.Seed = f.seed
	}
	opt.Topologies = topologyNames(f.topologies, nil)
	for _, n := range opt.Topologies {
		if _, err := sc.Resolve(n); err != nil {
			return usagef("--topology %s: %v", n, err)
		}
	}
	// The Redis client logs from its own goroutines.
	var mu sync.Mutex
	if !f.quiet {
		opt.Log = func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(a.stderr, "validate: "+format+"\n", args...)
		}
	}
	var clientLines atomic.Int64
	release := captureRedisLog(func(line string) {
		clientLines.Add(1)
		if f.verbose {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(a.stderr, "validate: redis client: %s\n", line)
		}
	})
	defer func() {
		release()
		if n := int(clientLines.Load()); err != nil && n > 0 && !f.verbose {
			err = fmt.Errorf("%w (-v also shows the Redis client's log: %s)", err, plural(n, "line"))
		}
	}()
	rep, err := validate.Run(cmd.Context(), sc, opt)
	if ctx := cmd.Context(); err != nil && ctx.Err() != nil {
		// A signal that comes once every run is compared changes
		// nothing: the report is whole, and printed.
		return validateInterrupted(ctx, err)
	}
	if err != nil {
		return err
	}
	if f.output == "json" {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if err := validate.WriteTable(a.stdout, rep); err != nil {
		return err
	}
	if !rep.Agree {
		var names []string
		for _, p := range rep.Runs {
			for _, d := range p.Differences {
				names = append(names, p.Topology+": "+d)
			}
		}
		return fmt.Errorf("%w: %s", errDisagree, strings.Join(names, "; "))
	}
	return nil
}
