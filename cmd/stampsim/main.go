// Command stampsim runs cache-stampede scenarios in the simulator and
// compares lock topologies: `stampsim run` prints a table of what each
// topology did, or the results document as JSON.
//
// Exit status: 0 on success, 2 for bad input (a scenario or sweep file
// with a mistake, an unknown name, a bad flag or argument, an output
// directory that holds another sweep), 3 when `stampsim
// validate` finds the simulation and the real run disagree, 130 when
// interrupted by SIGINT and 143 by SIGTERM (as shells report a process the
// signal killed), 1 for anything else. No panic reaches the user: it is
// reported in one line (set STAMPSIM_TRACEBACK=1 to see the stack).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/stampsim/stampsim/scenarios"
	"github.com/stampsim/stampsim/sweeps/runner"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the command line args, writing to stdout and stderr, and returns
// the exit status. SIGINT and SIGTERM cancel the work in progress, which
// stops within a second, keeps what finished and returns 130 or 143; a
// second signal exits at once (see interruptible).
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := interruptible(stderr)
	defer stop()
	return newApp(stdout, stderr).main(ctx, args)
}

// usageError is bad input on the command line: exit status 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// exitCode maps an error to the exit status.
func exitCode(err error) int {
	var se *scenarios.Error
	var nf *scenarios.NotFoundError
	var ue *usageError
	var sig *signalError
	var ie *runner.InputError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &sig):
		return sig.exitCode()
	case errors.As(err, &se), errors.As(err, &nf), errors.As(err, &ue), errors.As(err, &ie):
		return 2
	case errors.Is(err, errDisagree):
		return 3
	}
	return 1
}

// main executes the command line and turns its outcome, a panic included,
// into an exit status and at most one line on stderr.
func (a *app) main(ctx context.Context, args []string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(a.stderr, "stampsim: internal error: %v (this is a bug; STAMPSIM_TRACEBACK=1 shows where)\n", r)
			if os.Getenv("STAMPSIM_TRACEBACK") != "" {
				a.stderr.Write(debug.Stack())
			}
			code = 1
		}
	}()
	root := a.rootCommand()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	if !a.started {
		// cobra failed before any command ran: an unknown command or flag,
		// or the wrong number of arguments.
		err = &usageError{err}
	}
	printError(a.stderr, err)
	if !a.started {
		fmt.Fprintf(a.stderr, "Run 'stampsim --help' for usage.\n")
	}
	return exitCode(err)
}
