package main

import (
	"os"
	osexec "os/exec"
	"testing"
	"time"
)

// runMainEnv, set in a child's environment, makes this test binary run
// stampsim's main instead of the tests, so that tests can run the real
// command line in a process of its own (to send it signals) without
// building another binary; under -race the child has the race detector
// too.
const runMainEnv = "STAMPSIM_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		return // main exits
	}
	os.Exit(m.Run())
}

// child is stampsim running in a process of its own.
type child struct {
	cmd    *osexec.Cmd
	stderr syncBuffer
	done   chan struct{} // closed when the process has exited
	exited time.Time
}

// startChild starts stampsim with args. Its stdout is the given file, or
// discarded if nil; its stderr is kept.
func startChild(t *testing.T, stdout *os.File, args ...string) *child {
	t.Helper()
	return startChildEnv(t, stdout, nil, args...)
}

// startChildEnv is startChild with env added to the child's environment.
func startChildEnv(t *testing.T, stdout *os.File, env []string, args ...string) *child {
	t.Helper()
	c := &child{cmd: osexec.Command(os.Args[0], args...), done: make(chan struct{})}
	c.cmd.Env = append(append(os.Environ(), runMainEnv+"=1"), env...)
	if stdout != nil {
		c.cmd.Stdout = stdout
	}
	c.cmd.Stderr = &c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = c.cmd.Wait() // the status is in ProcessState
		c.exited = time.Now()
		close(c.done)
	}()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

// running reports whether the child has not exited yet.
func (c *child) running() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// signal sends sig and returns when it was sent.
func (c *child) signal(t *testing.T, sig os.Signal) time.Time {
	t.Helper()
	at := time.Now()
	if err := c.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("sending %v: %v", sig, err)
	}
	return at
}

// wait waits up to limit for the child to exit and returns its exit
// status (-1 if a signal killed it) and how long after since it exited.
func (c *child) wait(t *testing.T, since time.Time, limit time.Duration) (int, time.Duration) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(limit):
		t.Fatalf("still running %v later; stderr:\n%s", limit, c.stderr.String())
	}
	return c.cmd.ProcessState.ExitCode(), c.exited.Sub(since)
}

// waitFor polls cond until it holds, failing if the child exits first or
// limit passes.
func (c *child) waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if !c.running() {
			t.Fatalf("exited with %d before %s; stderr:\n%s", c.cmd.ProcessState.ExitCode(), what, c.stderr.String())
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %v; stderr:\n%s", what, limit, c.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
