// Package real is the production driver of stampsim's lock protocol: the
// package a Go service imports to collapse requests on cache misses, against
// Redis through go-redis, in wall-clock time.
//
// A Driver is one node. It owns a locks.Machine (the same protocol the
// simulator runs) and gives it what the machine must not have: a monotonic
// clock, timers, goroutines for store operations and upstream calls, and
// Redis. Its node level and node cache live in process; each shared level
// (zone, region, global) is a lease lock in the Redis of that scope, reached
// through the redis.UniversalClient given for the scope, so a single server,
// Sentinel and Cluster all work. Several drivers on one server stand for
// several nodes.
//
// # Store operations
//
// Every store operation of the protocol is one Lua script, run with EVALSHA
// and, when the server has lost its script cache, EVAL. The keys of one cache
// key share a hash tag, so every script touches one Cluster slot:
//
//	<prefix><scope>:{<key>}:v   the cached value (with XFetch's delta, see below)
//	<prefix><scope>:{<key>}:l   the lock (its holder's token)
//	<prefix><scope>:{<key>}:f   the fence counter
//	<prefix><scope>:{<key>}:w   the fence of the last accepted write
//	<prefix><scope>:{<key>}:r   the channel announcing releases and writes
//
// Each key expires by itself: the value after the cache TTL, the lock after
// its lease, the two fences after locks.FenceTTL (the longer of the two)
// from the last acquisition, renewal or write that set them.
//
// The scripts run exactly the commands package memstore counts for the same
// operation, and each reports how many it ran, so a driver counts round
// trips and commands as redis-server's INFO commandstats does (see Stats).
//
// Release notifications come over one pub/sub connection per shared scope
// (per master on a Cluster client, with sharded pub/sub, since a shard
// channel can only be subscribed on its slot's master), multiplexing every
// key the node waits on; polling stays as the safety net.
//
// # Cache policies
//
// The policies of the protocol beyond locking run here as in the
// simulator, since the machine decides them: stale-while-revalidate
// (locks.Level.HardTTL in the topology), XFetch's early refresh
// (Options.XFetchBeta), TTL jitter (Options.TTLJitter) and adaptive wait
// timeouts (locks.Level.AdaptiveQuantile). What the driver adds:
//
//   - A background refresh's upstream call uses the fetch function of the
//     request that started it, which has already returned; the calls run
//     on at most Options.MaxRefreshes goroutines, queued beyond that, and
//     Close cancels them and waits for them. A refresh that fails leaves
//     the stale value served until its hard TTL.
//   - Each upstream call is timed from when its function starts to when it
//     returns (locks.Machine.FetchedIn): XFetch keeps that recompute time
//     with the value, and the adaptive timeouts follow it.
//   - XFetch's uniform draw for each request comes from the driver's own
//     source (Options.XFetchSource, seeded per driver from crypto/rand),
//     or from the caller (DoDrawn), which is how validation replays the
//     simulator's draws.
//   - In a shared cache the delta lives in the value's own key, so that
//     the scripts run exactly memstore's commands: "\xffXF<microseconds>:"
//     before the value, written only with a delta (or for a value that
//     itself begins so); entries without it, from drivers without XFetch,
//     read as they are. The read-or-acquire script takes the level's
//     refresh window and the request's early factor and answers a value
//     within either as stale, with the lock's state beside it, for the
//     PTTL that decides one command more.
//
// # Counting
//
// Stats counts round trips and commands as docs/ARCHITECTURE.md ("What is
// counted") defines them, the way the simulator counts them: a script call
// is one round trip and, with the commands it ran, as many commands as INFO
// commandstats counts; when the server has lost the script, the refused
// EVALSHA and the EVAL after it are two round trips, and the refused EVALSHA
// one command more; a SUBSCRIBE is one of each. Connection set-up is not
// counted, and neither is LoadScripts, which validation tooling calls so
// that no EVALSHA is refused during a run.
// The counts are exact when the clients do not retry (MaxRetries -1): a
// command that go-redis sends again after a network error is invisible to
// the driver. During outages a failed request counts as a round trip when
// it may have reached the server, and as no command. go-redis renews the
// subscriptions of a pub/sub connection by itself after a reconnection;
// those requests are counted apart (Stats.Resubscribed), not as round trips.
//
// # Concurrency
//
// The machine is touched under one mutex per driver and never while I/O is
// in flight: an input is fed under the mutex, the effects are collected, and
// the I/O they ask for runs after the mutex is released, each store
// operation and each upstream call on a goroutine of its own (background
// refreshes on the bounded refresh goroutines, unless a caller joins one).
// Timers live in
// one heap served by one goroutine. Callers block in Do on their own
// goroutines: 10,000 callers waiting on one key cost the driver no goroutine
// each, only the goroutines of the flights' store operations and fetches.
//
// The package must not import the simulator or Prometheus (see
// real/promcollector for metrics), and must not close the clients it is
// given.
package real
