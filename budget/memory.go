package budget

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// Where the machine's memory is read from; tests point them elsewhere.
var (
	meminfoPath   = "/proc/meminfo"
	cgroupMaxPath = "/sys/fs/cgroup/memory.max"
	cgroupCurPath = "/sys/fs/cgroup/memory.current"

	addressSpaceLimit = addressSpace
)

// addressSpaceShare is the share of an address-space limit (ulimit -v)
// the heap can have: the Go runtime reserves address space well beyond
// what it uses (under a 3 GB limit, a stampede failed to allocate with
// 1.06 GB in use).
const addressSpaceShare = 1.0 / 3

// Available returns how much memory this process could take without
// pushing anything out: MemAvailable of /proc/meminfo, or what is left
// under the process's cgroup (v2) limit, or a third of its address-space
// limit (ulimit -v), when those are lower. from says which. ok is false
// when none can be read (not Linux, say), and the caller has no bound from
// the machine.
func Available() (bytes float64, from string, ok bool) {
	bytes = math.Inf(1)
	if data, err := os.ReadFile(meminfoPath); err == nil {
		if kb, found := meminfoField(data, "MemAvailable"); found {
			bytes, from = kb*1024, "the MemAvailable of "+meminfoPath
		}
	}
	if max, err := readNumber(cgroupMaxPath); err == nil {
		left := max
		if cur, err := readNumber(cgroupCurPath); err == nil {
			left = max - cur
		}
		if left < bytes {
			bytes, from = math.Max(left, 0), "what is left under the cgroup limit of "+cgroupMaxPath
		}
	}
	if as, ok := addressSpaceLimit(); ok && as*addressSpaceShare < bytes {
		bytes, from = as*addressSpaceShare, fmt.Sprintf("a third of ulimit -v, %s", Bytes(as))
	}
	return bytes, from, !math.IsInf(bytes, 1)
}

// meminfoField returns the value, in kB, of a line "Name: value kB".
func meminfoField(data []byte, name string) (float64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != name {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			return 0, false
		}
		kb, err := strconv.ParseFloat(f[0], 64)
		return kb, err == nil
	}
	return 0, false
}

// readNumber reads a file holding one number ("max", a cgroup without a
// limit, is an error).
func readNumber(path string) (float64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseFloat(strings.TrimSpace(string(data)), 64)
}

// MemoryError says that a run held more memory than its limit.
type MemoryError struct {
	Held, Limit float64
	From        string // where the limit came from
}

// Error says how much was held, and against which limit.
func (e *MemoryError) Error() string {
	from := ""
	if e.From != "" {
		from = ", " + e.From
	}
	return fmt.Sprintf("stopped: the simulation held %s of memory, more than its limit of %s%s", Bytes(e.Held), Bytes(e.Limit), from)
}

// heldMetrics are what Held reads: the memory the runtime has from the
// operating system, less the heap it has given back. It is what
// debug.SetMemoryLimit bounds, and close to the resident size the
// kernel's out-of-memory killer looks at.
var heldMetrics = []string{"/memory/classes/total:bytes", "/memory/classes/heap/released:bytes"}

// Held returns the memory the process holds, in bytes. It takes about a
// microsecond and does not stop the world.
func Held() float64 {
	s := make([]metrics.Sample, len(heldMetrics))
	for i, name := range heldMetrics {
		s[i].Name = name
	}
	metrics.Read(s)
	return float64(s[0].Value.Uint64()) - float64(s[1].Value.Uint64())
}

// Check returns a *MemoryError if the process holds more than limit bytes
// (from saying where the limit came from), nil otherwise.
func Check(limit float64, from string) error {
	if held := Held(); held > limit {
		return &MemoryError{Held: held, Limit: limit, From: from}
	}
	return nil
}

// WatchEvery is how often Watch checks: the most a stampede's heap grows
// between two checks is a few hundred megabytes.
const WatchEvery = 50 * time.Millisecond

// Watch checks, every WatchEvery of wall time until stop is called, that
// the process holds at most limit bytes, and cancels the context it
// returns when it does not, with the *MemoryError as its cause
// (context.Cause). A run given that context stops at its next check of
// the context, with an error instead of being killed by the kernel. Set
// debug.SetMemoryLimit to the same limit, so that the garbage collector
// works to stay under it and only memory the run really holds trips it.
func Watch(ctx context.Context, limit float64, from string) (watched context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(WatchEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if err := Check(limit, from); err != nil {
					cancel(err)
					return
				}
			}
		}
	}()
	return ctx, func() { close(done); cancel(nil) }
}
