// Package faultproxy puts a TCP proxy on loopback between a client and its
// server (a Redis, for stampsim) and injects network faults into what passes
// through it: connections refused or hung (an outage, a partition, a
// half-open connection), added latency and limited bandwidth (a slowdown),
// and replies lost with their connection closed (a reset in the middle of a
// command). Tests of package real and validation tooling put one proxy
// between each driver's client and each store, so that one node can be cut
// off from one store while the others carry on.
//
// It runs Shopify's toxiproxy in process, as a library: its proxies and
// toxics, without its HTTP API. It is a helper for tests and tools: a
// service has no use for it, and package real must not import it.
package faultproxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/Shopify/toxiproxy/v2/toxics"
	"github.com/rs/zerolog"
)

// Fault names what a proxy does to its traffic.
type Fault int

// The faults, one at a time per proxy.
const (
	// None passes everything through.
	None Fault = iota
	// Refused: the proxy listens no more, so that dials are refused at
	// once, and every connection through it is closed.
	Refused
	// Hung: nothing passes in either direction and no connection is closed;
	// new connections are accepted and hang too. A client learns of it only
	// from its own timeouts, as when the server's host is cut off or gone
	// without a FIN or a reset: every connection is half-open. What is sent
	// meanwhile is lost, and stays lost when the fault ends.
	Hung
	// Slowed: every chunk of data waits the added latency in each direction,
	// and the bandwidth limit, if any, holds the replies to a rate.
	Slowed
	// RepliesLost: the next reply on each connection is dropped and the
	// connection closed. The server ran the command; the client sees its
	// connection end before the reply.
	RepliesLost
)

func (f Fault) String() string {
	switch f {
	case None:
		return "none"
	case Refused:
		return "refused"
	case Hung:
		return "hung"
	case Slowed:
		return "slowed"
	case RepliesLost:
		return "replies lost"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// Proxy is one proxy on loopback. Its methods are safe for concurrent use;
// each sets the proxy's one fault, replacing the one before.
type Proxy struct {
	mu     sync.Mutex
	p      *toxiproxy.Proxy
	fault  Fault
	names  []string // the toxics in place
	closed bool
}

// errClosed is returned by the methods of a closed proxy.
var errClosed = errors.New("faultproxy: proxy closed")

// server is what every toxiproxy proxy reports to: a logger that drops
// everything and no metrics.
var server = toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())

// New starts a proxy to upstream (host:port) on a free port of 127.0.0.1.
func New(upstream string) (*Proxy, error) {
	p := toxiproxy.NewProxy(server, "to "+upstream, "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("faultproxy: starting a proxy to %s: %w", upstream, err)
	}
	return &Proxy{p: p}, nil
}

// Addr returns the proxy's host:port, the address to give the client.
func (p *Proxy) Addr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.p.Listen
}

// Fault returns the fault in place.
func (p *Proxy) Fault() Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fault
}

// Refuse makes the proxy refuse connections and closes those it carries.
func (p *Proxy) Refuse() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errClosed
	}
	if err := p.clear(); err != nil {
		return err
	}
	p.p.Stop()
	p.fault = Refused
	return nil
}

// Hang stops everything passing through, in both directions, and leaves
// every connection open, new ones included: they are half-open.
func (p *Proxy) Hang() error {
	return p.set(Hung,
		toxic{Name: "hang-up", Type: blackholeType, Stream: "upstream", Attributes: map[string]int64{}},
		toxic{Name: "hang-down", Type: blackholeType, Stream: "downstream", Attributes: map[string]int64{}},
	)
}

// Slow adds latency to every chunk of data in each direction (a round trip
// takes twice as long more) and, when bytesPerSecond is positive, holds the
// replies to that rate (toxiproxy counts it in whole KB/s, at least 1).
func (p *Proxy) Slow(latency time.Duration, bytesPerSecond int64) error {
	if latency < 0 || bytesPerSecond < 0 {
		return fmt.Errorf("faultproxy: latency %v and bandwidth %d B/s must not be negative", latency, bytesPerSecond)
	}
	ts := []toxic{
		{Name: "delay-up", Type: delayType, Stream: "upstream", Attributes: map[string]int64{"nanos": int64(latency)}},
		{Name: "delay-down", Type: delayType, Stream: "downstream", Attributes: map[string]int64{"nanos": int64(latency)}},
	}
	if bytesPerSecond > 0 {
		ts = append(ts, toxic{Name: "bandwidth-down", Type: "bandwidth", Stream: "downstream", Attributes: map[string]int64{"rate": max(1, bytesPerSecond/1000)}})
	}
	return p.set(Slowed, ts...)
}

// LoseReplies makes the next reply on every connection, present and new,
// vanish with its connection: the server has run the command, and the
// client sees its connection closed instead of the reply.
func (p *Proxy) LoseReplies() error {
	return p.set(RepliesLost, toxic{Name: "reset-down", Type: "reset_peer", Stream: "downstream", Attributes: map[string]int64{"timeout": 0}})
}

// Heal removes the fault: everything passes again. Connections that were
// hung stay open and carry data again, but what was sent on them while they
// hung is lost: a client waiting for a reply to it times out at its own
// timeout, as it would have had the fault lasted. That is what the
// simulator does to an operation that reaches a store while it is down, or
// leaves a node while it is cut off: it fails a connect timeout after it was
// sent, whenever the fault ends. (toxiproxy's own timeout toxic closes its
// connections when it goes, which ended every hung wait at the heal, and
// made the real side retry sooner than the simulator.) A refusing proxy
// listens again on the same port.
func (p *Proxy) Heal() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errClosed
	}
	return p.clear()
}

// Close stops the proxy and closes every connection through it. It is
// idempotent; the proxy's other methods fail after it.
func (p *Proxy) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.p.Stop()
}

// toxic is a toxic as toxiproxy reads it.
type toxic struct {
	Name       string           `json:"name"`
	Type       string           `json:"type"`
	Stream     string           `json:"stream"`
	Toxicity   float32          `json:"toxicity"`
	Attributes map[string]int64 `json:"attributes"`
}

// set replaces the fault in place with f, made of ts.
func (p *Proxy) set(f Fault, ts ...toxic) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errClosed
	}
	if err := p.clear(); err != nil {
		return err
	}
	for _, t := range ts {
		t.Toxicity = 1 // every connection, every time: no draws
		b, err := json.Marshal(t)
		if err != nil {
			return fmt.Errorf("faultproxy: %s: %w", t.Name, err)
		}
		if _, err := p.p.Toxics.AddToxicJson(strings.NewReader(string(b))); err != nil {
			return fmt.Errorf("faultproxy: adding %s (%s) to the proxy at %s: %w", t.Name, t.Type, p.p.Listen, err)
		}
		p.names = append(p.names, t.Name)
	}
	p.fault = f
	return nil
}

// clear removes the toxics in place and listens again if the proxy was
// refusing. Called under p.mu.
func (p *Proxy) clear() error {
	var errs []error
	for _, n := range p.names {
		if err := p.p.Toxics.RemoveToxic(context.Background(), n); err != nil {
			errs = append(errs, fmt.Errorf("removing %s: %w", n, err))
		}
	}
	p.names = p.names[:0]
	if p.fault == Refused {
		if err := p.p.Start(); err != nil {
			errs = append(errs, fmt.Errorf("listening again on %s: %w", p.p.Listen, err))
		}
	}
	p.fault = None
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("faultproxy: %w", err)
	}
	return nil
}

// delayType names the toxic that adds latency in nanoseconds: toxiproxy's
// own latency toxic counts whole milliseconds, more than a Redis round trip
// on loopback takes.
const delayType = "stampsim_delay"

// delayToxic holds each chunk until Nanos after it was read, keeping the
// order.
type delayToxic struct {
	Nanos int64 `json:"nanos"`
}

// GetBufferSize lets chunks queue while earlier ones wait, as toxiproxy's
// latency toxic does.
func (*delayToxic) GetBufferSize() int { return 1024 }

// Pipe passes chunks on, each no sooner than Nanos after it was read.
func (t *delayToxic) Pipe(stub *toxics.ToxicStub) {
	for {
		select {
		case <-stub.Interrupt:
			return
		case c := <-stub.Input:
			if c == nil {
				stub.Close()
				return
			}
			if wait := time.Duration(t.Nanos) - time.Since(c.Timestamp); wait > 0 {
				tm := time.NewTimer(wait)
				select {
				case <-tm.C:
				case <-stub.Interrupt:
					tm.Stop()
					stub.Output <- c // nothing is dropped when the fault ends
					return
				}
			}
			stub.Output <- c
		}
	}
}

// blackholeType names the toxic that drops everything and closes nothing,
// even when it is removed (see Heal).
const blackholeType = "stampsim_blackhole"

type blackholeToxic struct{}

// Pipe drops every chunk until the connection ends or the toxic goes.
func (*blackholeToxic) Pipe(stub *toxics.ToxicStub) {
	for {
		select {
		case <-stub.Interrupt:
			return
		case c := <-stub.Input:
			if c == nil {
				stub.Close()
				return
			}
		}
	}
}

func init() {
	toxics.Register(delayType, new(delayToxic))
	toxics.Register(blackholeType, new(blackholeToxic))
}
