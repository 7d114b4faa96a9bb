package locks_test

// Protocol transcripts: stories told to the harness's world (harness_test.go)
// one command at a time, with every input each machine got and every effect
// it produced printed beneath the command, in the manner of etcd-io/raft's
// testdata/*.txt interaction files. The files are testdata/*.txt, run by
// github.com/cockroachdb/datadriven; the expected output is the
// specification, and
//
//	go test ./locks/ -run TestTranscripts -rewrite
//
// rewrites it from what the protocol does now (read the diff before you
// commit it).
//
// The transcripts drive the harness rather than a bare Machine on purpose:
// the stores are memstore, which applies the same compound operations as
// the Redis scripts, so a refused stale write, an expired lease or a
// notification fanned out is computed by the store and not asserted by the
// story's author; latencies are the harness's, so the output is a timeline;
// and the harness's checks (no request answered twice, every value produced
// by a finished upstream call, accepted fences never going down, nothing
// left held once the world is quiet) run under every story.
//
// # Commands
//
//	world topology=NAME nodes=N [upstream=D] [node-ttl=D] [shared-ttl=D] [stale-for=D] [ttl-jitter=F] [xfetch-beta=F]
//	[nI] SCOPE [lease=D] [wait=D] [poll=D] [on-timeout=invoke|fail|stale] [wake=notify|poll] [renew=on|off] [hard=D] [adaptive=Q/FLOOR/CEILING]
//	    A new world: the built-in topology NAME, N nodes n0..n(N-1), all in
//	    region r0, zone z0. Each line of the command's body changes the
//	    level of scope SCOPE (node, zone, region, global), on every node or,
//	    prefixed nI, on node I only. Unchanged, a level leases for 3s
//	    (renewed every 1s), waits 1s, polls every 50ms, is woken by
//	    notifications and invokes the upstream on a timeout; node caches
//	    keep a value 10s, shared caches 1m, no stale values are kept, and
//	    every upstream call takes 100ms. Stores are 0.5ms (zone), 1ms
//	    (region) and 40ms (global) from their nodes, each way. Prints the
//	    world as built.
//	request node=I key=K [count=C] [draw=U]
//	    C requests (default 1) for K arrive at node I now; they are
//	    numbered #1, #2, ... in the order they arrive in the world. With
//	    draw, each comes with XFetch's uniform draw U (RequestDrawn).
//	cancel id=R
//	    Request #R is cancelled now.
//	advance D | advance to=T
//	    Everything due in the next D (or up to time T) is delivered, in time
//	    order; the clock then stands at the end of that span.
//	run
//	    Everything is delivered until nothing is pending, and the harness
//	    checks that the world settled: every request answered once (unless
//	    cancelled), no flight left, no contender counted, and, unless a
//	    store was ever down, no lock held and no subscription left.
//	pending
//	    Lists what is on its way, in the order it will be delivered.
//	drop-notify node=I
//	    Loses every notification on its way to node I.
//	pause node=I for=D
//	    Node I handles nothing for D: what is due to it meanwhile is held
//	    back, in order, until the pause ends.
//	store-down SCOPE | store-up SCOPE
//	    The store of SCOPE (region r0, zone r0/z0 or global) answers every
//	    operation with an error from now on, or again works.
//	show-store SCOPE key=K
//	    What that store holds for K: value, fence counter and last accepted
//	    fence, lock holder, subscribers.
//	stats node=I
//	    Node I's machine's counters (Machine.Stats), those that are not
//	    zero.
//
// # Output
//
// One line per delivery: the time, then either a node and the input it got
// (request, cancel, store-done, notified, fired, fetched: the methods of
// Machine), or a store and what it did with an operation that reached it.
// Beneath a node's line, indented, one line per effect, in the order Ready
// returned them:
//
//	store LEVEL OP KEY [FLIGHT] [token=T] [lease=D] [value=V fence=F ttl=D]
//	set-timer FLIGHT KIND at=T      cancel-timer FLIGHT KIND
//	fetch FLIGHT KEY owner=#R cause=CAUSE [level=LEVEL] [background]
//	cancel-fetch FLIGHT KEY
//	expedite-fetch FLIGHT KEY       a request now waits for a call that went out as background
//	reply #R[..#S,...] KEY SERVED [value=V] [level=LEVEL] [err="..."]
//	contend LEVEL KEY +1|-1
//
// Times are since the world was built. Flights are named f1, f2, ... and
// lock tokens T1, T2, ... in the order they first appear in a world, so
// that a name means one flight (one token) wherever it is printed. A value
// is the number of the upstream call that produced it (value=2: the second
// call of the world). A delivery held back by a pause says when it was due.

import (
	"cmp"
	"container/heap"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/stampsim/stampsim/locks"
)

// transcriptLevel is the level every transcript world starts from: the
// harness's defaultLevel with a lease of 3s, so that a holder renews every
// second (2s would renew every 666.666666ms, which reads badly in a
// timeline).
var transcriptLevel = func() locks.Level {
	l := defaultLevel
	l.LeaseTTL = 3 * time.Second
	return l
}()

// TestTranscripts runs every testdata/*.txt transcript.
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no transcripts in testdata")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			tr := &transcript{}
			datadriven.RunTest(t, file, func(t *testing.T, d *datadriven.TestData) string {
				return tr.do(t, d)
			})
		})
	}
}

// transcript is the state of one transcript file: the current world, and
// the names given so far to its flights and tokens.
type transcript struct {
	w           *world
	out         strings.Builder
	flights     map[flightKey]int
	tokens      map[locks.Token]int
	storeFailed bool // a store was down at some point: locks may be left
}

// flightKey names a flight across the nodes of a world.
type flightKey struct {
	node int
	id   locks.FlightID
}

// commandArgs lists the arguments each command takes, so that a misspelt
// one fails the test instead of being ignored; "" stands for the one
// positional argument (advance's duration, a store's scope).
var commandArgs = map[string][]string{
	"world":       {"topology", "nodes", "upstream", "node-ttl", "shared-ttl", "stale-for", "ttl-jitter", "xfetch-beta"},
	"request":     {"node", "key", "count", "draw"},
	"cancel":      {"id"},
	"advance":     {"to", ""},
	"run":         {},
	"pending":     {},
	"drop-notify": {"node"},
	"pause":       {"node", "for"},
	"store-down":  {""},
	"store-up":    {""},
	"show-store":  {"", "key"},
	"stats":       {"node"},
}

// do runs one command and returns what it printed.
func (tr *transcript) do(t *testing.T, d *datadriven.TestData) string {
	if d.Cmd != "world" && tr.w == nil {
		d.Fatalf(t, "%s before any world", d.Cmd)
	}
	tr.out.Reset()
	if known, ok := commandArgs[d.Cmd]; ok {
		for _, a := range d.CmdArgs {
			if !slices.Contains(known, a.Key) && !(len(a.Vals) == 0 && slices.Contains(known, "")) {
				d.Fatalf(t, "%s: unknown argument %q", d.Cmd, a.Key)
			}
		}
	}
	switch d.Cmd {
	case "world":
		tr.newWorld(t, d)
	case "request":
		var n, count int
		var key string
		d.ScanArgs(t, "node", &n)
		d.ScanArgs(t, "key", &key)
		var draw float64
		count = 1
		d.MaybeScanArgs(t, "count", &count)
		d.MaybeScanArgs(t, "draw", &draw)
		tr.node(t, d, n)
		for range count {
			tr.w.requestDrawn(tr.w.now, n, key, draw)
		}
		tr.w.runUntil(tr.w.now)
	case "cancel":
		var id int
		d.ScanArgs(t, "id", &id)
		if id < 1 || id > len(tr.w.reqs) {
			d.Fatalf(t, "no request #%d", id)
		}
		tr.w.cancel(tr.w.now, locks.ReqID(id))
		tr.w.runUntil(tr.w.now)
	case "advance":
		until := tr.w.now
		if d.HasArg("to") {
			var to time.Duration
			d.ScanArgs(t, "to", &to)
			until = at(to)
		} else if len(d.CmdArgs) == 1 && len(d.CmdArgs[0].Vals) == 0 {
			by, err := time.ParseDuration(d.CmdArgs[0].Key)
			if err != nil {
				d.Fatalf(t, "advance: %v", err)
			}
			until = tr.w.now.Add(by)
		} else {
			d.Fatalf(t, "advance takes a duration or to=TIME")
		}
		if until < tr.w.now {
			d.Fatalf(t, "advance to %v: the clock is already at %v", dur(until), dur(tr.w.now))
		}
		tr.w.runUntil(until)
	case "run":
		tr.w.run()
		tr.w.settled(tr.storeFailed)
	case "pending":
		tr.pending()
	case "drop-notify":
		var n int
		d.ScanArgs(t, "node", &n)
		tr.node(t, d, n)
		tr.dropNotify(n)
	case "pause":
		var n int
		var d2 time.Duration
		d.ScanArgs(t, "node", &n)
		d.ScanArgs(t, "for", &d2)
		nd := tr.node(t, d, n)
		nd.pausedUntil = max(nd.pausedUntil, tr.w.now.Add(d2))
		fmt.Fprintf(&tr.out, "n%d paused until %s\n", n, fmtTime(nd.pausedUntil))
	case "store-down", "store-up":
		st := tr.store(t, d)
		st.down = d.Cmd == "store-down"
		tr.storeFailed = tr.storeFailed || st.down
		state := "works again"
		if st.down {
			state = "is down: every operation fails"
		}
		fmt.Fprintf(&tr.out, "%s %s\n", st.name, state)
	case "show-store":
		st := tr.store(t, d)
		var key string
		d.ScanArgs(t, "key", &key)
		tr.showStore(st, key)
	case "stats":
		var n int
		d.ScanArgs(t, "node", &n)
		tr.stats(tr.node(t, d, n))
	default:
		d.Fatalf(t, "unknown command %q", d.Cmd)
	}
	return tr.out.String()
}

// newWorld builds the world a "world" command describes.
func (tr *transcript) newWorld(t *testing.T, d *datadriven.TestData) {
	var name string
	var nodes int
	d.ScanArgs(t, "topology", &name)
	d.ScanArgs(t, "nodes", &nodes)
	if nodes < 1 {
		d.Fatalf(t, "nodes=%d: a world needs a node", nodes)
	}
	top, err := locks.Builtin(name, transcriptLevel)
	if err != nil {
		d.Fatalf(t, "%v", err)
	}
	cfg := defaultConfig(top, make([]place, nodes)...)
	d.MaybeScanArgs(t, "upstream", &cfg.Upstream)
	d.MaybeScanArgs(t, "node-ttl", &cfg.NodeCacheTTL)
	d.MaybeScanArgs(t, "shared-ttl", &cfg.SharedCacheTTL)
	d.MaybeScanArgs(t, "stale-for", &cfg.StaleFor)
	d.MaybeScanArgs(t, "ttl-jitter", &cfg.TTLJitter)
	d.MaybeScanArgs(t, "xfetch-beta", &cfg.XFetchBeta)

	// Each line of the body changes one level, everywhere or on one node,
	// in order: base is the topology of the nodes no line singled out.
	base := cloneTopology(top)
	perNode := make([]locks.Topology, nodes)
	for i := range perNode {
		perNode[i] = cloneTopology(top)
	}
	for line := range strings.SplitSeq(d.Input, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		only := -1
		if len(fields[0]) > 1 && fields[0][0] == 'n' && fields[0][1] >= '0' && fields[0][1] <= '9' { // nI, not "node"
			if _, err := fmt.Sscanf(fields[0], "n%d", &only); err != nil || only < 0 || only >= nodes {
				d.Fatalf(t, "%q: no node %s", line, fields[0])
			}
			fields = fields[1:]
		}
		if len(fields) == 0 {
			d.Fatalf(t, "%q: which level?", line)
		}
		scope, err := locks.ParseScope(fields[0])
		if err != nil {
			d.Fatalf(t, "%q: %v", line, err)
		}
		targets := []*locks.Topology{&base}
		for i := range perNode {
			if only < 0 {
				targets = append(targets, &perNode[i])
			}
		}
		if only >= 0 {
			targets = []*locks.Topology{&perNode[only]}
		}
		for _, top := range targets {
			l := levelOf(top, scope)
			if l == nil {
				d.Fatalf(t, "%q: topology %s has no %s level", line, name, scope)
			}
			if err := setLevel(l, fields[1:]); err != nil {
				d.Fatalf(t, "%q: %v", line, err)
			}
		}
	}
	for i := range perNode {
		if err := perNode[i].Validate(); err != nil {
			d.Fatalf(t, "n%d: %v", i, err)
		}
	}
	cfg.Topology = base
	cfg.NodeConfig = func(i int, c *locks.Config) { c.Topology = perNode[i] }

	tr.w = newWorld(t, cfg)
	tr.w.log = tr
	tr.flights = make(map[flightKey]int)
	tr.tokens = make(map[locks.Token]int)
	tr.storeFailed = false

	fmt.Fprintf(&tr.out, "topology %s\n", name)
	for _, l := range base.Levels {
		fmt.Fprintf(&tr.out, "  %s: %s\n", l.LevelName(), fmtLevel(l))
	}
	for i, nt := range perNode {
		for j, l := range nt.Levels {
			if l != base.Levels[j] {
				fmt.Fprintf(&tr.out, "  %s on n%d: %s\n", l.LevelName(), i, fmtLevel(l))
			}
		}
	}
	policies := ""
	if cfg.TTLJitter > 0 {
		policies += fmt.Sprintf(" ttl-jitter=%g", cfg.TTLJitter)
	}
	if cfg.XFetchBeta > 0 {
		policies += fmt.Sprintf(" xfetch-beta=%g", cfg.XFetchBeta)
	}
	fmt.Fprintf(&tr.out, "caches: node=%s shared=%s stale-for=%s%s; upstream=%s a call\n",
		fmtDur(cfg.NodeCacheTTL), fmtDur(cfg.SharedCacheTTL), fmtDur(cfg.StaleFor), policies, fmtDur(cfg.Upstream))
	for _, n := range tr.w.nodes {
		var stores []string
		for _, l := range n.m.Topology().Levels {
			if l.Scope.Shared() {
				st := tr.w.storeFor(n, l.Scope)
				stores = append(stores, fmt.Sprintf("%s %s away", st.name, fmtDur(cfg.Latency[st.scope])))
			}
		}
		where := "no store"
		if len(stores) > 0 {
			where = strings.Join(stores, ", ")
		}
		fmt.Fprintf(&tr.out, "n%d in r%d/z%d: %s\n", n.id, n.place.Region, n.place.Zone, where)
	}
}

// cloneTopology returns t with a copy of its levels.
func cloneTopology(t locks.Topology) locks.Topology {
	t.Levels = slices.Clone(t.Levels)
	return t
}

// levelOf returns t's level of scope s, or nil.
func levelOf(t *locks.Topology, s locks.Scope) *locks.Level {
	for i := range t.Levels {
		if t.Levels[i].Scope == s {
			return &t.Levels[i]
		}
	}
	return nil
}

// setLevel applies settings (key=value) to l.
func setLevel(l *locks.Level, settings []string) error {
	for _, s := range settings {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return fmt.Errorf("%q is not key=value", s)
		}
		var err error
		switch k {
		case "lease":
			l.LeaseTTL, err = time.ParseDuration(v)
		case "wait":
			l.WaitTimeout, err = time.ParseDuration(v)
		case "poll":
			l.PollInterval, err = time.ParseDuration(v)
		case "on-timeout":
			l.OnTimeout, err = locks.ParsePolicy(v)
		case "wake":
			l.Wake, err = locks.ParseWake(v)
		case "hard":
			l.HardTTL, err = time.ParseDuration(v)
		case "adaptive":
			// adaptive=Q/FLOOR/CEILING, e.g. adaptive=0.99/200ms/5s
			parts := strings.Split(v, "/")
			if len(parts) != 3 {
				return fmt.Errorf("adaptive=%s: want QUANTILE/FLOOR/CEILING", v)
			}
			if _, err = fmt.Sscanf(parts[0], "%g", &l.AdaptiveQuantile); err == nil {
				if l.AdaptiveFloor, err = time.ParseDuration(parts[1]); err == nil {
					l.AdaptiveCeiling, err = time.ParseDuration(parts[2])
				}
			}
		case "renew":
			switch v {
			case "on":
				l.NoRenew = false
			case "off":
				l.NoRenew = true
			default:
				err = fmt.Errorf("renew=%s: want on or off", v)
			}
		default:
			err = fmt.Errorf("unknown setting %q", k)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// fmtLevel prints a level's settings in the words of the world command.
func fmtLevel(l locks.Level) string {
	var policies string
	if l.HardTTL > 0 {
		policies += " hard=" + fmtDur(l.HardTTL)
	}
	if l.AdaptiveQuantile > 0 {
		policies += fmt.Sprintf(" adaptive=%g/%s/%s", l.AdaptiveQuantile, fmtDur(l.AdaptiveFloor), fmtDur(l.AdaptiveCeiling))
	}
	if !l.Scope.Shared() {
		return fmt.Sprintf("wait=%s on-timeout=%s%s", fmtDur(l.WaitTimeout), l.OnTimeout, policies)
	}
	renew := "on"
	if l.NoRenew {
		renew = "off"
	}
	return fmt.Sprintf("lease=%s wait=%s on-timeout=%s wake=%s poll=%s renew=%s%s",
		fmtDur(l.LeaseTTL), fmtDur(l.WaitTimeout), l.OnTimeout, l.Wake, fmtDur(l.PollInterval), renew, policies)
}

// node returns node n of the world, or ends the test.
func (tr *transcript) node(t *testing.T, d *datadriven.TestData, n int) *node {
	if n < 0 || n >= len(tr.w.nodes) {
		d.Fatalf(t, "no node n%d", n)
	}
	return tr.w.nodes[n]
}

// store returns the store that the command's first argument names by its
// scope (every node of a transcript world is in region r0, zone z0, so each
// scope has at most one store), or ends the test.
func (tr *transcript) store(t *testing.T, d *datadriven.TestData) *store {
	if len(d.CmdArgs) == 0 || len(d.CmdArgs[0].Vals) > 0 {
		d.Fatalf(t, "%s: which store? (zone, region or global)", d.Cmd)
	}
	scope, err := locks.ParseScope(d.CmdArgs[0].Key)
	if err != nil || !scope.Shared() {
		d.Fatalf(t, "%s: no store for %q", d.Cmd, d.CmdArgs[0].Key)
	}
	for _, st := range tr.w.stores {
		if st.scope == scope {
			return st
		}
	}
	d.Fatalf(t, "%s: topology %s has no %s store", d.Cmd, tr.w.cfg.Topology.Name, scope)
	return nil
}

// --- what the world tells ---------------------------------------------------

// delivering prints the input e gives its node.
func (tr *transcript) delivering(e *event) {
	line := tr.describe(e)
	if e.heldBack {
		line += fmt.Sprintf(" (due at %s, held back by the pause)", fmtTime(e.due))
	}
	tr.line(line)
}

// applied prints what a store did with an operation that reached it.
func (tr *transcript) applied(e *event, f fault, res locks.Result[int], subs []int32) {
	outcome := "no answer: lost"
	if f != faultDrop {
		outcome = fmtResult(e.op.Kind, res)
	}
	line := fmt.Sprintf("%s %s from n%d: %s", e.st.name, tr.fmtOpShort(e.node.id, e.op), e.node.id, outcome)
	if len(subs) > 0 {
		names := make([]string, len(subs))
		for i, s := range subs {
			names[i] = fmt.Sprintf("n%d", s)
		}
		line += "; notifies " + strings.Join(names, ", ")
	}
	tr.line(line)
}

// effect prints one effect beneath its node's input.
func (tr *transcript) effect(n *node, e *locks.Effect[int]) {
	levels := n.m.Topology().Levels
	var s string
	switch e.Kind {
	case locks.EffectStore:
		s = fmt.Sprintf("store %s %s", levels[e.Op.Level].LevelName(), tr.fmtOp(n.id, e.Op))
	case locks.EffectSetTimer:
		s = fmt.Sprintf("set-timer %s %s at=%s", tr.flight(n.id, e.Timer.Flight), timerNames[e.Timer.Kind], fmtTime(e.At))
	case locks.EffectCancelTimer:
		s = fmt.Sprintf("cancel-timer %s %s", tr.flight(n.id, e.Timer.Flight), timerNames[e.Timer.Kind])
	case locks.EffectFetch:
		s = fmt.Sprintf("fetch %s %s owner=#%d cause=%s", tr.flight(n.id, e.Fetch.Flight), e.Fetch.Key, e.Fetch.Owner, e.Fetch.Cause)
		if e.Fetch.Level >= 0 {
			s += " level=" + levels[e.Fetch.Level].LevelName()
		}
		if e.Fetch.Background {
			s += " background"
		}
	case locks.EffectCancelFetch:
		s = fmt.Sprintf("cancel-fetch %s %s", tr.flight(n.id, e.Fetch.Flight), e.Fetch.Key)
	case locks.EffectExpediteFetch:
		s = fmt.Sprintf("expedite-fetch %s %s", tr.flight(n.id, e.Fetch.Flight), e.Fetch.Key)
	case locks.EffectReply:
		var ids []locks.ReqID
		for r := range e.Replies {
			ids = append(ids, r.ID)
		}
		r := e.Reply
		s = fmt.Sprintf("reply %s %s %s", fmtIDs(ids), r.Key, r.Served)
		if r.Err == nil {
			s += fmt.Sprintf(" value=%d", r.Value)
		}
		if r.Level >= 0 {
			s += " level=" + levels[r.Level].LevelName()
		}
		if r.Err != nil {
			s += fmt.Sprintf(" err=%q", r.Err.Error())
		}
	case locks.EffectContend:
		s = fmt.Sprintf("contend %s %s %+d", levels[e.Op.Level].LevelName(), e.Op.Key, e.Delta)
	default:
		s = fmt.Sprintf("effect kind %d", e.Kind)
	}
	fmt.Fprintf(&tr.out, "%8s    %s\n", "", s)
}

// line prints a delivery at the world's current time.
func (tr *transcript) line(s string) { fmt.Fprintf(&tr.out, "%8s  %s\n", fmtTime(tr.w.now), s) }

// describe says what delivering e gives its node.
func (tr *transcript) describe(e *event) string {
	n := e.node.id
	switch e.kind {
	case evRequest:
		return fmt.Sprintf("n%d request #%d %s", n, e.req.id, e.req.key)
	case evCancel:
		return fmt.Sprintf("n%d cancel #%d", n, e.req.id)
	case evOpArrive:
		return fmt.Sprintf("%s %s from n%d", e.st.name, tr.fmtOp(n, e.op), n)
	case evOpReply:
		level := e.node.m.Topology().Levels[e.op.Level].LevelName()
		return fmt.Sprintf("n%d store-done %s %s: %s", n, level, tr.fmtOpShort(n, e.op), fmtResult(e.op.Kind, e.res))
	case evNotify:
		return fmt.Sprintf("n%d notified %s %s", n, e.st.scope, e.op.Key)
	case evTimer:
		return fmt.Sprintf("n%d fired %s %s", n, tr.flight(n, e.timer.Flight), timerNames[e.timer.Kind])
	case evFetchDone:
		f := e.fetch
		s := fmt.Sprintf("n%d fetched %s %s", n, tr.flight(n, f.fetch.Flight), f.fetch.Key)
		if f.err != nil {
			return s + fmt.Sprintf(" err=%q", f.err.Error())
		}
		return s + fmt.Sprintf(" value=%d", f.value)
	}
	return fmt.Sprintf("n%d %s", n, evNames[e.kind])
}

// pending lists what is on its way, in delivery order.
func (tr *transcript) pending() {
	q := slices.Clone(tr.w.q)
	slices.SortFunc(q, func(a, b *event) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.seq, b.seq)) })
	if len(q) == 0 {
		fmt.Fprintf(&tr.out, "nothing pending\n")
	}
	for _, e := range q {
		fmt.Fprintf(&tr.out, "%8s  %s\n", fmtTime(e.at), tr.describe(e))
	}
}

// dropNotify loses every notification on its way to node n.
func (tr *transcript) dropNotify(n int) {
	var lost []*event
	for _, e := range tr.w.q {
		if e.kind == evNotify && e.node.id == n {
			lost = append(lost, e)
		}
	}
	if len(lost) == 0 {
		fmt.Fprintf(&tr.out, "no notification on its way to n%d\n", n)
		return
	}
	slices.SortFunc(lost, func(a, b *event) int { return cmp.Compare(a.seq, b.seq) })
	for _, e := range lost {
		heap.Remove(&tr.w.q, e.index)
		fmt.Fprintf(&tr.out, "lost: %s (due at %s)\n", tr.describe(e), fmtTime(e.at))
	}
}

// showStore prints what st holds for key.
func (tr *transcript) showStore(st *store, key string) {
	now := tr.w.now
	value := "no value"
	if v, ok := st.s.Value(now, key); ok {
		value = fmt.Sprintf("value=%d", v)
	}
	counter, accepted := st.s.Fence(now, key)
	lock := "lock free"
	if tok, ok := st.s.Holder(now, key); ok {
		lock = "lock held by " + tr.token(tok)
	}
	subs := "no subscribers"
	if ss := st.s.Subscribers(key); len(ss) > 0 {
		names := make([]string, len(ss))
		for i, s := range ss {
			names[i] = fmt.Sprintf("n%d", s)
		}
		subs = "subscribers " + strings.Join(names, ", ")
	}
	fmt.Fprintf(&tr.out, "%s %s: %s, fence counter=%d accepted=%d, %s, %s\n", st.name, key, value, counter, accepted, lock, subs)
}

// stats prints n's machine's counters that are not zero.
func (tr *transcript) stats(n *node) {
	st := n.m.Stats()
	var parts []string
	count := func(name string, v uint64) {
		if v != 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", name, v))
		}
	}
	flush := func(title string) {
		if len(parts) > 0 {
			fmt.Fprintf(&tr.out, "%s: %s\n", title, strings.Join(parts, " "))
		}
		parts = parts[:0]
	}
	fmt.Fprintf(&tr.out, "requests: %d\n", st.Requests)
	for s, v := range st.Served {
		count(locks.Served(s).String(), v)
	}
	flush("served")
	for c, v := range st.Fetches {
		count(locks.Cause(c).String(), v)
	}
	count("errors", st.UpstreamErrors)
	flush("upstream calls")
	for k, v := range st.Ops {
		count(locks.OpKind(k).String(), v)
	}
	count("errors", st.StoreErrors)
	flush("store ops")
	for i, l := range n.m.Topology().Levels {
		ls := st.Levels[i]
		count("acquisitions", ls.Acquisitions)
		count("waits", ls.Waits)
		count("timeouts", ls.Timeouts)
		count("peak-contenders", uint64(ls.PeakContenders))
		flush("level " + l.LevelName())
	}
	count("leases-lost", st.LeasesLost)
	count("writes-refused", st.WritesRefused)
	count("late-replies", st.LateReplies)
	flush("other")
	count("started", st.Refreshes)
	count("early", st.EarlyRefreshes)
	count("early-reads", st.EarlyReads)
	for o, v := range st.RefreshOutcomes {
		count(locks.Outcome(o).String(), v)
	}
	flush("refreshes")
}

// --- names and formats -----------------------------------------------------

var timerNames = [...]string{
	locks.TimerDeadline: "deadline",
	locks.TimerFollower: "follower",
	locks.TimerPoll:     "poll",
	locks.TimerRenew:    "renew",
}

// flight returns the name of node n's flight id: f1, f2, ... in the order
// flights first appear in the world.
func (tr *transcript) flight(n int, id locks.FlightID) string {
	k := flightKey{n, id}
	if _, ok := tr.flights[k]; !ok {
		tr.flights[k] = len(tr.flights) + 1
	}
	return fmt.Sprintf("f%d", tr.flights[k])
}

// token returns the name of a lock token: T1, T2, ... in the order tokens
// first appear in the world.
func (tr *transcript) token(t locks.Token) string {
	if _, ok := tr.tokens[t]; !ok {
		tr.tokens[t] = len(tr.tokens) + 1
	}
	return fmt.Sprintf("T%d", tr.tokens[t])
}

// fmtOp prints a store operation of node n with the fields its kind uses.
func (tr *transcript) fmtOp(n int, op locks.Op[int]) string {
	s := fmt.Sprintf("%s %s", op.Kind, op.Key)
	switch op.Kind {
	case locks.OpReadOrAcquire, locks.OpExtend:
		s += fmt.Sprintf(" %s token=%s lease=%s", tr.flight(n, op.Flight), tr.token(op.Token), fmtDur(op.TTL))
		if op.Refresh > 0 {
			s += " refresh=" + fmtDur(op.Refresh)
		}
		if op.Early > 0 {
			s += fmt.Sprintf(" early=%.3g", op.Early)
		}
	case locks.OpPublish:
		s += fmt.Sprintf(" %s value=%d fence=%d token=%s ttl=%s", tr.flight(n, op.Flight), op.Value, op.Fence, tr.token(op.Token), fmtDur(op.TTL))
		if op.Delta > 0 {
			s += " delta=" + fmtDur(op.Delta)
		}
	case locks.OpRelease:
		s += fmt.Sprintf(" %s token=%s", tr.flight(n, op.Flight), tr.token(op.Token))
	}
	return s
}

// fmtOpShort names a store operation of node n by its kind, key and flight,
// for the lines that follow the effect that printed it whole.
func (tr *transcript) fmtOpShort(n int, op locks.Op[int]) string {
	if op.Kind == locks.OpSubscribe || op.Kind == locks.OpUnsubscribe {
		return fmt.Sprintf("%s %s", op.Kind, op.Key)
	}
	return fmt.Sprintf("%s %s %s", op.Kind, op.Key, tr.flight(n, op.Flight))
}

// fmtResult prints a store's answer to an operation of kind k.
func fmtResult(k locks.OpKind, r locks.Result[int]) string {
	if r.Stale {
		r.Stale = false
		return fmtResult(k, r) + fmt.Sprintf(", stale value=%d for %s more", r.Value, fmtDur(r.ValueTTL))
	}
	switch r.Status {
	case locks.StatusValue:
		if r.Delta > 0 {
			return fmt.Sprintf("value=%d delta=%s", r.Value, fmtDur(r.Delta))
		}
		return fmt.Sprintf("value=%d", r.Value)
	case locks.StatusAcquired:
		return fmt.Sprintf("acquired fence=%d", r.Fence)
	case locks.StatusHeld:
		return fmt.Sprintf("held ttl=%s", fmtDur(r.TTL))
	case locks.StatusOK:
		if k == locks.OpPublish {
			return fmt.Sprintf("ok written=%t released=%t", r.Written, r.Released)
		}
		return "ok"
	case locks.StatusNotHeld:
		return "not-held"
	case locks.StatusError:
		if r.Err != nil {
			return fmt.Sprintf("error %q", r.Err.Error())
		}
		return "error"
	}
	return fmt.Sprintf("status %d", r.Status)
}

// fmtIDs prints request ids as #1, or runs of consecutive ids as #2..#20.
func fmtIDs(ids []locks.ReqID) string {
	var parts []string
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, fmt.Sprintf("#%d", ids[i]))
		} else {
			parts = append(parts, fmt.Sprintf("#%d..#%d", ids[i], ids[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// fmtTime prints a point of the world's clock as the time since it began.
func fmtTime(t locks.Time) string { return fmtDur(dur(t)) }

// fmtDur prints d as time.Duration does, without its trailing zero units
// (1m, not 1m0s).
func fmtDur(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
