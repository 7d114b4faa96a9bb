package main

import (
	"fmt"
	"io"
	"strings"
)

// printError writes err to w, each of its lines after "stampsim: ": every
// mistake of a scenario file with several reads like a message of its own,
// and editors jump to each file:line.
func printError(w io.Writer, err error) {
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(w, "stampsim: %s\n", line)
	}
}
