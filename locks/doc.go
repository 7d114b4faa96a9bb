// Package locks is the request-collapsing lock protocol of stampsim, written
// once and run both in production (package real, against Redis) and in the
// simulator (virtual time).
//
// A Machine is the protocol for one node, as a deterministic state machine in
// the shape of etcd-io/raft's RawNode: the driver feeds it inputs (a request
// arrived, a store replied, a timer fired, the upstream answered, a release
// was announced, a request was cancelled), each stamped with the driver's
// clock, and collects the effects it asks for with Ready (run a store
// operation, set or cancel a timer, call the upstream, cancel that call or
// start a background one at once, reply to a request).
//
// A topology is a list of levels, innermost first: the node level collapses
// the requests of one process into one flight per key; each shared level
// (zone, region, global) is a lease lock in a store of that scope, taken with
// one compound read-or-acquire operation (double-checked locking in one round
// trip). The holder of the outermost level calls the upstream, then publishes
// the value to every cache it passed with the fence its lock gave it, which
// releases the lock.
//
// The package must not do I/O, read a clock, sleep, or start goroutines: all
// of that belongs to the drivers. It imports neither package sim nor package
// real.
//
// # Reading the code
//
// The protocol is split by concept, one file each:
//
//   - machine.go: the Machine, its Config and Stats, and the inputs StoreDone,
//     Fired and Abort, which hand each reply or timer to the file below that
//     handles it.
//   - requests.go: a request arriving (a node-cache hit, a follower joining
//     its key's flight, or a new flight) and a request cancelled.
//   - flight.go: the flight, its phases and its waiters; how a flight is
//     found, started, ended and aborted. The rules every other file relies
//     on are written on its fields.
//   - sharedlevel.go: a flight at a shared level: entering it, the
//     read-or-acquire and what each of its replies does, the poll back-off,
//     contention reports.
//   - subscriptions.go: notify mode: the per-(level, key) subscription, the
//     last check once it is confirmed, and the Notified input.
//   - timeouts.go: a shared level's wait deadline and the node level's
//     follower timer, each applying its level's OnTimeout policy.
//   - followerhedge.go: what PolicyInvoke does for a timed-out follower, so
//     that a node has at most one upstream call for a key in flight because
//     its followers timed out.
//   - leases.go: the locks a flight holds, their renewal while the upstream
//     call runs, and their release.
//   - fetch.go: the upstream call, the Fetched input, and finish: replies,
//     node-cache fill, publish.
//   - jitter.go: TTL jitter, the spread of each fill's cache TTLs.
//   - revalidate.go: stale-while-revalidate (Level.HardTTL) and the
//     background refreshes: flights that nobody waits for, which end with
//     an Outcome. The table below holds for them too, but for what they do
//     when their wait times out (they give up) and when their last waiter
//     leaves (they go on).
//   - xfetch.go: XFetch's early probabilistic refresh, from the draw the
//     driver gives with a request (RequestDrawn) and the recompute time
//     kept with each value.
//   - quantile.go: adaptive wait timeouts and the streaming quantile
//     estimator of upstream call durations behind them.
//   - nodecache.go and keytable.go: what a machine keeps per key, and the
//     sweep that keeps it small.
//   - effects.go: the effect batch that Ready returns, and the waiter lists
//     it lends to the driver.
//   - speedhooks.go: hints for a simulator's speed, which change nothing the
//     machine decides.
//   - types.go and topology.go: the types drivers exchange with the machine,
//     and the levels and built-in topologies.
//
// Every enumerated constant starts with the name of its type, less a
// trailing Kind: ServedHit, CauseHolder, OpPublish, StatusHeld, TimerPoll,
// EffectReply, ScopeRegion, PolicyStale, WakePoll. NumServed and the like
// count a type's values.
//
// # A flight's phases
//
// A flight is one attempt to get a key's value through the shared levels,
// for its owner (the request that started it) and, with a node level, for
// the followers that joined it. A request that misses the node cache and
// finds no flight for its key (or every request, without a node level)
// starts a flight at the first shared level, in phaseRA, or, when the
// topology has no shared level, straight in phaseFetching; a follower whose
// node-level wait times out with PolicyInvoke while its flight fetches may
// start a flight of its own (its node's follower hedge for the key), in
// phaseFetching. Between two inputs a flight is in one of four phases:
//
//   - RA (phaseRA): its read-or-acquire at the current level is on its way.
//   - Sub (phaseSubscribing): the lock was held, the level is woken by
//     notification, and the node's subscription is on its way; once it is
//     confirmed the flight checks the lock once more.
//   - Wait (phaseWaiting): the lock was held, or the store failed; a poll
//     timer is set (and, in notify mode, a notification may come first).
//   - Fetch (phaseFetching): the upstream call is on its way.
//
// Every flight of a level also has that level's deadline timer pending while
// it is in RA, Sub or Wait there. Each input moves a flight as follows ("="
// stays in its phase; RA' is phaseRA at the next level; "end": the flight
// ends and its slot is freed; "late": the input is for a step the flight
// has left, is counted in Stats.LateReplies and changes nothing; "·": the
// input does not reach a flight in that phase):
//
//	input                                  RA           Sub          Wait         Fetch
//	Request that joins the key's flight    =            =            =            =
//	StoreDone read_or_acquire  value       end          late         late         late
//	                           acquired    RA' | Fetch  late         late         late
//	                           held        Wait|Sub|RA  late         late         late
//	                           error       Wait         late         late         late
//	StoreDone subscribe        ok          ·            RA           ·            ·
//	                           failed      ·            Wait         ·            ·
//	StoreDone extend           any status  late         late         late         =
//	StoreDone publish, release, unsubscribe: no flight moves
//	Fired deadline                         Fetch | end  Fetch | end  Fetch | end  late
//	Fired poll                             late         late         RA           late
//	Fired follower                         =|Fetch|end  =|Fetch|end  =|Fetch|end  = | end
//	Fired renew                            late         late         late         =
//	Notified                               = (marked)   ·            RA           ·
//	Fetched, a value or an error           late         late         late         end
//	Cancel, others still waiting           =            =            =            =
//	Cancel, the last one waiting           end          end          end          end
//	Abort                                  end          end          end          end
//
// Row by row, with the function that handles the input and the effects it
// may emit:
//
//   - Request (request): a fresh node-cache entry is a reply (ServedHit)
//     and no flight. A request that joins its key's flight emits EffectSetTimer
//     (TimerFollower) when no follower timer is pending, and, if it is the
//     first to join a background refresh whose upstream call went out as
//     Fetch.Background (in Fetch), EffectExpediteFetch. A new flight emits
//     EffectSetTimer (TimerDeadline) and its read-or-acquire (EffectStore), or,
//     with no shared level, EffectFetch (CauseNoLock).
//   - StoreDone read_or_acquire, in general: only the reply to the flight's
//     current read (phaseRA, same level, same Op.Seq) reaches
//     readOrAcquireDone; any other is late, and a lock it granted is given
//     back at once with an OpRelease of the read's token (releaseLateGrant).
//   - read_or_acquire value: the flight stops waiting (EffectCancelTimer,
//     perhaps OpUnsubscribe), reports EffectContend -1 and finishes (finish):
//     the replies, the node-cache fill, an OpPublish and EffectContend -1 per
//     lock it holds.
//   - read_or_acquire acquired: EffectCancelTimer, perhaps OpUnsubscribe,
//     EffectContend +1, then the next level (enterLevel): RA' is phaseRA there
//     (EffectSetTimer, EffectStore); past the last level, Fetch (EffectFetch
//     with CauseHolder, and EffectSetTimer for TimerRenew when a lease it holds
//     renews).
//   - read_or_acquire held: EffectContend +1 the first time at the level, then
//     the first that applies: RA, reading again at once (EffectStore), if a
//     notification came while the read was on its way; in notify mode, not
//     yet subscribed (joinSub), Sub (OpSubscribe, unless the subscription is
//     already pending) or RA (a last check, when the subscription stands but
//     was confirmed after this read was sent); otherwise Wait, with a poll
//     timer (EffectSetTimer, pollWait).
//   - read_or_acquire error, or any status a read-or-acquire does not
//     return: Wait, with a poll timer at PollInterval. While the last reply
//     at the level is an error, a timeout there hedges with CauseStoreError.
//   - StoreDone subscribe (subscribeDone): matched to the node's pending
//     subscription by (level, key), and late if there is none. ok: each of
//     its flights makes its last check (EffectStore). failed: the subscription
//     is dropped and each of its flights polls (EffectSetTimer).
//   - StoreDone extend (extendDone): ok moves the lease's end, not-held marks
//     the lease lost, an error changes nothing; no effect.
//   - StoreDone publish, release, unsubscribe: no flight moves; a publish
//     whose value was refused is counted (Stats.WritesRefused).
//   - Fired, in general: late when the timer was cancelled or replaced, or
//     its flight ended. A timer of each kind is only pending in the phases
//     the table gives it, so it is late in the others.
//   - Fired deadline (levelTimedOut): EffectCancelTimer, perhaps OpUnsubscribe,
//     EffectContend -1, then the level's OnTimeout. PolicyInvoke hedges:
//     EffectFetch with CauseWaiterTimeout (CauseStoreError after an error),
//     keeping the inner locks it holds. PolicyStale replies with the node
//     cache's value within its stale window, and otherwise, as PolicyFail, with
//     ErrWaitTimeout; it then gives back its locks (OpRelease, EffectContend
//     -1) and ends.
//   - Fired poll (Fired): a read-or-acquire (EffectStore).
//   - Fired follower (followersTimedOut): each follower past its node-level
//     wait counts a timeout and gets the node level's OnTimeout. PolicyInvoke
//     collapses the hedges (followerTimedOut): a flight in RA, Sub or Wait
//     hedges itself for everyone and goes to Fetch (EffectCancelTimer,
//     perhaps OpUnsubscribe, EffectContend -1, EffectFetch with
//     CauseFollowerTimeout), the follower staying on it; in Fetch, the
//     follower stays if the flight hedged for its followers or its call is
//     younger than a node-level wait, joins the key's follower hedge if one is
//     in flight, and otherwise leaves to start that hedge (EffectFetch,
//     CauseFollowerTimeout). PolicyStale and PolicyFail make the follower
//     leave and reply to it (EffectReply). The flight is aborted if nobody is
//     left waiting (see Cancel), and otherwise the timer is set again
//     (EffectSetTimer).
//   - Fired renew (renew): an OpExtend per lock that renews, and the timer
//     again (EffectSetTimer).
//   - Notified (Notified): only for this node's confirmed subscription to
//     (level, key). A waiting flight cancels its poll (EffectCancelTimer) and
//     reads (EffectStore); one whose read is on its way is marked, so that a
//     "held" reply makes it read again at once.
//   - Fetched (Fetched, FetchedIn): EffectCancelTimer (TimerRenew). With a value, finish:
//     the owner is served fetched (hedged, for a hedge), the rest collapsed,
//     the node cache filled, an OpPublish and EffectContend -1 per lock held.
//     With an error, every waiter gets it (ServedError) and the locks are
//     released (OpRelease, EffectContend -1).
//   - Cancel (Cancel): the request leaves its flight and gets no reply. If
//     it was the last one waiting, the flight is aborted (abort):
//     EffectCancelFetch in Fetch, an OpRelease per lock held, EffectContend -1,
//     EffectCancelTimer, perhaps OpUnsubscribe. A follower that moved to its
//     key's follower hedge (as its owner or having joined it) leaves that
//     hedge, which is aborted with the last one waiting in it.
//   - Abort (Abort): every waiting request gets ErrAborted (EffectReply), and
//     every flight is aborted as above.
//
// An upstream call is Fetch.Background when the flight is a background
// refresh and nobody waits in it at that moment (startFetch); a driver may
// hold such a call back, which is why a request joining the flight later
// expedites it.
//
// A flight in Fetch stays there until Fetched, the cancellation of its last
// waiter, or Abort. A flight whose wait timed out with PolicyInvoke is in Fetch
// without the outer locks (a hedge): its Fetch.Cause says why and
// Fetch.Level where.
package locks
