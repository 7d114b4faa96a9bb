#!/usr/bin/env bash
# Writes docs/SCALING.md and its figures under docs/img/scaling/: runs every
# built-in sweep at its default size (a few minutes each on two cores, some
# ten minutes in all), then internal/scalingdoc, which draws each sweep's
# figures again from its sweep.json, copies them as PNG, and checks the
# two-level lock's claims against the fitted exponents. Run it with
# `make scaling-doc`.
#
# SCALING_DIR=DIR keeps the sweeps' output directories there (and resumes
# them, if the same build made them), for a look at their index.html or to
# write the page again without running the sweeps; by default they go to a
# temporary directory, removed at the end. SCALING_JOBS sets -j (default:
# the cores).
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin=$tmp/stampsim
go build -o "$bin" ./cmd/stampsim
work=${SCALING_DIR:-$tmp/sweeps}
mkdir -p "$work"
jobs=${SCALING_JOBS:-$(nproc)}

for name in $("$bin" sweeps | awk '{print $1}'); do
	start=$(date +%s)
	"$bin" sweep "$name" -q -j "$jobs" --no-plots --resume --out "$work/$name" >"$work/$name.txt"
	echo "$name: $(($(date +%s) - start)) s"
done

go run ./internal/scalingdoc -in "$work" -out docs/SCALING.md -img docs/img/scaling \
	-generated "by \`make scaling-doc\` on $(date -u +%Y-%m-%d) ($(go version | cut -d' ' -f3), $(nproc) cores)"
echo "wrote docs/SCALING.md"
