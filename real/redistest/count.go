package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Uncounted lists the commands that count neither as round trips nor as
// commands: connection set-up (HELLO, AUTH, SELECT, CLIENT ...), loading
// scripts, and what the tools themselves send to a server to look at it
// (INFO, CONFIG, MONITOR, CLUSTER, COMMAND, ECHO, PING). The driver sends
// none of them while it runs.
var Uncounted = map[string]bool{
	"hello": true, "auth": true, "select": true, "client": true, "readonly": true,
	"script": true, "info": true, "config": true, "monitor": true, "cluster": true,
	"command": true, "echo": true, "ping": true,
}

// dialTimeout bounds every raw request of this package.
const dialTimeout = 5 * time.Second

// Do sends one command over a fresh raw connection (RESP2, no set-up) and
// returns its reply: a simple or bulk string as is, an integer in decimal,
// an array's elements joined by newlines.
func Do(addr string, args ...string) (string, error) {
	return doWithin(dialTimeout, addr, args...)
}

// doWithin is Do with a time limit for the connection and the reply.
func doWithin(limit time.Duration, addr string, args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, limit)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(limit))
	if _, err := c.Write(encode(args)); err != nil {
		return "", err
	}
	return readReply(bufio.NewReader(c))
}

func encode(args []string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return []byte(b.String())
}

func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", errors.New("empty reply line")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", errors.New(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", fmt.Errorf("bad bulk length %q", line)
		}
		if n < 0 {
			return "", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", fmt.Errorf("bad array length %q", line)
		}
		parts := make([]string, 0, max(n, 0))
		for i := 0; i < n; i++ {
			p, err := readReply(r)
			if err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, "\n"), nil
	}
	return "", fmt.Errorf("unknown reply %q", line)
}

// ResetStats runs CONFIG RESETSTAT on the server at addr.
func ResetStats(addr string) error {
	_, err := Do(addr, "CONFIG", "RESETSTAT")
	return err
}

// CommandStats returns the calls per command of INFO commandstats, by the
// command's name in lower case (a subcommand under its command's name:
// "config|resetstat" counts as "config").
func CommandStats(addr string) (map[string]uint64, error) {
	info, err := Do(addr, "INFO", "commandstats")
	if err != nil {
		return nil, err
	}
	out := make(map[string]uint64)
	for _, line := range strings.Split(info, "\n") {
		line = strings.TrimSpace(line)
		rest, ok := strings.CutPrefix(line, "cmdstat_")
		if !ok {
			continue
		}
		name, fields, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		name, _, _ = strings.Cut(name, "|")
		for _, f := range strings.Split(fields, ",") {
			if v, ok := strings.CutPrefix(f, "calls="); ok {
				n, err := strconv.ParseUint(v, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("commandstats line %q: %w", line, err)
				}
				out[name] += n
			}
		}
	}
	return out, nil
}

// Counted returns the calls of stats that count as commands (all but
// Uncounted).
func Counted(stats map[string]uint64) uint64 {
	var n uint64
	for name, calls := range stats {
		if !Uncounted[name] {
			n += calls
		}
	}
	return n
}

// MonitorLine is one command a MONITOR connection saw.
type MonitorLine struct {
	// Client is the client's address, or "lua" for a command a script ran.
	Client string
	// Command is the command's name in lower case.
	Command string
}

// Monitor watches a server's MONITOR stream.
type Monitor struct {
	addr  string
	conn  net.Conn
	done  chan struct{}
	mu    sync.Mutex
	lines []MonitorLine
	err   error
	mark  string
	seen  chan struct{}
}

// StartMonitor opens a MONITOR connection to the server at addr.
func StartMonitor(addr string) (*Monitor, error) {
	c, err := net.DialTimeout("tcp", addr, dialTimeout)
	if err != nil {
		return nil, err
	}
	r := bufio.NewReader(c)
	_ = c.SetDeadline(time.Now().Add(dialTimeout))
	if _, err := c.Write(encode([]string{"MONITOR"})); err != nil {
		c.Close()
		return nil, err
	}
	if ok, err := readReply(r); err != nil || ok != "OK" {
		c.Close()
		return nil, fmt.Errorf("MONITOR replied %q, %v", ok, err)
	}
	_ = c.SetDeadline(time.Time{})
	m := &Monitor{addr: addr, conn: c, done: make(chan struct{})}
	go m.read(r)
	return m, nil
}

func (m *Monitor) read(r *bufio.Reader) {
	defer close(m.done)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			m.mu.Lock()
			m.err = err
			m.mu.Unlock()
			return
		}
		l, ok := parseMonitorLine(strings.TrimSuffix(line, "\r\n"))
		if !ok {
			continue
		}
		m.mu.Lock()
		if m.mark != "" && l.Command == "echo" && strings.Contains(line, m.mark) {
			close(m.seen)
			m.mark = ""
		}
		m.lines = append(m.lines, l)
		m.mu.Unlock()
	}
}

// parseMonitorLine reads `+1700000000.000000 [0 127.0.0.1:5000] "get" "k"`.
func parseMonitorLine(line string) (MonitorLine, bool) {
	open := strings.IndexByte(line, '[')
	end := strings.Index(line, "] ")
	if open < 0 || end < open {
		return MonitorLine{}, false
	}
	_, client, ok := strings.Cut(line[open+1:end], " ")
	if !ok {
		return MonitorLine{}, false
	}
	rest := line[end+2:]
	if len(rest) < 2 || rest[0] != '"' {
		return MonitorLine{}, false
	}
	name, _, ok := strings.Cut(rest[1:], "\"")
	if !ok {
		return MonitorLine{}, false
	}
	return MonitorLine{Client: client, Command: strings.ToLower(name)}, true
}

// Stop waits until the monitor has seen every command the server ran before
// Stop was called (it sends a marker ECHO and waits for it), closes the
// connection and returns the lines seen.
func (m *Monitor) Stop() ([]MonitorLine, error) {
	mark := fmt.Sprintf("stampsim-monitor-mark-%d", time.Now().UnixNano())
	m.mu.Lock()
	m.mark, m.seen = mark, make(chan struct{})
	seen := m.seen
	m.mu.Unlock()
	_, err := Do(m.addr, "ECHO", mark)
	if err == nil {
		select {
		case <-seen:
		case <-m.done:
			err = errors.New("monitor connection ended before the marker")
		case <-time.After(dialTimeout):
			err = fmt.Errorf("monitor did not see its marker within %v", dialTimeout)
		}
	}
	m.conn.Close()
	<-m.done
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lines, err
}

// Requests returns how many counted commands (see Uncounted) clients sent,
// not counting those that scripts ran.
func Requests(lines []MonitorLine) int {
	n := 0
	for _, l := range lines {
		if l.Client != "lua" && !Uncounted[l.Command] {
			n++
		}
	}
	return n
}
