#!/usr/bin/env python3
"""The single-key stampede model that stampsim's bench/simcmp runs, in SimPy 3.

This is the way people simulate a cache stampede today, written the way SimPy
is written: every request is a process, the regional store is a Resource of
capacity one, and time is advanced with timeouts. It models what the
simulator runs for the scenario that bench/simcmp writes (two-level topology
in poll mode, fixed latencies, so that both are deterministic):

* nodes: node i gets its requests (requests / nodes of them) all at once, at
  start + i * gap;
* the node lock: the first request of a node starts the node's flight, the
  others join it and get its value (a request that finds the value in the
  node cache is a hit);
* the regional lock: a flight sends a read-or-acquire to the store, which
  answers with the value, the lock (the flight is the holder and calls the
  upstream), or "held" (the flight waits and polls again every poll
  interval, sooner if the lease ends first; past the level's wait timeout it
  calls the upstream itself);
* the store: one server in arrival order, each operation taking
  op_overhead + commands * service_time, seeing the keys as they are when
  it starts; the commands each operation runs are those of package memstore
  (read-or-acquire: 2 on a hit, 5 when it takes the lock, 4 when it is held;
  publish: 8 when it writes the value and releases the lock);
* the network: a fixed one-way delay each way;
* the upstream: a fixed latency; the holder replies to its node's requests
  when the value comes, then publishes it (the value written, the lock
  released).

It prints one JSON object: the counts that bench/simcmp compares with
stampsim's (upstream calls, peak contenders per level, store operations and
commands), the run's wall time (building the model, running it and counting,
as stampsim's wall_seconds) and the process's peak resident memory.

It must stay the same model as the scenario bench/simcmp writes; it must not
read the wall clock for anything but the run's wall time.
"""

import argparse
import json
import resource
import sys
import time

import simpy

US = 1000  # nanoseconds; simulated time is integer nanoseconds, as stampsim's
MS = 1000 * US


class Store:
    """The regional store: one server, the value, the lock and its lease."""

    def __init__(self, env, a):
        self.server = simpy.Resource(env, capacity=1)
        self.a = a
        self.value = False
        self.holder = None
        self.lease_end = 0
        self.ops = 0
        self.commands = 0


class Flight:
    """A node's flight: the requests waiting for it and the event they wait on."""

    __slots__ = ("done", "requests", "region", "waiting", "ra")

    def __init__(self, env):
        self.done = env.event()
        self.requests = 1
        self.region = False  # holding or waiting for the regional lock
        self.waiting = True  # reading or waiting at the regional level
        self.ra = None  # the read-or-acquire on its way


class Model:
    def __init__(self, env, a):
        self.env = env
        self.a = a
        self.store = Store(env, a)
        self.flights = [None] * a.nodes
        self.cached = [False] * a.nodes
        self.upstream_calls = 0
        self.node_peak = 0
        self.region_now = 0
        self.region_peak = 0
        self.replied = 0
        self.hits = 0

    def contend(self, f, delta):
        if delta > 0 and not f.region:
            f.region = True
            self.region_now += 1
            self.region_peak = max(self.region_peak, self.region_now)
        elif delta < 0 and f.region:
            f.region = False
            self.region_now -= 1

    def store_op(self, kind, f):
        """One round trip to the store: the network, the queue, the service."""
        a, st, env = self.a, self.store, self.env
        yield env.timeout(a.net)
        with st.server.request() as req:
            yield req
            now = env.now
            if kind == "ra":
                if st.value:
                    res, cmds = ("value", 0), 2
                elif st.holder is None or st.lease_end <= now:
                    st.holder, st.lease_end = f, now + a.lease
                    res, cmds = ("acquired", 0), 5
                else:
                    res, cmds = ("held", st.lease_end - now), 4
            elif kind == "release":
                ours = st.holder is f
                if ours:
                    st.holder = None
                res, cmds = ("released", 0), 4 if ours else 2
            else:  # publish: write the value, release the lock if it is ours
                st.value = True
                released = 1 if st.holder is f else 0
                if released:
                    st.holder = None
                res, cmds = ("published", 0), 3 + 3 + released + 1
            st.ops += 1
            st.commands += cmds
            yield env.timeout(a.op_overhead + cmds * a.service)
        yield env.timeout(a.net)
        return res

    def finish(self, node, f):
        self.cached[node] = True
        self.flights[node] = None
        self.replied += f.requests
        f.done.succeed()

    def flight(self, node, f):
        a, env = self.a, self.env
        me = env.active_process
        env.process(self.deadline(f, me))
        try:
            while True:
                f.ra = env.process(self.store_op("ra", f))
                status, ttl = yield f.ra
                f.ra = None
                if status == "value":
                    f.waiting = False
                    self.contend(f, -1)
                    self.finish(node, f)
                    return
                if status == "acquired":
                    f.waiting = False
                    self.contend(f, +1)
                    self.upstream_calls += 1
                    yield env.timeout(a.upstream)
                    self.finish(node, f)
                    yield from self.store_op("publish", f)
                    self.contend(f, -1)
                    return
                self.contend(f, +1)
                wait = a.poll
                if 0 < ttl < wait:
                    wait = max(ttl, MS)
                yield env.timeout(wait)
        except simpy.Interrupt:
            if f.ra is not None:
                env.process(self.late_reply(f.ra, f))
            yield from self.timed_out(node, f)

    def deadline(self, f, flight):
        """The level's wait timeout, from the flight's start: it interrupts
        the flight if it is still reading or waiting then. Set before the
        flight's first poll, it comes first at a tie, as stampsim's deadline
        timer does."""
        yield self.env.timeout(self.a.region_wait)
        if f.waiting:
            flight.interrupt()

    def timed_out(self, node, f):
        """The wait timeout passed: the flight calls the upstream itself."""
        self.contend(f, -1)
        self.upstream_calls += 1
        yield self.env.timeout(self.a.upstream)
        self.finish(node, f)

    def late_reply(self, ra, f):
        """A read-or-acquire that comes back after its flight timed out: a
        lock it was granted is given back at once (release: 4 commands)."""
        yield ra
        if ra.value[0] == "acquired":
            yield from self.store_op("release", f)

    def request(self, node):
        if self.cached[node]:
            self.hits += 1
            self.replied += 1
            return
        f = self.flights[node]
        if f is None:
            f = Flight(self.env)
            self.flights[node] = f
            self.env.process(self.flight(node, f))
        else:
            f.requests += 1
        self.node_peak = max(self.node_peak, f.requests)
        yield f.done

    def arrivals(self):
        a, env = self.a, self.env
        per = a.requests // a.nodes
        for node in range(a.nodes):
            at = a.start + node * a.gap
            if at > env.now:
                yield env.timeout(at - env.now)
            for _ in range(per):
                env.process(self.request(node))


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nodes", type=int, required=True)
    p.add_argument("--requests", type=int, required=True, help="a multiple of --nodes")
    p.add_argument("--start-us", type=int, default=1000)
    p.add_argument("--gap-us", type=int, default=7)
    p.add_argument("--net-us", type=int, default=500)
    p.add_argument("--upstream-ms", type=int, default=200)
    p.add_argument("--poll-ms", type=int, default=20)
    p.add_argument("--lease-ms", type=int, default=5000)
    p.add_argument("--region-wait-ms", type=int, default=3000)
    p.add_argument("--op-overhead-us", type=int, default=5)
    p.add_argument("--service-us", type=int, default=2)
    o = p.parse_args(argv)
    if o.nodes < 1 or o.requests < o.nodes or o.requests % o.nodes:
        p.error(f"--requests ({o.requests}) must be a positive multiple of --nodes ({o.nodes})")
    a = argparse.Namespace(
        nodes=o.nodes, requests=o.requests, start=o.start_us * US, gap=o.gap_us * US, net=o.net_us * US,
        upstream=o.upstream_ms * MS, poll=o.poll_ms * MS, lease=o.lease_ms * MS,
        region_wait=o.region_wait_ms * MS, op_overhead=o.op_overhead_us * US, service=o.service_us * US,
    )
    major = int(simpy.__version__.split(".")[0])
    if major < 3:
        sys.exit(f"SimPy {simpy.__version__} is SimPy 2; this model needs SimPy 3 (Debian: python3-simpy3)")

    t0 = time.perf_counter()
    env = simpy.Environment()
    m = Model(env, a)
    env.process(m.arrivals())
    env.run()
    wall = time.perf_counter() - t0

    out = {
        "tool": "simpy",
        "simpy_version": simpy.__version__,
        "python_version": sys.version.split()[0],
        "requests": m.replied,
        "upstream_calls": m.upstream_calls,
        "node_peak_contenders": m.node_peak,
        "region_peak_contenders": m.region_peak,
        "store_ops": m.store.ops,
        "store_commands": m.store.commands,
        "hits": m.hits,
        "sim_seconds": env.now / 1e9,
        "wall_seconds": wall,
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    json.dump(out, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
