// Command bench runs stampsim's comparisons with what users would pick
// instead, and writes BENCHMARKS.md from what they measured:
//
//	bench peers  [-smoke] [-out FILE]   the lock against the Go libraries, on one redis-server
//	bench sim    [-smoke] [-out FILE]   the simulator against SimPy 3, validate, the bare heap
//	bench report [-results DIR] [-doc FILE] [-figures DIR]
//
// peers and sim append to their raw file as each measurement ends and, run
// again with the same plan, go on where they stopped. The report is made from
// the raw files alone. A bad flag or a malformed raw file exits with status
// 2, a failed measurement with 1.
//
// It must not be imported; `make bench-peers` runs it.
package main

import (
	"errors"
	"fmt"
	"os"
)

// usageError is a mistake in how the command was called: exit status 2.
type usageError struct{ error }

func main() {
	err := run(os.Args[1:])
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "bench:", err)
	var u usageError
	if errors.As(err, &u) {
		os.Exit(2)
	}
	os.Exit(1)
}

func run(args []string) error {
	if len(args) == 0 {
		return usageError{errors.New("usage: bench peers|sim|report [flags]")}
	}
	switch args[0] {
	case "peers":
		return runPeers(args[1:])
	case "sim":
		return runSim(args[1:])
	case "report":
		return runReport(args[1:])
	}
	return usageError{fmt.Errorf("unknown subcommand %q (want peers, sim or report)", args[0])}
}
