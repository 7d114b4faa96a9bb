//go:build race

package main

// raceEnabled is set under the race detector, which makes the simulator
// about ten times slower; the end-to-end tests then run fewer topologies.
const raceEnabled = true
