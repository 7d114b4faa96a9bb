# stampsim's developer targets. CI runs .ci/run, which runs `make lint` and
# `make test`.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

MODULE := github.com/stampsim/stampsim
BENCH_COUNT ?= 6
FUZZTIME ?= 60s

.PHONY: all test lint bench bench-peers demo build fuzz clean validation-doc readme-figures scaling-doc

all: lint test

## test: every package's tests, with the race detector. validate and the
## command (whose tests run validate against real servers) go last and on
## their own: validation replays requests on the wall clock and compares
## counts that depend on that timing, so it must not share the two cores with
## the simulator's race-enabled tests running beside it. TestValidateEveryBuiltin,
## which replays every built-in against miniredis and redis-server, runs
## without the race detector: it checks that counts agree at production
## speed, and the detector's several-fold slowdown of the real side is what
## it must not measure (validate's code is race-tested by the other tests).
## It runs once per store, as two test binaries, each within go test's limit.
## deploy/kubernetes is a module of its own (so that stampsim does not
## depend on the Kubernetes API); its test checks the manifests.
TIMED_PKGS := ./validate ./cmd/stampsim
test:
	go test -race $$(go list ./... | grep -v -x -e '$(MODULE)/validate' -e '$(MODULE)/cmd/stampsim')
	cd deploy/kubernetes && go test ./...
	go test -race -p 1 -skip '^TestValidateEveryBuiltin$$' $(TIMED_PKGS)
	go test -p 1 -run '^TestValidateEveryBuiltin$$/^miniredis/' ./cmd/stampsim
	go test -p 1 -run '^TestValidateEveryBuiltin$$/^redis-server/' ./cmd/stampsim
	cd bench && go test -race ./...

## lint: fails if any file needs gofmt, if a file points outside the project (at the shared folder beside it), if go mod tidy would change go.mod or
## go.sum (of the module, of deploy/kubernetes or of bench), or if go vet or staticcheck (pinned by the tool line in go.mod) finds anything;
## bench (a module of its own) gets staticcheck too, from its own tool line.
lint:
	@out="$$(gofmt -l .)"; \
	if [ -n "$$out" ]; then echo "gofmt -l: these files need formatting:"; echo "$$out"; exit 1; fi
	@refs="$$(git grep -n --untracked -e '[.][.]/shared' || true)"; \
	if [ -n "$$refs" ]; then echo "the project must be self-contained; these point outside it:"; echo "$$refs"; exit 1; fi
	@go mod tidy -diff >/dev/null || { echo "go mod tidy would change go.mod or go.sum (run go mod tidy):"; go mod tidy -diff; exit 1; }
	go vet ./...
	go tool staticcheck ./...
	cd deploy/kubernetes && go mod tidy -diff >/dev/null || { echo "deploy/kubernetes: go mod tidy would change go.mod or go.sum:"; go mod tidy -diff; exit 1; }
	cd deploy/kubernetes && go vet ./...
	@cd bench && { go mod tidy -diff >/dev/null || { echo "go mod tidy would change bench/go.mod or bench/go.sum (run go mod tidy in bench/):"; go mod tidy -diff; exit 1; }; }
	cd bench && go vet ./... && go tool staticcheck ./...

## bench: every benchmark, BENCH_COUNT times, benchstat-readable, also saved to bench.txt.
bench:
	go test -run '^$$' -bench . -benchmem -count $(BENCH_COUNT) ./... | tee bench.txt

## demo: the default built-in scenario, comparing the lock topologies.
demo:
	go run ./cmd/stampsim run

## build: the CLI, as bin/stampsim.
build:
	go build -o bin/stampsim ./cmd/stampsim

## fuzz: every fuzz target of every package, each for FUZZTIME.
fuzz:
	@pkgs="$$(go list ./...)" || exit 1; \
	for pkg in $$pkgs; do \
		targets="$$(go test -list '^Fuzz' "$$pkg")" || exit 1; \
		for target in $$(printf '%s\n' "$$targets" | grep '^Fuzz' || true); do \
			echo "==> $$pkg $$target for $(FUZZTIME)"; \
			go test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) "$$pkg"; \
		done; \
	done

## bench-peers: stampsim's lock against redislock, redsync, go-redis/cache, sturdyc and singleflight on one
## redis-server, and the simulator against SimPy 3; raw results in bench/results/, then BENCHMARKS.md from them.
## Resumable (run it again after an interruption); SMOKE=1 for the one-repeat small version CI runs, FRESH=1 to
## start afresh. Installs redis-server and python3-simpy3 when root and missing.
bench-peers:
	scripts/bench-peers.sh

## validation-doc: docs/VALIDATION.md, with figures from validate runs against miniredis and redis-server.
validation-doc:
	scripts/validation-doc.sh

## readme-figures: the figures README shows (flash-crowd's funnel and its
## upstream calls over time), drawn again from a run of flash-crowd into
## docs/img/. The same tree draws the same bytes, so they change in a commit
## only when the run or the figures do.
README_FIGURES := funnel upstream
readme-figures:
	@tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	go run ./cmd/stampsim run flash-crowd -q --out "$$tmp" >/dev/null; \
	mkdir -p docs/img; \
	for f in $(README_FIGURES); do cp "$$tmp/$$f.png" "docs/img/flash-crowd-$$f.png"; echo "docs/img/flash-crowd-$$f.png"; done

## scaling-doc: docs/SCALING.md and docs/img/scaling/: every built-in sweep at its default size (some ten minutes
## on two cores), its figures, fitted exponents, and the two-level lock's claims checked against them.
scaling-doc:
	scripts/scaling-doc.sh

clean:
	rm -rf bin bench.txt
