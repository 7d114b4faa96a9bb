package faultproxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// echo is a line server: it answers every line with the same line and
// counts the lines it received, so that a test can tell a request that
// reached it from one that did not.
type echo struct {
	l     net.Listener
	lines atomic.Int64
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

func startEcho(t *testing.T) *echo {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &echo{l: l}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			e.mu.Lock()
			e.conns = append(e.conns, c)
			e.mu.Unlock()
			e.wg.Add(1)
			go func() {
				defer e.wg.Done()
				r := bufio.NewReader(c)
				for {
					s, err := r.ReadString('\n')
					if err != nil {
						return
					}
					e.lines.Add(1)
					if _, err := io.WriteString(c, s); err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		e.mu.Lock()
		for _, c := range e.conns {
			c.Close()
		}
		e.mu.Unlock()
		e.wg.Wait()
	})
	return e
}

func newProxy(t *testing.T, upstream string) *Proxy {
	t.Helper()
	p, err := New(upstream)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// conn is a client connection through a proxy.
type conn struct {
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) (*conn, error) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return &conn{c, bufio.NewReader(c)}, nil
}

func mustDial(t *testing.T, addr string) *conn {
	t.Helper()
	c, err := dial(t, addr)
	if err != nil {
		t.Fatalf("dialing %s: %v", addr, err)
	}
	return c
}

// ask sends line and waits up to within for it to come back.
func (c *conn) ask(line string, within time.Duration) (time.Duration, error) {
	t0 := time.Now()
	if err := c.c.SetDeadline(t0.Add(within)); err != nil {
		return 0, err
	}
	if _, err := io.WriteString(c.c, line+"\n"); err != nil {
		return 0, err
	}
	got, err := c.r.ReadString('\n')
	if err != nil {
		return time.Since(t0), err
	}
	if got != line+"\n" {
		return time.Since(t0), errors.New("echoed " + strings.TrimSpace(got))
	}
	return time.Since(t0), nil
}

func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// Each fault does to a connection made before it and to one made during it
// what it says, and Heal makes the proxy carry both kinds of traffic again.
func TestFaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		apply func(*Proxy) error
		// old and fresh check a request on a connection made before the
		// fault and on one dialled during it; reached says whether those
		// requests reach the server.
		old, fresh func(t *testing.T, p *Proxy, c *conn)
		reached    bool
	}{
		{
			name:  "refused",
			apply: (*Proxy).Refuse,
			old: func(t *testing.T, _ *Proxy, c *conn) {
				if _, err := c.ask("x", time.Second); err == nil || isTimeout(err) {
					t.Errorf("a request on a connection the proxy closed: %v, want it closed at once", err)
				}
			},
			fresh: func(t *testing.T, p *Proxy, _ *conn) {
				if c, err := dial(t, p.Addr()); err == nil {
					c.c.Close()
					t.Errorf("dialling a refusing proxy succeeded")
				}
			},
		},
		{
			name:  "hung",
			apply: (*Proxy).Hang,
			old: func(t *testing.T, _ *Proxy, c *conn) {
				if _, err := c.ask("x", 100*time.Millisecond); !isTimeout(err) {
					t.Errorf("a request on a hung connection: %v, want a timeout", err)
				}
			},
			fresh: func(t *testing.T, p *Proxy, _ *conn) {
				c := mustDial(t, p.Addr()) // accepted, as by a half-open peer
				if _, err := c.ask("y", 100*time.Millisecond); !isTimeout(err) {
					t.Errorf("a request on a connection made while hung: %v, want a timeout", err)
				}
			},
		},
		{
			name:    "replies lost",
			apply:   (*Proxy).LoseReplies,
			reached: true,
			old: func(t *testing.T, _ *Proxy, c *conn) {
				if _, err := c.ask("x", time.Second); err == nil || isTimeout(err) {
					t.Errorf("a request whose reply is lost: %v, want the connection closed", err)
				}
			},
			fresh: func(t *testing.T, p *Proxy, _ *conn) {
				c := mustDial(t, p.Addr())
				if _, err := c.ask("y", time.Second); err == nil || isTimeout(err) {
					t.Errorf("a request on a new connection whose reply is lost: %v, want the connection closed", err)
				}
			},
		},
		{
			name:    "next reply lost",
			apply:   (*Proxy).LoseNextReply,
			reached: true,
			old: func(t *testing.T, _ *Proxy, c *conn) {
				if _, err := c.ask("x", time.Second); err == nil || isTimeout(err) {
					t.Errorf("the request whose reply is the next: %v, want the connection closed", err)
				}
			},
			fresh: func(t *testing.T, p *Proxy, _ *conn) {
				if f := p.Fault(); f != None {
					t.Errorf("fault %v after the one reply was lost, want none", f)
				}
				if _, err := mustDial(t, p.Addr()).ask("y", time.Second); err != nil {
					t.Errorf("a request after the one lost reply, without a heal: %v, want its reply", err)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := startEcho(t)
			p := newProxy(t, e.l.Addr().String())
			old := mustDial(t, p.Addr())
			if _, err := old.ask("before", time.Second); err != nil {
				t.Fatalf("before the fault: %v", err)
			}
			if err := tc.apply(p); err != nil {
				t.Fatal(err)
			}
			before := e.lines.Load()
			tc.old(t, p, old)
			tc.fresh(t, p, old)
			// A line that reached the server is counted before its echo
			// is dropped; give the server a moment for the last one.
			time.Sleep(20 * time.Millisecond)
			if got := e.lines.Load() - before; (got > 0) != tc.reached {
				t.Errorf("the server received %d lines during the fault, want them to reach it: %v", got, tc.reached)
			}
			if err := p.Heal(); err != nil {
				t.Fatal(err)
			}
			if p.Fault() != None {
				t.Errorf("fault %v after Heal", p.Fault())
			}
			if _, err := mustDial(t, p.Addr()).ask("after", time.Second); err != nil {
				t.Errorf("after Heal: %v", err)
			}
		})
	}
}

// A request waiting on a hung connection when the fault heals is not ended
// by the heal: it waits until its own deadline, as it would in an outage
// that lasted, and its line is lost; the connection then carries the next
// line.
func TestHealLeavesHungWaitsToTheirTimeout(t *testing.T) {
	e := startEcho(t)
	p := newProxy(t, e.l.Addr().String())
	c := mustDial(t, p.Addr())
	if _, err := c.ask("before", time.Second); err != nil {
		t.Fatalf("before the fault: %v", err)
	}
	if err := p.Hang(); err != nil {
		t.Fatal(err)
	}
	const within = 400 * time.Millisecond
	type result struct {
		took time.Duration
		err  error
	}
	done := make(chan result, 1)
	go func() {
		took, err := c.ask("lost", within)
		done <- result{took, err}
	}()
	time.Sleep(within / 4)
	if err := p.Heal(); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if !isTimeout(r.err) || r.took < within*9/10 {
		t.Errorf("the request waiting at the heal: %v after %v, want a timeout at its deadline (%v)", r.err, r.took, within)
	}
	if got := e.lines.Load(); got != 1 {
		t.Errorf("the server received %d lines, want 1 (the line sent while hung is lost)", got)
	}
	if _, err := c.ask("after", time.Second); err != nil {
		t.Errorf("the healed connection: %v, want it to carry lines again", err)
	}
}

// Slow delays every round trip by twice the latency, and a bandwidth limit
// holds a large reply to its rate; Heal takes both away.
func TestSlow(t *testing.T) {
	e := startEcho(t)
	p := newProxy(t, e.l.Addr().String())
	c := mustDial(t, p.Addr())
	const latency = 30 * time.Millisecond
	if err := p.Slow(latency, 0); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		took, err := c.ask("slow", 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if took < 2*latency {
			t.Errorf("round trip %d took %v, want at least %v", i, took, 2*latency)
		}
	}
	// 40 KB at 50 KB/s: at least 0.8s, less the first chunk's head start.
	if err := p.Slow(0, 50_000); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("b", 40_000)
	if took, err := c.ask(big, 10*time.Second); err != nil {
		t.Fatal(err)
	} else if took < 600*time.Millisecond {
		t.Errorf("40 KB at 50 KB/s came back in %v, want at least 0.6s", took)
	}
	if err := p.Heal(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ask("healed", time.Second); err != nil {
		t.Errorf("after Heal: %v", err)
	}
	if err := p.Slow(-time.Second, 0); err == nil {
		t.Error("a negative latency was accepted")
	}
}

// A fault replaces the one before, and a closed proxy refuses to change.
func TestFaultReplacesFault(t *testing.T) {
	e := startEcho(t)
	p := newProxy(t, e.l.Addr().String())
	if err := p.Refuse(); err != nil {
		t.Fatal(err)
	}
	if err := p.Hang(); err != nil { // listens again, and hangs
		t.Fatal(err)
	}
	c := mustDial(t, p.Addr())
	if _, err := c.ask("x", 100*time.Millisecond); !isTimeout(err) {
		t.Errorf("hung after refused: %v, want a timeout", err)
	}
	if err := p.Slow(time.Millisecond, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := mustDial(t, p.Addr()).ask("y", time.Second); err != nil {
		t.Errorf("slowed after hung: %v", err)
	}
	if got := p.Fault(); got != Slowed {
		t.Errorf("fault %v, want %v", got, Slowed)
	}
	p.Close()
	if err := p.Heal(); !errors.Is(err, errClosed) {
		t.Errorf("Heal after Close: %v, want %v", err, errClosed)
	}
}

// A connection whose client goes while the server is still sending leaves
// nothing running once the proxy closes: toxiproxy's writer stops reading
// when a write fails, and a toxic that sent to it would wait for good (one
// did, once in twenty runs of the fencing test).
func TestClientGoneWhileServerSends(t *testing.T) {
	opts := goleak.IgnoreCurrent()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // a server that sends until its connection fails
		defer wg.Done()
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		chunk := []byte(strings.Repeat("s", 1024))
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	}()
	p, err := New(l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", p.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	time.Sleep(50 * time.Millisecond) // the proxy's writes to the client fail
	p.Close()
	wg.Wait()
	l.Close()
	goleak.VerifyNone(t, opts)
}
