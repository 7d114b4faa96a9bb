#!/usr/bin/env bash
# Runs every built-in scenario, every topology, and writes each results
# document and series file into a directory with the wall-clock fields taken
# out, so that two trees can be compared byte for byte:
#
#   scripts/compare-builtins.sh snapshot DIR   # results of this tree into DIR
#   scripts/compare-builtins.sh diff A B       # what differs between two snapshots
#
# A change that is not meant to change behaviour must leave `diff` silent.
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
snapshot)
	out=${2:?usage: $0 snapshot DIR}
	mkdir -p "$out"
	bin=$(mktemp -d)/stampsim
	go build -o "$bin" ./cmd/stampsim
	for name in $("$bin" scenarios | awk '{print $1}'); do
		dir=$(mktemp -d)
		"$bin" run "$name" -q --out "$dir" -o json >/dev/null
		# wall_seconds, the stampsim version and commit, and the Go version
		# say when and with what the run was made, not what it found.
		grep -v -E '"(wall_seconds|stampsim_version|commit|go_version)":' "$dir/results.json" >"$out/$name.results.json"
		for f in "$dir"/*.csv; do
			[ -e "$f" ] && cp "$f" "$out/$name.$(basename "$f")"
		done
		rm -rf "$dir"
		echo "$name: $(wc -c <"$out/$name.results.json") bytes of results"
	done
	;;
diff)
	a=${2:?usage: $0 diff A B}
	b=${3:?usage: $0 diff A B}
	if diff -r "$a" "$b"; then echo "identical: every built-in's results and series"; else exit 1; fi
	;;
*)
	echo "usage: $0 snapshot DIR | diff A B" >&2
	exit 2
	;;
esac
