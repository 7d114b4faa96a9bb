// Package redistest starts and stops redis-server processes on loopback for
// the tests and benchmarks of package real and for validation tooling: single
// servers and small Clusters, on free ports, in a directory the caller
// chooses, without persistence. It also reads a server's INFO commandstats
// and watches its MONITOR stream over raw connections, so that counting what
// a server did sends nothing through go-redis.
//
// It is a helper for tests and tools: a service has no use for it, and
// package real must not import it outside its tests.
package redistest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// EnvRequire names the environment variable that, set to 1, turns a missing
// redis-server from a skipped test into a failed one (CI sets it).
const EnvRequire = "STAMPSIM_REQUIRE_REDIS"

// startTimeout bounds how long a server may take to accept connections, and
// a Cluster to reach cluster_state:ok.
const startTimeout = 20 * time.Second

// probeTimeout bounds one probe of a starting server. A server on loopback
// answers in well under a millisecond; what does not answer in time is not a
// server (a listener of another process that holds the port), and the probe
// is tried again until startTimeout.
const probeTimeout = 200 * time.Millisecond

// Binary returns the path of redis-server.
func Binary() (string, error) {
	p, err := exec.LookPath("redis-server")
	if err != nil {
		return "", fmt.Errorf("redis-server not found in PATH: %w", err)
	}
	return p, nil
}

// Need returns the path of redis-server, or skips tb when it is absent (fails
// it when EnvRequire is 1).
func Need(tb testing.TB) string {
	tb.Helper()
	p, err := Binary()
	if err == nil {
		return p
	}
	need(tb, err)
	return ""
}

// NeedCLI is Need for redis-cli, which starting a Cluster needs too.
func NeedCLI(tb testing.TB) string {
	tb.Helper()
	p, err := exec.LookPath("redis-cli")
	if err == nil {
		return p
	}
	need(tb, fmt.Errorf("redis-cli not found in PATH: %w", err))
	return ""
}

func need(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv(EnvRequire) == "1" {
		tb.Fatalf("%v, and %s=1 requires it", err, EnvRequire)
	}
	tb.Skipf("skipping: %v (install the redis-server and redis-tools packages, or set %s=1 to make this a failure)", err, EnvRequire)
}

// portAttempts bounds how often Start picks new ports when the ones it
// picked were taken before the server could bind them.
const portAttempts = 10

// freePort is FreePort; tests replace it to hand out a port that is taken.
var freePort = FreePort

// errPortTaken says that a server could not bind its port: another process
// took it between FreePort and the server's bind.
var errPortTaken = errors.New("port taken")

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. Another
// process may take it before the caller binds it (tests run in parallel and
// start servers of their own), so a caller that starts a server on it must
// be ready to pick another, as Start is.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Server is one redis-server process.
type Server struct {
	// Addr is host:port, Port the port and Dir the working directory.
	Addr string
	Port int
	Dir  string

	bin  string
	args []string
	mu   sync.Mutex
	cmd  *exec.Cmd
}

// Start starts redis-server on 127.0.0.1:port (a free port when port is 0)
// in dir, without persistence, with the extra arguments given, and waits
// until it answers PING. When it picked the port itself and another process
// took it first, it picks another.
func Start(dir string, port int, extra ...string) (*Server, error) {
	return startOn(dir, port, func(int) ([]string, error) { return extra, nil })
}

// startOn is Start with the extra arguments made for the port chosen, so
// that a Cluster node can pick its bus port afresh on each attempt.
func startOn(dir string, port int, extra func(port int) ([]string, error)) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	pick := port == 0
	for attempt := 1; ; attempt++ {
		if pick {
			if port, err = freePort(); err != nil {
				return nil, err
			}
		}
		more, err := extra(port)
		if err != nil {
			return nil, err
		}
		s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Port: port, Dir: dir, bin: bin}
		s.args = append([]string{
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", dir, "--daemonize", "no", "--logfile", "",
		}, more...)
		err = s.start()
		if err == nil {
			return s, nil
		}
		if !pick || !errors.Is(err, errPortTaken) || attempt == portAttempts {
			return nil, err
		}
	}
}

func (s *Server) start() error {
	log, err := os.OpenFile(filepath.Join(s.Dir, fmt.Sprintf("redis-%d.log", s.Port)), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening the log of redis-server on port %d: %w", s.Port, err)
	}
	cmd := exec.Command(s.bin, s.args...)
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = log, log
	err = cmd.Start()
	log.Close() // the child has its own descriptor
	if err != nil {
		return fmt.Errorf("starting redis-server on port %d: %w", s.Port, err)
	}
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
	deadline := time.Now().Add(startTimeout)
	for {
		// A server that could not bind says so in its log, and exits.
		if logged, _ := os.ReadFile(log.Name()); strings.Contains(string(logged), "Address already in use") {
			_ = s.Kill()
			return fmt.Errorf("redis-server on port %d: %w by another process (see %s)", s.Port, errPortTaken, log.Name())
		}
		// The answer must come from this process: a server of another
		// test that holds the port would answer too.
		pid, err := processID(s.Addr, probeTimeout)
		if err == nil && pid == cmd.Process.Pid {
			return nil
		}
		if err == nil {
			_ = s.Kill()
			return fmt.Errorf("redis-server on port %d: %w by the server with pid %d", s.Port, errPortTaken, pid)
		}
		if time.Now().After(deadline) {
			_ = s.Kill()
			return fmt.Errorf("redis-server on port %d did not answer within %v (last error: %v); see %s", s.Port, startTimeout, err, log.Name())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processID returns the process_id that the server at addr reports within
// limit.
func processID(addr string, limit time.Duration) (int, error) {
	info, err := doWithin(limit, addr, "INFO", "server")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			return strconv.Atoi(v)
		}
	}
	return 0, fmt.Errorf("INFO server of %s has no process_id", addr)
}

// Kill kills the server at once (SIGKILL) and waits for it to exit. Killing
// a server that is not running does nothing.
func (s *Server) Kill() error {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return nil
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait() // "signal: killed" (or its own exit) is what we expect
	return nil
}

// Restart starts a killed server again on the same port, empty.
func (s *Server) Restart() error {
	s.mu.Lock()
	running := s.cmd != nil
	s.mu.Unlock()
	if running {
		return fmt.Errorf("redis-server on port %d is still running", s.Port)
	}
	return s.start()
}

// StartT starts a server for tb in a temporary directory (skipping tb when
// redis-server is absent, see Need) and kills it when tb ends.
func StartT(tb testing.TB, extra ...string) *Server {
	tb.Helper()
	Need(tb)
	s, err := Start(tb.TempDir(), 0, extra...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Kill() })
	return s
}

// Cluster is a Redis Cluster of masters without replicas.
type Cluster struct {
	Servers []*Server
}

// Addrs returns the masters' addresses.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Servers))
	for i, s := range c.Servers {
		out[i] = s.Addr
	}
	return out
}

// Kill kills every server of the cluster.
func (c *Cluster) Kill() error {
	var errs []error
	for _, s := range c.Servers {
		errs = append(errs, s.Kill())
	}
	return errors.Join(errs...)
}

// StartCluster starts n cluster-enabled servers in dir, joins them with
// redis-cli --cluster create (no replicas), and waits until every node
// reports cluster_state:ok.
func StartCluster(dir string, n int) (*Cluster, error) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		return nil, fmt.Errorf("redis-cli not found in PATH (it comes with redis-tools): %w", err)
	}
	c := &Cluster{}
	for i := 0; i < n; i++ {
		// The bus port is picked with the port, and afresh when either
		// was taken.
		s, err := startOn(dir, 0, func(port int) ([]string, error) {
			bus, err := freePort()
			if err != nil {
				return nil, err
			}
			return []string{"--cluster-enabled", "yes", "--cluster-config-file", fmt.Sprintf("nodes-%d.conf", port),
				"--cluster-port", strconv.Itoa(bus), "--cluster-node-timeout", "5000"}, nil
		})
		if err != nil {
			c.Kill()
			return nil, err
		}
		c.Servers = append(c.Servers, s)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	out, err := exec.Command(cli, args...).CombinedOutput()
	if err != nil {
		c.Kill()
		return nil, fmt.Errorf("redis-cli --cluster create: %w\n%s", err, out)
	}
	deadline := time.Now().Add(startTimeout)
	for _, s := range c.Servers {
		for {
			info, err := Do(s.Addr, "CLUSTER", "INFO")
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				c.Kill()
				return nil, fmt.Errorf("cluster node %s not ok within %v: %v %q", s.Addr, startTimeout, err, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return c, nil
}

// StartClusterT starts a cluster of n masters for tb (see StartCluster) and
// kills it when tb ends; it skips tb like Need when redis-server is absent.
func StartClusterT(tb testing.TB, n int) *Cluster {
	tb.Helper()
	Need(tb)
	NeedCLI(tb)
	c, err := StartCluster(tb.TempDir(), n)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = c.Kill() })
	return c
}
