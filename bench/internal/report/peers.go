package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// peerOrder is the order of the peers in every table: stampsim first.
var peerOrder = []string{"stampsim", "redislock-linear", "redislock-exponential", "singleflight+redislock", "redsync", "go-redis/cache", "sturdyc"}

// sortPeers orders units by peer (peerOrder), then setting.
func sortPeers(us []*Unit) {
	slices.SortStableFunc(us, func(a, b *Unit) int {
		ia, ib := slices.Index(peerOrder, a.Labels["peer"]), slices.Index(peerOrder, b.Labels["peer"])
		if ia != ib {
			return ia - ib
		}
		return strings.Compare(a.Labels["setting"], b.Labels["setting"])
	})
}

func peerName(u *Unit) string {
	return fmt.Sprintf("%s (%s)", u.Labels["peer"], u.Labels["setting"])
}

// SettingsTable lists what each peer's settings are.
func SettingsTable(s *Suite) string {
	t := table{head: []string{"peer", "setting", "what it is", "waiters poll Redis"}}
	us := s.Select(map[string]string{"case": "uncontended"})
	sortPeers(us)
	for _, u := range us {
		poll := "no"
		if u.Labels["polling"] == "yes" {
			poll = "yes"
		}
		t.add(u.Labels["peer"], u.Labels["setting"], u.Labels["settings"], poll)
	}
	return t.String()
}

// UncontendedTable is the uncontended miss: what a peer costs per call.
func UncontendedTable(s *Suite) string {
	t := table{head: []string{"peer", "latency p50 (µs)", "÷ PING", "p99 (µs)", "round trips / call", "commands / call", "PING (µs)", "repeats", "machine"}}
	us := s.Select(map[string]string{"case": "uncontended"})
	sortPeers(us)
	for _, u := range us {
		t.add(peerName(u), metricOr(u, "latency_p50_ns", micros), ratioOr(u, "latency_p50_ns", "ping_ns", times),
			metricOr(u, "latency_p99_ns", micros), ratioOr(u, "round_trips", "calls", sig), ratioOr(u, "redis_commands", "calls", sig),
			metricOr(u, "ping_ns", micros), repeatsOf(u), s.MachineRefs(u, "P"))
	}
	return t.String()
}

// StampedeSizes returns the stampede sizes measured, as (requests,
// instances), smallest first.
func StampedeSizes(s *Suite) [][2]int {
	seen := map[[2]int]bool{}
	for _, u := range s.Select(map[string]string{"case": "stampede"}) {
		r, _ := strconv.Atoi(u.Labels["requests"])
		i, _ := strconv.Atoi(u.Labels["instances"])
		seen[[2]int{r, i}] = true
	}
	var out [][2]int
	for k := range seen {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b [2]int) int {
		if a[0] != b[0] {
			return a[0] - b[0]
		}
		return a[1] - b[1]
	})
	return out
}

// reference returns stampsim's unit of the same case, size and setting as
// u, or nil.
func reference(s *Suite, u *Unit) *Unit {
	want := map[string]string{"peer": "stampsim", "setting": u.Labels["setting"], "case": u.Labels["case"], "instances": u.Labels["instances"]}
	if r := u.Labels["requests"]; r != "" {
		want["requests"] = r
	}
	if refs := s.Select(want); len(refs) == 1 {
		return refs[0]
	}
	return nil
}

// StampedeTable is one stampede size: every peer's upstream calls, Redis
// commands, and how long the callers waited.
func StampedeTable(s *Suite, requests, instances int) string {
	t := table{head: []string{"peer", "upstream calls", "Redis commands", "÷ stampsim's", "round trips", "last caller (ms)", "÷ PING", "p99 after the value (ms)", "errors", "repeats", "machine"}}
	us := s.Select(map[string]string{"case": "stampede", "requests": strconv.Itoa(requests), "instances": strconv.Itoa(instances)})
	sortPeers(us)
	for _, u := range us {
		rel := missing
		if ref := reference(s, u); ref != nil && ref != u {
			if v, n := PairMedian(u, ref, func(a, b map[string]float64) (float64, bool) {
				return a["redis_commands"] / b["redis_commands"], b["redis_commands"] > 0
			}); n > 0 {
				rel = times(v)
			}
		}
		t.add(peerName(u), metricOr(u, "upstream_calls", count), metricOr(u, "redis_commands", count), rel, metricOr(u, "round_trips", count),
			metricOr(u, "last_ns", ms), ratioOr(u, "last_ns", "ping_ns", times), metricOr(u, "after_value_p99_ns", ms),
			metricOr(u, "errors", count), repeatsOf(u), s.MachineRefs(u, "P"))
	}
	return t.String()
}

// DeadHolderTable is the holder that dies holding the lock.
func DeadHolderTable(s *Suite) string {
	t := table{head: []string{"peer", "others proceed after (ms)", "÷ PING", "last caller (ms)", "upstream calls", "Redis commands", "errors", "repeats", "machine"}}
	us := s.Select(map[string]string{"case": "dead-holder"})
	sortPeers(us)
	for _, u := range us {
		proceed := metricOr(u, "proceed_ns", ms)
		if proceed == missing {
			proceed = "not within " + metricOr(u, "limit_ns", ms)
		}
		t.add(peerName(u), proceed, ratioOr(u, "proceed_ns", "ping_ns", times), metricOr(u, "last_ns", ms),
			metricOr(u, "upstream_calls", count), metricOr(u, "redis_commands", count), metricOr(u, "errors", count), repeatsOf(u), s.MachineRefs(u, "P"))
	}
	return t.String()
}

// ZipfTable is many keys at once.
func ZipfTable(s *Suite) string {
	t := table{head: []string{"peer", "calls / s", "mean call (µs)", "÷ PING", "upstream calls", "commands / call", "errors", "repeats", "machine"}}
	us := s.Select(map[string]string{"case": "zipf"})
	sortPeers(us)
	for _, u := range us {
		mean := func(m map[string]float64) (float64, bool) {
			return m["workers"] * 1e9 / m["calls_per_s"], m["calls_per_s"] > 0
		}
		perPing := func(m map[string]float64) (float64, bool) {
			v, ok := mean(m)
			return v / m["ping_ns"], ok && m["ping_ns"] > 0
		}
		mv, _ := u.Median(mean)
		pv, _ := u.Median(perPing)
		t.add(peerName(u), metricOr(u, "calls_per_s", count), micros(mv), times(pv), metricOr(u, "upstream_calls", count),
			ratioOr(u, "redis_commands", "calls", sig), metricOr(u, "errors", count), repeatsOf(u), s.MachineRefs(u, "P"))
	}
	return t.String()
}

// PeerTargets judges the targets for the lock.
func PeerTargets(s *Suite) []string {
	var out []string
	// Uncontended miss: round trips at most the best peer's.
	var mine, best float64 = math.NaN(), math.Inf(1)
	bestName := ""
	for _, u := range s.Select(map[string]string{"case": "uncontended"}) {
		v, n := u.Median(Ratio("round_trips", "calls"))
		if n == 0 {
			continue
		}
		switch {
		case u.Labels["peer"] == "stampsim" && u.Labels["setting"] == "default":
			mine = v
		case u.Labels["peer"] != "stampsim" && u.Labels["polling"] == "yes" && v < best:
			best, bestName = v, peerName(u)
		}
	}
	if !math.IsNaN(mine) && bestName != "" {
		verdict := "met"
		if mine > best {
			verdict = fmt.Sprintf("missed by %s round trips", sig(mine-best))
		}
		out = append(out, fmt.Sprintf("Uncontended miss, at most the round trips of the best locking peer: stampsim %s per call, the best locking peer (%s) %s: **%s**.", sig(mine), bestName, sig(best), verdict))
	}
	sizes := StampedeSizes(s)
	if len(sizes) == 0 {
		return out
	}
	largest := sizes[len(sizes)-1][0]
	for _, sz := range sizes {
		if sz[0] != largest {
			continue
		}
		label := fmt.Sprintf("%s-request stampede over %d instances", count(float64(sz[0])), sz[1])
		if largest != 10000 {
			label += fmt.Sprintf(" (the target is for 10,000 requests; this %s has %s)", s.Kind(), count(float64(largest)))
		}
		for _, setting := range []string{"default", "tuned"} {
			ref := s.Select(map[string]string{"case": "stampede", "peer": "stampsim", "setting": setting, "requests": strconv.Itoa(sz[0]), "instances": strconv.Itoa(sz[1])})
			if len(ref) != 1 {
				continue
			}
			worst, worstName := math.Inf(1), ""
			var worstUnit *Unit
			for _, u := range s.Select(map[string]string{"case": "stampede", "polling": "yes", "setting": setting, "requests": strconv.Itoa(sz[0]), "instances": strconv.Itoa(sz[1])}) {
				v, n := PairMedian(u, ref[0], func(a, b map[string]float64) (float64, bool) {
					return a["redis_commands"] / b["redis_commands"], b["redis_commands"] > 0
				})
				if n > 0 && v < worst {
					worst, worstName, worstUnit = v, peerName(u), u
				}
			}
			if worstName != "" {
				verdict := "met"
				if worst < 10 {
					verdict = fmt.Sprintf("missed: %s is %s of the 10x", worstName, times(worst)) + commandsWhy(ref[0], worstUnit, sz[0])
				}
				out = append(out, fmt.Sprintf("%s, %s settings, at least 10x fewer Redis commands than every polling peer: the closest, %s, sends %s stampsim's: **%s**.", label, setting, worstName, times(worst), verdict))
			}
			p99, n := ref[0].Median(Metric("after_value_p99_ns"))
			if n > 0 {
				verdict := "met"
				if p99 > 2e6 {
					verdict = fmt.Sprintf("missed by %s ms", ms(p99-2e6)) + floorWhy(s, sz, p99) + loadWhy(s, ref[0])
				}
				out = append(out, fmt.Sprintf("%s, %s settings, the last caller within 2 ms (p99) of the value being written: %s ms: **%s**.", label, setting, ms(p99), verdict))
			}
		}
	}
	return out
}

// commandsWhy explains, from what was measured, why a peer came within 10x
// of stampsim's commands.
func commandsWhy(mine, theirs *Unit, callers int) string {
	mc, _ := mine.Median(Metric("redis_commands"))
	mt, _ := mine.Median(Metric("round_trips"))
	tc, _ := theirs.Median(Metric("redis_commands"))
	tt, _ := theirs.Median(Metric("round_trips"))
	if mt == 0 || tt == 0 {
		return ""
	}
	why := fmt.Sprintf(". Why: %s sent %s round trips for %s callers", peerName(theirs), count(tt), count(float64(callers)))
	if tt < float64(callers) {
		why += ", so it too collapses an instance's callers in process, as stampsim's node level does, and polls with one GET"
	}
	return why + fmt.Sprintf("; stampsim's %s commands took %s round trips (%s commands each: its operations are Lua scripts that check fences and leases), %s's %s took %s (%s each)",
		count(mc), count(mt), sig(mc/mt), peerName(theirs), count(tc), count(tt), sig(tc/tt))
}

// floorWhy compares stampsim's p99 after the value (p99, in ns) with that
// of the peers that send Redis nothing in the same stampede: their callers
// wait for nothing but the harness waking them, so theirs is the floor that
// the machine puts under every peer's figure.
func floorWhy(s *Suite, sz [2]int, p99 float64) string {
	floor, floorName := math.Inf(1), ""
	for _, u := range s.Select(map[string]string{"case": "stampede", "requests": strconv.Itoa(sz[0]), "instances": strconv.Itoa(sz[1])}) {
		cmds, n := u.Median(Metric("redis_commands"))
		v, m := u.Median(Metric("after_value_p99_ns"))
		if n > 0 && m > 0 && cmds == 0 && v < floor {
			floor, floorName = v, peerName(u)
		}
	}
	if floorName == "" {
		return ""
	}
	return fmt.Sprintf(". The floor under it: %s, which sends Redis nothing (its callers wait in process only), had its p99 %s ms after the value in the same case, the time the harness takes to wake %s callers' goroutines on these cores; stampsim's is %s ms above that floor",
		floorName, ms(floor), count(float64(sz[0])), ms(max(p99-floor, 0)))
}

// loadWhy says what the machine was doing when u was measured.
func loadWhy(s *Suite, u *Unit) string {
	ping, _ := u.Median(Metric("ping_ns"))
	var loads []string
	for _, sess := range u.Sessions {
		m := s.Machines[sess]
		loads = append(loads, fmt.Sprintf("%s on %d cores", m.LoadAvg, m.Cores))
	}
	slices.Sort(loads)
	loads = slices.Compact(loads)
	return fmt.Sprintf(". Measured with a 1-minute load average of %s when the session began; the raw PING took %s µs in the same unit, and the callers' goroutines, the drivers and redis-server share the cores", strings.Join(loads, ", "), micros(ping))
}
