package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/stampsim/stampsim/locks"
	"github.com/stampsim/stampsim/reports"
)

// signalError is the cause of a cancellation by SIGINT or SIGTERM. It is a
// context.Canceled for errors.Is, so code that only asks whether it was
// cancelled need not know about signals, and its exit status is the one a
// shell reports for a process the signal killed: 128 plus its number, 130
// for SIGINT and 143 for SIGTERM, so that scripts see what they expect.
type signalError struct{ sig syscall.Signal }

func (e *signalError) Error() string        { return "interrupted by " + signalName(e.sig) }
func (e *signalError) Is(target error) bool { return target == context.Canceled }
func (e *signalError) exitCode() int        { return 128 + int(e.sig) }

// signalName is the signal's name as shells and kill(1) spell it.
func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// interruptible returns a context that the first SIGINT or SIGTERM cancels,
// with a *signalError as its cause, and a function to call when the command
// returns, which stops listening. See watchSignals.
func interruptible(stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	// Room for both signals, so that neither is dropped while the first is
	// being handled.
	c := make(chan os.Signal, 2)
	signal.Notify(c, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go watchSignals(c, done, cancel, stderr, os.Exit)
	return ctx, func() {
		signal.Stop(c)
		close(done)
		cancel(nil)
	}
}

// watchSignals acts on the signals that arrive on c until done is closed.
// The first cancels the work in progress through cancel, so that it stops,
// keeps what finished, cleans up (validate deletes its keys) and returns
// with the signal's exit status. A second one calls exit at once with its
// own status: the user will not wait, and gets the shell back without the
// clean-up.
func watchSignals(c <-chan os.Signal, done <-chan struct{}, cancel context.CancelCauseFunc, stderr io.Writer, exit func(int)) {
	first := true
	for {
		select {
		case <-done:
			return
		case s := <-c:
			sig, ok := s.(syscall.Signal)
			if !ok {
				sig = syscall.SIGINT
			}
			e := &signalError{sig}
			if first {
				first = false
				cancel(e)
				continue
			}
			fmt.Fprintf(stderr, "stampsim: %s again: exiting at once, without waiting for the work in progress to stop or clean up\n", signalName(sig))
			exit(e.exitCode())
			return
		}
	}
}

// interruptedError is a command cut short by a signal (or, in tests, a
// cancelled context): its message says what was stopped and what was kept,
// and it unwraps to the cancellation's cause, whose exit status it takes.
type interruptedError struct {
	cause error  // context.Cause of the command's context
	where string // "in topology two-level (2 of 3): ..."
}

func (e *interruptedError) Error() string {
	var sig *signalError
	if errors.As(e.cause, &sig) {
		return sig.Error() + " " + e.where
	}
	return "interrupted " + e.where
}

func (e *interruptedError) Unwrap() error { return e.cause }

// interrupted finishes a run that a signal cut short in topology i: the
// topologies before it finished, and partial is what it did until it
// stopped (the zero Run if it had not started). The document says it is
// incomplete; it is written to --out, with its report page (without
// figures, which could take longer to draw than a signal lets the command
// take to stop: stampsim report draws them), and printed as
// -o asks, as a complete one would be; the table shows the runs it holds. The error says
// which topology was stopped and where the results are.
func (a *app) interrupted(ctx context.Context, topos []locks.Topology, i int, res *reports.Results, partial reports.Run, f runFlags) error {
	res.Complete = false
	name := topos[i].Name
	where := fmt.Sprintf("in topology %s (%d of %d): the results are incomplete: %d of %d topologies finished", name, i+1, len(topos), i, len(topos))
	if partial.Interrupted {
		res.Runs = append(res.Runs, partial)
		at := time.Duration(partial.SimSeconds * float64(time.Second)).Round(time.Millisecond)
		where += fmt.Sprintf(", %s stopped at %v of simulated time", name, at)
	} else {
		where += fmt.Sprintf(", %s had not started", name)
	}
	if f.out != "" {
		if err := writeOut(f.out, res); err != nil {
			where += fmt.Sprintf("; and keeping them failed: %v", err)
		} else if err := a.writeReport(f.out, "results.json", res, interruptedRun); err != nil {
			where += fmt.Sprintf("; kept in %s with \"complete\": false, but the report page failed: %v", filepath.Join(f.out, "results.json"), err)
		} else {
			where += fmt.Sprintf("; kept in %s with \"complete\": false", filepath.Join(f.out, "results.json"))
		}
	}
	var err error
	if f.output != "table" || len(res.Runs) > 0 {
		err = a.print(res, f.output)
	}
	if err != nil {
		where += fmt.Sprintf("; and printing them failed: %v", err)
	}
	return &interruptedError{cause: context.Cause(ctx), where: where}
}

// validateInterrupted is the error of a validation that a signal cut
// short. err is what validate.Run returned, which names the topology and
// the side it stopped in ("running two-level for real: context canceled");
// the cancellation it ends with is left out, since the message begins with
// it, and so is the error itself when it says nothing more.
func validateInterrupted(ctx context.Context, err error) error {
	msg := err.Error()
	for _, tail := range []error{context.Cause(ctx), context.Canceled} {
		if msg == tail.Error() {
			msg = ""
		}
		msg = strings.TrimSuffix(msg, ": "+tail.Error())
	}
	where := "in validate"
	if msg != "" {
		where += ", while " + msg
	}
	return &interruptedError{cause: context.Cause(ctx), where: where}
}
