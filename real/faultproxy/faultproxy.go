// Package faultproxy puts a TCP proxy on loopback between a client and its
// server (a Redis, for stampsim) and injects network faults into what passes
// through it: connections refused or hung (an outage, a partition, a
// half-open connection), added latency and limited bandwidth (a slowdown),
// and replies lost with their connection closed (a reset in the middle of a
// command). Tests of package real and validation tooling put one proxy
// between each driver's client and each store, so that one node can be cut
// off from one store while the others carry on.
//
// It runs Shopify's toxiproxy in process, as a library: its proxies, links
// and toxic chains, without its HTTP API. Each direction of a proxy has one
// toxic of this package's, put in before the proxy takes its first
// connection, which applies whichever fault is in force to every chunk; a
// fault changes what it reads, never the chain. toxiproxy's own way, adding
// and removing toxics on live connections, rewires each link's channels
// under traffic, and a toxic of its that sends to a link whose destination
// has failed blocks for good (the link's writer stops reading): both failed
// the network-fault tests now and then under load. It is a helper for tests
// and tools: a service has no use for it, and package real must not import
// it.
package faultproxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/Shopify/toxiproxy/v2/stream"
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
	// NextReplyLost: the next reply through the proxy, on whichever
	// connection, is dropped and its connection closed, as with
	// RepliesLost; then the fault is over by itself (the proxy's fault is
	// None again), so that exactly one reply is lost however quickly the
	// client sends its next request.
	NextReplyLost
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
	case NextReplyLost:
		return "next reply lost"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// Proxy is one proxy on loopback. Its methods are safe for concurrent use;
// each sets the proxy's one fault, replacing the one before.
type Proxy struct {
	p  *toxiproxy.Proxy
	id int64 // its state's key in states
	st *state

	mu     sync.Mutex // orders Refuse, Heal and Close, which start and stop p
	closed bool
}

// state is what a proxy's two switch toxics read: the fault in force and its
// parameters, a channel closed (and replaced) at every change, so that a
// chunk held back by a slowdown learns that the slowdown ended, and one
// closed when the proxy closes, after which they drop everything.
type state struct {
	mu      sync.Mutex
	fault   Fault
	latency time.Duration
	rate    int64 // bytes per second for replies; 0 for no limit
	changed chan struct{}
	done    chan struct{}
}

// snapshot is a state as one chunk sees it.
type snapshot struct {
	fault         Fault
	latency       time.Duration
	rate          int64
	changed, done <-chan struct{}
}

func (s *state) get() snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return snapshot{s.fault, s.latency, s.rate, s.changed, s.done}
}

// set puts f in force, with its latency and rate.
func (s *state) set(f Fault, latency time.Duration, rate int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setLocked(f, latency, rate)
}

func (s *state) setLocked(f Fault, latency time.Duration, rate int64) {
	s.fault, s.latency, s.rate = f, latency, rate
	close(s.changed)
	s.changed = make(chan struct{})
}

// takeNextReply reports whether the caller's reply is the one that
// NextReplyLost drops, and if so ends the fault: of replies that come at
// once on several connections, exactly one is taken.
func (s *state) takeNextReply() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fault != NextReplyLost {
		return false
	}
	s.setLocked(None, 0, 0)
	return true
}

// states holds every open proxy's state by its id: toxiproxy makes its
// toxics from their JSON attributes, through which a switch toxic can carry
// a number, not a pointer.
var (
	states sync.Map // int64 → *state
	nextID atomic.Int64
)

// errClosed is returned by the methods of a closed proxy.
var errClosed = errors.New("faultproxy: proxy closed")

// server is what every toxiproxy proxy reports to: a logger that drops
// everything and no metrics.
var server = toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())

// New starts a proxy to upstream (host:port) on a free port of 127.0.0.1.
func New(upstream string) (*Proxy, error) {
	id := nextID.Add(1)
	st := &state{changed: make(chan struct{}), done: make(chan struct{})}
	states.Store(id, st)
	p := toxiproxy.NewProxy(server, "to "+upstream, "127.0.0.1:0", upstream)
	for _, dir := range []string{"upstream", "downstream"} {
		attrs := map[string]int64{"proxy": id}
		if dir == "downstream" {
			attrs["replies"] = 1
		}
		b, err := json.Marshal(map[string]any{"name": "switch-" + dir, "type": switchType, "stream": dir, "toxicity": 1, "attributes": attrs})
		if err == nil {
			_, err = p.Toxics.AddToxicJson(strings.NewReader(string(b)))
		}
		if err != nil {
			states.Delete(id)
			return nil, fmt.Errorf("faultproxy: the %s switch of a proxy to %s: %w", dir, upstream, err)
		}
	}
	if err := p.Start(); err != nil {
		states.Delete(id)
		return nil, fmt.Errorf("faultproxy: starting a proxy to %s: %w", upstream, err)
	}
	return &Proxy{p: p, id: id, st: st}, nil
}

// Addr returns the proxy's host:port, the address to give the client.
func (p *Proxy) Addr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.p.Listen
}

// Fault returns the fault in place.
func (p *Proxy) Fault() Fault { return p.st.get().fault }

// Refuse makes the proxy refuse connections and closes those it carries.
func (p *Proxy) Refuse() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errClosed
	}
	p.p.Stop()
	p.st.set(Refused, 0, 0)
	return nil
}

// Hang stops everything passing through, in both directions, and leaves
// every connection open, new ones included: they are half-open.
func (p *Proxy) Hang() error { return p.put(Hung, 0, 0) }

// Slow adds latency to every chunk of data in each direction (a round trip
// takes twice as long more) and, when bytesPerSecond is positive, holds the
// replies to that rate.
func (p *Proxy) Slow(latency time.Duration, bytesPerSecond int64) error {
	if latency < 0 || bytesPerSecond < 0 {
		return fmt.Errorf("faultproxy: latency %v and bandwidth %d B/s must not be negative", latency, bytesPerSecond)
	}
	return p.put(Slowed, latency, bytesPerSecond)
}

// LoseReplies makes the next reply on every connection, present and new,
// vanish with its connection: the server has run the command, and the
// client sees its connection closed instead of the reply.
func (p *Proxy) LoseReplies() error { return p.put(RepliesLost, 0, 0) }

// LoseNextReply makes the next reply through the proxy, on whichever
// connection, vanish with its connection, and then lets everything pass
// again by itself. A test that means to lose one reply uses it rather than
// LoseReplies and a Heal, which would race with the reply: a reply still
// on its way through the proxy when the test heals passes.
func (p *Proxy) LoseNextReply() error { return p.put(NextReplyLost, 0, 0) }

// Heal removes the fault: everything passes again. Connections that were
// hung stay open and carry data again, but what was sent on them while they
// hung is lost: a client waiting for a reply to it times out at its own
// timeout, as it would have had the fault lasted. That is what the
// simulator does to an operation that reaches a store while it is down, or
// leaves a node while it is cut off: it fails a connect timeout after it was
// sent, whenever the fault ends. (toxiproxy's own timeout toxic closes its
// connections when it goes, which ended every hung wait at the heal, and
// made the real side retry sooner than the simulator.) Chunks that a
// slowdown holds back go on at once. A refusing proxy listens again on the
// same port.
func (p *Proxy) Heal() error { return p.put(None, 0, 0) }

// put puts fault f in force, listening again if the proxy was refusing.
func (p *Proxy) put(f Fault, latency time.Duration, rate int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errClosed
	}
	if p.st.get().fault == Refused {
		if err := p.p.Start(); err != nil {
			return fmt.Errorf("faultproxy: listening again on %s: %w", p.p.Listen, err)
		}
	}
	p.st.set(f, latency, rate)
	return nil
}

// Close stops the proxy and closes every connection through it. It is
// idempotent; the proxy's other methods fail after it.
func (p *Proxy) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	// The switches drop what they hold from now on, so that none of
	// toxiproxy's goroutines waits for a link that has stopped reading.
	close(p.st.done)
	p.p.Stop()
	states.Delete(p.id)
}

// switchType names the toxic that applies a proxy's fault in force.
const switchType = "stampsim_switch"

// switchToxic applies the fault of the proxy numbered Proxy to one direction
// of one connection; Replies is 1 on the direction of the replies.
type switchToxic struct {
	Proxy   int64 `json:"proxy"`
	Replies int64 `json:"replies"`
}

// GetBufferSize lets chunks queue while a slowdown holds earlier ones, as
// toxiproxy's latency toxic does.
func (*switchToxic) GetBufferSize() int { return 1024 }

// Pipe passes each chunk on, or drops it, or holds it, or ends the
// connection, as the fault in force when it comes says.
func (t *switchToxic) Pipe(stub *toxics.ToxicStub) {
	v, ok := states.Load(t.Proxy)
	if !ok {
		drain(stub) // the proxy closed before this link started
		return
	}
	st := v.(*state)
	var next time.Time // when the rate limit lets the next reply go
	for {
		select {
		case <-stub.Interrupt:
			return
		case c := <-stub.Input:
			if c == nil {
				stub.Close()
				return
			}
			if !t.pass(stub, st, c, &next) {
				drain(stub)
				return
			}
		}
	}
}

// pass deals with chunk c; false means that it ended the connection.
func (t *switchToxic) pass(stub *toxics.ToxicStub, st *state, c *stream.StreamChunk, next *time.Time) bool {
	for {
		s := st.get()
		select {
		case <-s.done:
			return true // closed: dropped
		default:
		}
		switch s.fault {
		case Hung:
			return true // lost, also when the fault ends
		case RepliesLost:
			if t.Replies == 0 {
				break
			}
			stub.Close() // the writer closes the client's connection
			return false
		case NextReplyLost:
			if t.Replies == 0 || !st.takeNextReply() {
				break // a request, or another connection's reply was the one
			}
			stub.Close()
			return false
		case Slowed:
			due := c.Timestamp.Add(s.latency)
			if s.rate > 0 && t.Replies == 1 {
				*next = maxTime(*next, time.Now()).Add(time.Duration(len(c.Data)) * time.Second / time.Duration(s.rate))
				due = maxTime(due, *next)
			}
			if wait := time.Until(due); wait > 0 {
				tm := time.NewTimer(wait)
				select {
				case <-tm.C:
				case <-s.changed:
					tm.Stop()
					continue // another fault, or none: it decides
				case <-s.done:
					tm.Stop()
					return true
				}
			}
		}
		select {
		case stub.Output <- c:
		case <-s.done:
		}
		return true
	}
}

// drain drops what comes on stub's input until its connection ends, so
// that the stub before it never blocks, and closes stub.
func drain(stub *toxics.ToxicStub) {
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

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func init() { toxics.Register(switchType, new(switchToxic)) }
