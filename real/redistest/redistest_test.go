package redistest

import (
	"net"
	"testing"
)

// Between FreePort and the server's bind, another process may take the port
// (tests in other packages start servers at the same time). Start must then
// pick another port rather than fail, and must never take a server of
// someone else's that answers on the port for its own.
func TestStartWhenThePortIsTaken(t *testing.T) {
	Need(t)
	for _, tc := range []struct {
		name string
		take func(t *testing.T) int // takes a port and returns it
	}{
		{"by a listener", func(t *testing.T) int {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			return l.Addr().(*net.TCPAddr).Port
		}},
		{"by another redis-server", func(t *testing.T) int {
			return StartT(t).Port
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			taken := tc.take(t)
			handed := 0
			freePort = func() (int, error) {
				handed++
				if handed == 1 {
					return taken, nil
				}
				return FreePort()
			}
			t.Cleanup(func() { freePort = FreePort })
			s, err := Start(t.TempDir(), 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Kill() })
			if s.Port == taken {
				t.Fatalf("Start took port %d, which was taken", taken)
			}
			pid, err := processID(s.Addr, probeTimeout)
			if err != nil {
				t.Fatal(err)
			}
			if s.cmd == nil || pid != s.cmd.Process.Pid {
				t.Fatalf("the server on %s is pid %d, not the one Start started", s.Addr, pid)
			}
			if handed != 2 {
				t.Errorf("Start asked for %d ports, want 2 (the taken one, then another)", handed)
			}
		})
	}
}
