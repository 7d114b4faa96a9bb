package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ModelPair is one model size, run by both simulators.
type ModelPair struct {
	Model           string
	Nodes, Requests int
	RegionWait      string
	Stampsim, SimPy *Unit
}

// ModelPairs returns the model sizes that both simulators ran, by
// requests, then nodes, then the regional wait.
func ModelPairs(s *Suite) []ModelPair {
	by := map[string]*ModelPair{}
	for _, u := range s.Units {
		tool := u.Labels["tool"]
		if tool != "stampsim" && tool != "simpy" {
			continue
		}
		p := by[u.Labels["model"]]
		if p == nil {
			n, _ := strconv.Atoi(u.Labels["nodes"])
			r, _ := strconv.Atoi(u.Labels["requests"])
			p = &ModelPair{Model: u.Labels["model"], Nodes: n, Requests: r, RegionWait: u.Labels["region_wait"]}
			by[p.Model] = p
		}
		if tool == "stampsim" {
			p.Stampsim = u
		} else {
			p.SimPy = u
		}
	}
	var out []ModelPair
	for _, p := range by {
		if p.Stampsim != nil && p.SimPy != nil {
			out = append(out, *p)
		}
	}
	slices.SortFunc(out, func(a, b ModelPair) int {
		if a.Requests != b.Requests {
			return a.Requests - b.Requests
		}
		if a.Nodes != b.Nodes {
			return a.Nodes - b.Nodes
		}
		return strings.Compare(a.RegionWait, b.RegionWait)
	})
	return out
}

// rate is simulated requests per wall second of the run itself.
func rate(m map[string]float64) (float64, bool) {
	return m["requests"] / m["run_seconds"], m["run_seconds"] > 0
}

// SpeedRatio is stampsim's rate over SimPy's, per repeat; MemRatio is
// stampsim's peak RSS over SimPy's.
func (p ModelPair) SpeedRatio() (float64, int) {
	return PairMedian(p.Stampsim, p.SimPy, func(a, b map[string]float64) (float64, bool) {
		ra, ok1 := rate(a)
		rb, ok2 := rate(b)
		return ra / rb, ok1 && ok2
	})
}

// MemRatio is stampsim's peak resident memory over SimPy's, per repeat.
func (p ModelPair) MemRatio() (float64, int) {
	return PairMedian(p.Stampsim, p.SimPy, func(a, b map[string]float64) (float64, bool) {
		return a["maxrss_kb"] / b["maxrss_kb"], b["maxrss_kb"] > 0
	})
}

// countsCompared are the counts both simulators must agree on.
var countsCompared = []string{"upstream_calls", "node_peak_contenders", "region_peak_contenders", "store_ops", "store_commands"}

// Agree says whether both counted the same in every repeat, and if not
// what differed.
func (p ModelPair) Agree() (bool, string) {
	var diffs []string
	for r, a := range p.Stampsim.Repeats {
		b, ok := p.SimPy.Repeats[r]
		if !ok {
			continue
		}
		for _, k := range countsCompared {
			if a[k] != b[k] {
				diffs = append(diffs, fmt.Sprintf("%s %s vs %s", k, count(a[k]), count(b[k])))
			}
		}
	}
	return len(diffs) == 0, strings.Join(diffs, "; ")
}

// SimTable compares the simulators size by size.
func SimTable(s *Suite) string {
	t := table{head: []string{"requests", "nodes", "regional wait", "stampsim req/s", "SimPy req/s", "speed ratio", "stampsim peak RSS (MB)", "SimPy peak RSS (MB)", "memory ratio", "same counts", "upstream calls", "contenders node / region", "store ops", "repeats", "machine"}}
	for _, p := range ModelPairs(s) {
		sr, _ := p.Stampsim.Median(rate)
		pr, _ := p.SimPy.Median(rate)
		speed, _ := p.SpeedRatio()
		mem, _ := p.MemRatio()
		ok, diff := p.Agree()
		agree := "yes"
		if !ok {
			agree = "**no**: " + diff
		}
		t.add(count(float64(p.Requests)), count(float64(p.Nodes)), p.RegionWait, count(sr), count(pr), times(speed),
			metricOr(p.Stampsim, "maxrss_kb", kbToMB), metricOr(p.SimPy, "maxrss_kb", kbToMB), times(mem), agree,
			metricOr(p.Stampsim, "upstream_calls", count),
			metricOr(p.Stampsim, "node_peak_contenders", count)+" / "+metricOr(p.Stampsim, "region_peak_contenders", count),
			metricOr(p.Stampsim, "store_ops", count), repeatsOf(p.Stampsim), s.MachineRefs(p.Stampsim, "S"))
	}
	return t.String()
}

func kbToMB(kb float64) string { return sig(kb / 1024) }

// ValidateTable is stampsim validate's real run beside the simulated one.
func ValidateTable(s *Suite) string {
	t := table{head: []string{"requests run", "nodes run", "validate wall (s)", "simulated run (s)", "validate ÷ simulated", "agree", "repeats", "machine"}}
	for _, u := range s.Select(map[string]string{"tool": "validate"}) {
		sim := s.Select(map[string]string{"tool": "stampsim", "model": u.Labels["model"]})
		simWall, rel := missing, missing
		if len(sim) == 1 {
			simWall = metricOr(sim[0], "process_seconds", sig)
			if v, n := PairMedian(u, sim[0], func(a, b map[string]float64) (float64, bool) {
				return a["process_seconds"] / b["process_seconds"], b["process_seconds"] > 0
			}); n > 0 {
				rel = times(v)
			}
		}
		agree, _ := u.Median(Metric("agree"))
		word := "yes"
		if agree < 1 {
			word = "no"
		}
		t.add(metricOr(u, "requests", count), metricOr(u, "nodes", count), metricOr(u, "process_seconds", sig), simWall, rel, word, repeatsOf(u), s.MachineRefs(u, "S"))
	}
	return t.String()
}

func atof(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }

// HeapTable is the engine's hold benchmark against the bare binary heap.
func HeapTable(s *Suite) string {
	t := table{head: []string{"pending events", "engine (ns / hold)", "bare heap (ns / hold)", "engine ÷ bare heap", "repeats", "machine"}}
	us := s.Select(map[string]string{"tool": "heap"})
	if len(us) != 1 {
		return t.String()
	}
	u := us[0]
	var sizes []string
	for k := range u.Repeats[firstRepeat(u)] {
		if n, ok := strings.CutPrefix(k, "BenchmarkBareHeapHold/n="); ok {
			sizes = append(sizes, strings.TrimSuffix(n, "_ns"))
		}
	}
	slices.SortFunc(sizes, func(a, b string) int { return int(atof(a) - atof(b)) })
	for _, n := range sizes {
		eng, bare := "BenchmarkEngineHold/n="+n+"_ns", "BenchmarkBareHeapHold/n="+n+"_ns"
		t.add(count(atof(n)), metricOr(u, eng, sig), metricOr(u, bare, sig), ratioOr(u, eng, bare, times), repeatsOf(u), s.MachineRefs(u, "S"))
	}
	return t.String()
}

func firstRepeat(u *Unit) int {
	first := math.MaxInt
	for r := range u.Repeats {
		first = min(first, r)
	}
	return first
}

// SimTargets judges the targets for the simulator.
func SimTargets(s *Suite) []string {
	pairs := ModelPairs(s)
	if len(pairs) == 0 {
		return nil
	}
	worstSpeed, worstMem := math.Inf(1), 0.0
	var slowSize, memSize string
	agreeAll := true
	for _, p := range pairs {
		if v, n := p.SpeedRatio(); n > 0 && v < worstSpeed {
			worstSpeed, slowSize = v, p.Model
		}
		if v, n := p.MemRatio(); n > 0 && v > worstMem {
			worstMem, memSize = v, p.Model
		}
		if ok, _ := p.Agree(); !ok {
			agreeAll = false
		}
	}
	var out []string
	verdict := "met"
	if worstSpeed < 50 {
		verdict = fmt.Sprintf("missed: %s is %s of the 50x", slowSize, times(worstSpeed)) + speedWhy(pairs, slowSize) + sessionsLoad(s)
	}
	out = append(out, fmt.Sprintf("At least 50x SimPy's simulated requests per second on every size: the smallest ratio is %s (%s): **%s**.", times(worstSpeed), slowSize, verdict))
	verdict = "met"
	if worstMem > 0.1 {
		verdict = fmt.Sprintf("missed: %s needs %s of SimPy's memory, not 0.1x", memSize, times(worstMem)) + memWhy(pairs, memSize)
	}
	out = append(out, fmt.Sprintf("At a tenth of SimPy's memory or less: the largest ratio is %s (%s): **%s**.", times(worstMem), memSize, verdict))
	word := "yes, on every size"
	if !agreeAll {
		word = "**no** (see the table)"
	}
	out = append(out, fmt.Sprintf("Both count the same upstream calls, contenders per level, store operations and commands: %s.", word))
	return out
}

// pairNamed returns the pair of model name, or the first.
func pairNamed(pairs []ModelPair, name string) ModelPair {
	for _, p := range pairs {
		if p.Model == name {
			return p
		}
	}
	return pairs[0]
}

// speedWhy explains from the measurements how the speed ratio goes with
// the size: the slowest size's ratio against the largest's.
func speedWhy(pairs []ModelPair, slowest string) string {
	slow, last := pairNamed(pairs, slowest), pairs[len(pairs)-1]
	a, _ := slow.SpeedRatio()
	b, _ := last.SpeedRatio()
	run, _ := slow.Stampsim.Median(Metric("run_seconds"))
	why := fmt.Sprintf(". At %s stampsim's whole run took %s ms; the largest size (%s) has %s", slow.Model, sig(run*1e3), last.Model, times(b))
	if b > a && last.Requests > slow.Requests {
		why += ": the ratio grows with the size, so at the small sizes a cost per run (building the world, counting) weighs more than the cost per request"
	}
	return why
}

// memWhy explains from the measurements what the memory of the size with
// the largest ratio is.
func memWhy(pairs []ModelPair, worst string) string {
	p := pairNamed(pairs, worst)
	a, _ := p.Stampsim.Median(Metric("maxrss_kb"))
	b, _ := p.SimPy.Median(Metric("maxrss_kb"))
	return fmt.Sprintf(". At %s the peaks are mostly the runtimes themselves: stampsim's process %s MB, Python's with SimPy %s MB; what a request costs shows only at the larger sizes", p.Model, kbToMB(a), kbToMB(b))
}

// sessionsLoad says how loaded the machine was when the suite's sessions
// began.
func sessionsLoad(s *Suite) string {
	var loads []string
	for _, m := range s.Machines {
		loads = append(loads, fmt.Sprintf("%s on %d cores", m.LoadAvg, m.Cores))
	}
	return fmt.Sprintf("; measured with a 1-minute load average of %s when the session began, where other work on the cores slows both sides by different amounts", strings.Join(loads, ", "))
}
