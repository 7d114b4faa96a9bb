// Package promcollector exports what a real.Driver counts as Prometheus
// metrics, so that package real itself needs no Prometheus. A Collector reads
// Driver.Stats when it is scraped; it keeps no state of its own and must not
// change the driver.
//
// The metrics, all prefixed stampsim_:
//
//	requests_total{served}                      requests by how they were served
//	lock_acquisitions_total{level,scope}        locks taken (node level: flights started)
//	lock_waits_total{level,scope}               waits for a lock held by another
//	lock_timeouts_total{level,scope}            waits that timed out
//	lock_wait_duration_seconds                  histogram: arrival to reply of requests that waited
//	upstream_calls_total{cause}                 upstream calls by cause
//	upstream_errors_total                       upstream calls that failed or passed their deadline
//	hedges_total                                upstream calls made without the lock after a wait timed out
//	stale_serves_total                          requests served an expired value
//	refreshes_started_total                     background refreshes started (stale-while-revalidate, XFetch)
//	refreshes_total{outcome}                    background refreshes ended, by outcome
//	lock_wait_timeout_seconds{level,scope}      gauge: each level's wait timeout now (it moves when adaptive)
//	store_operations_total{scope,op}            store operations finished
//	store_round_trips_total{scope,op}           requests sent to a store
//	store_commands_total{scope,op}              commands a store ran (as INFO commandstats counts)
//	store_operation_errors_total{scope,op}      store operations that failed
//	leases_lost_total, writes_refused_total, late_replies_total,
//	notifications_total, resubscriptions_total
//	flights, waiting_requests                   gauges
package promcollector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/real"
)

// Source is what a Collector reads: a *real.Driver, or anything that counts
// the same way.
type Source interface {
	Stats() real.Stats
}

// Collector is a prometheus.Collector for one driver.
type Collector struct {
	src Source

	requests, acquisitions, waits, timeouts, waitDuration         *prometheus.Desc
	upstreamCalls, upstreamErrors, hedges, staleServes            *prometheus.Desc
	storeOps, storeTrips, storeCommands, storeErrors              *prometheus.Desc
	leasesLost, writesRefused, lateReplies, notifications, resubs *prometheus.Desc
	flights, waiting                                              *prometheus.Desc
	refreshesStarted, refreshes, waitTimeout                      *prometheus.Desc
}

// New returns a collector of src's Stats, with constLabels (for instance the
// node's name) on every metric.
func New(src Source, constLabels prometheus.Labels) *Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("stampsim_"+name, help, labels, constLabels)
	}
	return &Collector{
		src:              src,
		requests:         d("requests_total", "Requests answered, by how they were served.", "served"),
		acquisitions:     d("lock_acquisitions_total", "Locks taken at each level (node level: flights started).", "level", "scope"),
		waits:            d("lock_waits_total", "Waits for a lock another flight held, at each level.", "level", "scope"),
		timeouts:         d("lock_timeouts_total", "Waits that timed out, at each level.", "level", "scope"),
		waitDuration:     d("lock_wait_duration_seconds", "Time from arrival to reply of requests that waited for a lock."),
		upstreamCalls:    d("upstream_calls_total", "Upstream calls started, by cause.", "cause"),
		upstreamErrors:   d("upstream_errors_total", "Upstream calls that failed or passed their deadline."),
		hedges:           d("hedges_total", "Upstream calls made without the lock after a wait timed out."),
		staleServes:      d("stale_serves_total", "Requests served the node cache's expired value."),
		storeOps:         d("store_operations_total", "Store operations finished, by store scope and kind.", "scope", "op"),
		storeTrips:       d("store_round_trips_total", "Requests sent to a store, by store scope and operation kind.", "scope", "op"),
		storeCommands:    d("store_commands_total", "Commands a store ran, as INFO commandstats counts them, by store scope and operation kind.", "scope", "op"),
		storeErrors:      d("store_operation_errors_total", "Store operations that failed, by store scope and kind.", "scope", "op"),
		leasesLost:       d("leases_lost_total", "Leases a holder found gone while it fetched."),
		writesRefused:    d("writes_refused_total", "Cache writes a store refused because a newer fence had written."),
		lateReplies:      d("late_replies_total", "Replies, timers and upstream results that came after their flight had moved on."),
		notifications:    d("notifications_total", "Release notifications received."),
		resubs:           d("resubscriptions_total", "Subscriptions the client renewed by itself after a reconnection."),
		refreshesStarted: d("refreshes_started_total", "Background refreshes started (stale-while-revalidate, XFetch)."),
		refreshes:        d("refreshes_total", "Background refreshes ended, by outcome.", "outcome"),
		waitTimeout:      d("lock_wait_timeout_seconds", "Each level's wait timeout now: configured, or following the upstream when adaptive.", "level", "scope"),
		flights:          d("flights", "Flights in progress."),
		waiting:          d("waiting_requests", "Callers waiting for a reply."),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.requests, c.acquisitions, c.waits, c.timeouts, c.waitDuration,
		c.upstreamCalls, c.upstreamErrors, c.hedges, c.staleServes,
		c.storeOps, c.storeTrips, c.storeCommands, c.storeErrors,
		c.leasesLost, c.writesRefused, c.lateReplies, c.notifications, c.resubs,
		c.flights, c.waiting, c.refreshesStarted, c.refreshes, c.waitTimeout,
	} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	for i, n := range s.Served {
		counter(c.requests, n, locks.Served(i).String())
	}
	var scopes []locks.Scope
	for _, l := range s.Levels {
		counter(c.acquisitions, l.Acquisitions, l.Name, l.Scope.String())
		counter(c.waits, l.Waits, l.Name, l.Scope.String())
		counter(c.timeouts, l.Timeouts, l.Name, l.Scope.String())
		ch <- prometheus.MustNewConstMetric(c.waitTimeout, prometheus.GaugeValue, l.WaitTimeout.Seconds(), l.Name, l.Scope.String())
		if l.Scope.Shared() {
			scopes = append(scopes, l.Scope)
		}
	}
	buckets := make(map[float64]uint64, len(s.WaitDuration.Bounds))
	var cum uint64
	for i, b := range s.WaitDuration.Bounds {
		cum += s.WaitDuration.Counts[i]
		buckets[b] = cum
	}
	ch <- prometheus.MustNewConstHistogram(c.waitDuration, s.WaitDuration.Count, s.WaitDuration.Sum, buckets)
	for i, n := range s.UpstreamCalls {
		counter(c.upstreamCalls, n, locks.Cause(i).String())
	}
	counter(c.upstreamErrors, s.UpstreamErrors)
	counter(c.hedges, s.Hedges)
	counter(c.staleServes, s.StaleServes)
	counter(c.refreshesStarted, s.Refreshes)
	for i, n := range s.RefreshOutcomes {
		counter(c.refreshes, n, locks.Outcome(i).String())
	}
	for _, sc := range scopes {
		for k := range locks.NumOpKinds {
			o := s.Store[sc][k]
			counter(c.storeOps, o.Ops, sc.String(), k.String())
			counter(c.storeTrips, o.RoundTrips, sc.String(), k.String())
			counter(c.storeCommands, o.Commands, sc.String(), k.String())
			counter(c.storeErrors, o.Errors, sc.String(), k.String())
		}
	}
	counter(c.leasesLost, s.LeasesLost)
	counter(c.writesRefused, s.WritesRefused)
	counter(c.lateReplies, s.LateReplies)
	counter(c.notifications, s.Notifications)
	counter(c.resubs, s.Resubscribed)
	gauge(c.flights, s.InFlight)
	gauge(c.waiting, s.Waiting)
}
