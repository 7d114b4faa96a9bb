package main

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/stampsim/stampsim/scenarios"
)

// topologyNames returns the topologies --topology names, in order and each
// once, whether given as "-t a,b" or as "-t a -t b"; def when it names
// none.
func topologyNames(flag, def []string) []string {
	var names []string
	for _, f := range flag {
		for _, n := range strings.Split(f, ",") {
			if n = strings.TrimSpace(n); n != "" && !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		return def
	}
	return names
}

// makeOutDir creates the directory --out names, if need be. A value that
// cannot be one (an existing file, a path through a file, a place that
// cannot be written) is bad input, found before anything runs.
func makeOutDir(dir string) error {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return usagef("--out %s: is a file; --out names a directory, for the report page and its files", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return usagef("--out %s: cannot create the directory: %v", dir, err)
	}
	return nil
}

// redisURL returns the server --redis names as a URL: a URL as given
// (redis://, rediss://, unix://), or host:port, the way the example
// service takes it, as redis://host:port. Anything else is bad input.
func redisURL(v string) (string, error) {
	u := v
	if !strings.Contains(v, "://") {
		if err := checkAddr(v); err != nil {
			return "", usagef("--redis %s: want host:port or a URL such as redis://host:port/db (%v)", v, err)
		}
		u = "redis://" + v
	}
	if _, err := redis.ParseURL(u); err != nil {
		return "", usagef("--redis %s: %s", v, strings.TrimPrefix(err.Error(), "redis: "))
	}
	return u, nil
}

// clusterAddrs returns the addresses --redis-cluster lists, each host:port.
func clusterAddrs(v string) ([]string, error) {
	var addrs []string
	for _, a := range strings.Split(v, ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		if err := checkAddr(a); err != nil {
			return nil, usagef("--redis-cluster %s: %s: want host:port (%v)", v, a, err)
		}
		addrs = append(addrs, a)
	}
	if len(addrs) == 0 {
		return nil, usagef("--redis-cluster %q: want comma-separated host:port addresses", v)
	}
	return addrs, nil
}

// checkAddr checks that a is host:port with a port number.
func checkAddr(a string) error {
	_, port, err := net.SplitHostPort(a)
	if err != nil {
		return err
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return errors.New("the port must be a number from 1 to 65535")
	}
	return nil
}

// applySeriesStep gives sc the series step --series-step names (flag, ""
// when not given), checked as a scenario's series_step is, and, when the
// run keeps series (--out), writes the step it will use into sc, so that
// the results document says it and replays with it. The series are kept
// only with --out, so --series-step without it is a mistake.
func applySeriesStep(sc *scenarios.Scenario, flag, out string) error {
	if flag != "" {
		if out == "" {
			return usagef("--series-step %s: the series are kept only with --out DIR", flag)
		}
		d, err := scenarios.ParseDuration(flag)
		if err == nil {
			err = scenarios.CheckSeriesStep(d, sc.Duration)
		}
		if err != nil {
			return usagef("--series-step %s: %v", flag, err)
		}
		sc.SeriesStep = d
	}
	if out != "" {
		sc.SeriesStep = scenarios.Duration(sc.Step())
	}
	return nil
}
