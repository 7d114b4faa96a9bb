package real

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/stampsim/stampsim/locks"
)

// subscriber is the pub/sub side of one store: one connection (one per
// master on a Cluster client, with sharded pub/sub) carrying every channel
// the node waits on, and a reader goroutine per connection that feeds
// notifications to the machine and confirms subscriptions.
//
// On a Cluster, go-redis picks a pub/sub connection's master when it first
// connects, by the slot of the first channel it knows of, and picks a random
// master when it knows of none. So a connection's reader starts only once its
// first subscription has been written (an idle reader would connect first,
// to a random master), and a master that answers MOVED or ASK, because the
// slot map has changed or the connection reached the wrong master after a
// reconnection, retires the connection: its unconfirmed subscriptions fail
// at once, so that their waiters poll, and the next subscription makes a new
// connection, routed by the reloaded slot map.
//
// Subscriptions and unsubscriptions are written in the order the machine
// asked for them: they are queued under the driver's mutex and written by
// whichever operation goroutine holds writeMu, so that an unsubscription
// never overtakes the subscription it ends. A subscription is answered when
// the server confirms it (or when its deadline passes), so that a waiter's
// last check comes after it and no release is missed.
type subscriber struct {
	d  *Driver
	st *store

	writeMu sync.Mutex // held by the goroutine writing the queue

	mu     sync.Mutex // guards the fields below
	queue  []locks.Op[[]byte]
	conns  map[string]*psConn // by master address; "" on a single server
	closed bool
}

// psConn is one pub/sub connection and the subscriptions waiting for their
// confirmation on it, oldest first per channel (the server confirms in
// order).
type psConn struct {
	ps      *redis.PubSub
	addr    string // its key in subscriber.conns
	pending map[string][]*pendingSub
	reading bool // its reader has been started
	retired bool // out of subscriber.conns; subscriptions on it fail at once
}

// pendingSub is a subscription written and not yet confirmed.
type pendingSub struct {
	owner    *subscriber
	conn     *psConn
	channel  string
	op       locks.Op[[]byte]
	deadline *timerItem
	counted  outcome // the round trip and command it cost, once written
	done     bool
}

func newSubscriber(d *Driver, st *store) *subscriber {
	return &subscriber{d: d, st: st, conns: make(map[string]*psConn)}
}

// enqueue queues a subscription or unsubscription. Called under d.mu; the
// caller starts a goroutine that calls drain.
func (s *subscriber) enqueue(op locks.Op[[]byte]) {
	s.mu.Lock()
	s.queue = append(s.queue, op)
	s.mu.Unlock()
}

// drain writes the queued operations in order. Each enqueue is followed by
// one drain, so every operation is written by some drain.
func (s *subscriber) drain() {
	defer s.d.opsWG.Done()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.mu.Unlock()
			return
		}
		op := s.queue[0]
		s.queue[0] = locks.Op[[]byte]{}
		s.queue = s.queue[1:]
		s.mu.Unlock()
		if op.Kind == locks.OpSubscribe {
			s.subscribe(op)
		} else {
			s.unsubscribe(op)
		}
	}
}

// conn returns the connection for channel, making it (and its reader) if
// need be.
func (s *subscriber) conn(ctx context.Context, channel string) (*psConn, error) {
	addr := ""
	if s.st.cluster != nil {
		c, err := s.st.cluster.MasterForKey(ctx, channel)
		if err != nil {
			return nil, fmt.Errorf("finding the master of channel %q: %w", channel, errors.Join(err, errNotSent))
		}
		addr = c.Options().Addr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.Join(errNoSubscriber, errNotSent)
	}
	if c := s.conns[addr]; c != nil {
		return c, nil
	}
	c := &psConn{addr: addr, pending: make(map[string][]*pendingSub)}
	if s.st.cluster != nil {
		c.ps = s.st.cluster.SSubscribe(ctx)
	} else {
		c.ps = s.st.client.Subscribe(ctx)
	}
	s.conns[addr] = c
	return c, nil
}

// startReader starts c's reader unless it runs already. Called under s.mu,
// after a subscription was written on c, from an operation goroutine (counted
// in opsWG, so that Close waits for it before it waits for the readers).
func (s *subscriber) startReader(c *psConn) {
	if c.reading || c.retired || s.closed {
		return
	}
	c.reading = true
	s.d.readWG.Add(1)
	go s.read(c)
}

func (s *subscriber) subscribe(op locks.Op[[]byte]) {
	ctx, cancel := s.d.opContext(op.Deadline)
	defer cancel()
	ch := s.st.key(op.Key, "r")
	c, err := s.conn(ctx, ch)
	if err != nil {
		s.d.storeDone(true, op, failed(outcome{}, fmt.Errorf("%s on %s store: %w", op.Kind, s.st.scope, err)))
		return
	}
	p := &pendingSub{owner: s, conn: c, channel: ch, op: op, counted: outcome{roundTrips: 1, commands: 1}}
	if op.Deadline != 0 {
		p.deadline = &timerItem{at: op.Deadline, idx: -1, kind: timerSubscribe, sub: p}
	}
	s.mu.Lock()
	if c.retired {
		s.mu.Unlock()
		s.d.storeDone(true, op, failed(outcome{}, fmt.Errorf("%s on %s store: %w", op.Kind, s.st.scope, errors.Join(errConnRetired, errNotSent))))
		return
	}
	c.pending[ch] = append(c.pending[ch], p)
	s.mu.Unlock()
	if p.deadline != nil {
		// Unless the subscription has been answered already (finish drops
		// the item under d.mu too).
		s.d.mu.Lock()
		if !p.deadline.dropped {
			s.d.addTimer(p.deadline)
		}
		s.d.mu.Unlock()
	}
	if s.st.cluster != nil {
		err = c.ps.SSubscribe(ctx, ch)
	} else {
		err = c.ps.Subscribe(ctx, ch)
	}
	if err == nil {
		s.mu.Lock()
		s.startReader(c)
		s.mu.Unlock()
		return // the reader confirms it
	}
	s.mu.Lock()
	mine := s.take(p)
	s.mu.Unlock()
	if !mine {
		return
	}
	if !sent(err) {
		p.counted = outcome{}
	}
	s.finish(true, p, failed(p.counted, fmt.Errorf("%s on %s store: %w", op.Kind, s.st.scope, err)))
}

func (s *subscriber) unsubscribe(op locks.Op[[]byte]) {
	ctx, cancel := s.d.opContext(op.Deadline)
	defer cancel()
	ch := s.st.key(op.Key, "r")
	c, err := s.conn(ctx, ch)
	if err != nil {
		s.d.storeDone(true, op, failed(outcome{}, fmt.Errorf("%s on %s store: %w", op.Kind, s.st.scope, err)))
		return
	}
	// Subscriptions still unconfirmed are of no use to anyone now.
	s.mu.Lock()
	abandoned := c.pending[ch]
	delete(c.pending, ch)
	for _, p := range abandoned {
		p.done = true
	}
	s.mu.Unlock()
	for _, p := range abandoned {
		s.finish(true, p, failed(p.counted, fmt.Errorf("%s on %s store: %w", p.op.Kind, s.st.scope, errSubscribeAbandoned)))
	}
	if s.st.cluster != nil {
		err = c.ps.SUnsubscribe(ctx, ch)
	} else {
		err = c.ps.Unsubscribe(ctx, ch)
	}
	o := outcome{roundTrips: 1, commands: 1, res: locks.Result[[]byte]{Status: locks.StatusOK}}
	if err != nil {
		if !sent(err) {
			o = outcome{}
		}
		o = failed(o, fmt.Errorf("%s on %s store: %w", op.Kind, s.st.scope, err))
	}
	s.d.storeDone(true, op, o)
}

// take removes p from its connection's pending list, reporting whether it
// was still there (and so is the caller's to finish). Called under s.mu.
func (s *subscriber) take(p *pendingSub) bool {
	if p.done {
		return false
	}
	p.done = true
	q := p.conn.pending[p.channel]
	if i := slices.Index(q, p); i >= 0 {
		q = slices.Delete(q, i, i+1)
	}
	if len(q) == 0 {
		delete(p.conn.pending, p.channel)
	} else {
		p.conn.pending[p.channel] = q
	}
	return true
}

// finish reports p's outcome; tracked says that the caller runs in a
// goroutine counted in opsWG. Called without s.mu.
func (s *subscriber) finish(tracked bool, p *pendingSub, o outcome) {
	if p.deadline != nil {
		s.d.mu.Lock()
		s.d.removeTimer(p.deadline)
		s.d.mu.Unlock()
	}
	s.d.storeDone(tracked, p.op, o)
}

// confirm answers the oldest subscription of channel on c.
func (s *subscriber) confirm(c *psConn, channel string) {
	s.mu.Lock()
	q := c.pending[channel]
	if len(q) == 0 {
		s.mu.Unlock()
		// go-redis subscribed again after a reconnection.
		s.d.counts.resubscribed.Add(1)
		return
	}
	p := q[0]
	s.take(p)
	s.mu.Unlock()
	s.finish(false, p, outcome{roundTrips: 1, commands: 1, res: locks.Result[[]byte]{Status: locks.StatusOK}})
}

// expire fails p when its deadline passed before its confirmation.
func (s *subscriber) expire(p *pendingSub) {
	s.mu.Lock()
	mine := s.take(p)
	s.mu.Unlock()
	if mine {
		s.d.storeDone(false, p.op, failed(p.counted, fmt.Errorf("%s on %s store: no confirmation before the deadline", p.op.Kind, s.st.scope)))
	}
}

// read receives on c until it is closed: notifications go to the machine,
// confirmations answer subscriptions. go-redis reconnects and subscribes
// again by itself; read backs off while the server cannot be reached. A
// MOVED or ASK reply, to a subscription sent to a master that does not own
// its channel, retires c.
func (s *subscriber) read(c *psConn) {
	defer s.d.readWG.Done()
	const minBackoff, maxBackoff = 10 * time.Millisecond, time.Second
	backoff := minBackoff
	for {
		msg, err := c.ps.Receive(context.Background())
		if err != nil {
			if errors.Is(err, redis.ErrClosed) || s.isClosed() {
				return
			}
			if redis.HasErrorPrefix(err, "MOVED") || redis.HasErrorPrefix(err, "ASK") {
				s.retire(c, err)
				return
			}
			s.d.cfg.log.Debug("pub/sub receive failed", "scope", s.st.scope, "err", err)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-s.d.life.Done():
				t.Stop()
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = minBackoff
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" || m.Kind == "ssubscribe" {
				s.confirm(c, m.Channel)
			}
		case *redis.Message:
			if key, ok := s.st.keyOfChannel(m.Channel); ok {
				s.d.notified(s.st.scope, key)
			}
		}
	}
}

// retire takes c out of use after its master refused a subscription with err
// (MOVED or ASK): c's unconfirmed subscriptions fail, so that their flights
// poll instead of waiting for a confirmation that will not come; c is closed,
// and the Cluster client reloads its slot map, so that the next subscription
// makes a connection to the channel's master. Channels confirmed on c are
// heard no more: their waiters fall back on the poll that covers a lost
// notification.
func (s *subscriber) retire(c *psConn, err error) {
	s.d.cfg.log.Debug("pub/sub connection retired", "scope", s.st.scope, "addr", c.addr, "err", err)
	s.mu.Lock()
	c.retired = true
	if s.conns[c.addr] == c {
		delete(s.conns, c.addr)
	}
	var failing []*pendingSub
	for ch, q := range c.pending {
		for _, p := range q {
			p.done = true
		}
		failing = append(failing, q...)
		delete(c.pending, ch)
	}
	s.mu.Unlock()
	_ = c.ps.Close()
	if s.st.cluster != nil {
		s.st.cluster.ReloadState(s.d.life)
	}
	for _, p := range failing {
		s.finish(false, p, failed(p.counted, fmt.Errorf("%s on %s store: %w", p.op.Kind, s.st.scope, err)))
	}
}

func (s *subscriber) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// close closes every connection; their readers then return.
func (s *subscriber) close() {
	s.mu.Lock()
	s.closed = true
	conns := make([]*psConn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.ps.Close()
	}
}
