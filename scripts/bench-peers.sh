#!/usr/bin/env bash
# make bench-peers: stampsim against what users would pick instead (issue
# 22). Installs what it needs when run as root and it is missing
# (redis-server; python3-simpy3, Debian's SimPy 3 -- python3-simpy is the
# old SimPy 2), saying so; runs bench/'s two suites, which append their raw
# measurements to bench/results/ (bench/results/smoke/ with SMOKE=1) and go
# on where an interrupted run stopped; then writes BENCHMARKS.md and
# bench/figures/ from the raw files alone.
#
#   make bench-peers                 the full run: 5 repeats, every size (long: run it on a quiet machine)
#   SMOKE=1 make bench-peers         one repeat at small sizes (what CI runs; about a minute)
#   FRESH=1 make bench-peers         throw the raw files of that run away first, and measure afresh
#
# Every step runs under nice -n 19, so that it yields to other work.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

has_simpy3() {
	local py
	for py in ${PYTHON:-} python3 /usr/bin/python3; do
		if "$py" -c 'import simpy, sys; sys.exit(int(simpy.__version__.split(".")[0]) < 3)' 2>/dev/null; then
			return 0
		fi
	done
	return 1
}

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
has_simpy3 || missing+=(python3-simpy3)
if ((${#missing[@]} > 0)); then
	if [ "$(id -u)" != 0 ]; then
		echo "bench-peers needs ${missing[*]}: install them (apt-get install ${missing[*]}) or run as root, which installs them" >&2
		exit 1
	fi
	step "installing ${missing[*]} with apt-get (bench-peers needs them)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
else
	step "redis-server and SimPy 3 are installed; nothing to install"
fi

flags=()
results=bench/results
if [ "${SMOKE:-0}" = 1 ]; then
	flags+=(-smoke)
	results=bench/results/smoke
fi
if [ "${FRESH:-0}" = 1 ]; then
	step "FRESH=1: removing the raw files in $results"
	rm -f "$results/peers.jsonl" "$results/sim.jsonl" "$results/heap-hold.txt"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
step "building bench/cmd/bench"
(cd bench && nice -n 19 go build -o "$tmp/bench" ./cmd/bench)

cd bench
step "the lock against the Go libraries (raw: $results/peers.jsonl)"
nice -n 19 "$tmp/bench" peers "${flags[@]}"
step "the simulator against SimPy 3 (raw: $results/sim.jsonl)"
nice -n 19 "$tmp/bench" sim "${flags[@]}"
step "BENCHMARKS.md and bench/figures/ from the raw files"
nice -n 19 "$tmp/bench" report
echo "wrote BENCHMARKS.md"
