package rawlog

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Machine says where and when a session measured: every table row of
// BENCHMARKS.md names it.
type Machine struct {
	// Cores is runtime.NumCPU, the cores the process may use.
	Cores int `json:"cores"`
	// CPU is the model name of the first processor in /proc/cpuinfo.
	CPU string `json:"cpu"`
	// GoVersion is the Go toolchain of the bench binary.
	GoVersion string `json:"go_version"`
	// OS is GOOS/GOARCH.
	OS string `json:"os"`
	// Start is when the session began, in UTC (RFC 3339).
	Start string `json:"start"`
	// LoadAvg is /proc/loadavg's 1-minute load when the session began: a
	// load near or above Cores says that other work shared the machine.
	LoadAvg string `json:"loadavg"`
	// Redis is redis-server --version, when the session used it.
	Redis string `json:"redis,omitempty"`
	// Python is the interpreter and SimPy version, when the session used
	// them.
	Python string `json:"python,omitempty"`
}

// ThisMachine describes the machine the process runs on, now.
func ThisMachine(now time.Time) Machine {
	m := Machine{
		Cores:     runtime.NumCPU(),
		CPU:       cpuModel(),
		GoVersion: runtime.Version(),
		OS:        runtime.GOOS + "/" + runtime.GOARCH,
		Start:     now.UTC().Format(time.RFC3339),
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			m.LoadAvg = f[0]
		}
	}
	return m
}

// RedisVersion returns the first line of redis-server --version, or "".
func RedisVersion(bin string) string {
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown (no /proc/cpuinfo)"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown (no model name in /proc/cpuinfo)"
}
