# PubSubX: make help lists the targets.
GO        ?= go
PORT      ?= 12000
ENGINE    ?=
FUZZTIME  ?= 30s
BENCHTIME ?= 1s
COUNT     ?= 5
ADDR      ?= 127.0.0.1:$(PORT)
DIR       ?=
LOADGEN_FLAGS ?=
COMPARE_FLAGS ?=
BIN       := bin
LOADGEN   := $(BIN)/pubsubx-loadgen
COMPARE   := $(LOADGEN) compare -server-bin $(BIN)/pubsubx-server $(COMPARE_FLAGS)

ENGINE_FLAG := $(if $(ENGINE),-engine $(ENGINE),)

.PHONY: help setup build run test race short fuzz bench loadgen compare report lint fmt vet cross clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

setup: ## install what builds and tests need (Debian/Ubuntu: mosquitto, mosquitto-clients, tmux; Go modules)
	@if command -v apt-get >/dev/null; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq mosquitto mosquitto-clients tmux >/dev/null; \
	else echo "setup: no apt-get here; install mosquitto and mosquitto-clients yourself for the interop tests"; fi
	$(GO) mod download
	@$(GO) version

build: ## build the server, client and loadgen into ./bin
	$(GO) build -o $(BIN)/ ./cmd/...

run: ## build and run the server on PORT (default 12000; ENGINE=epoll|netpoll|goroutine)
	$(GO) build -o $(BIN)/ ./cmd/pubsubx-server
	$(BIN)/pubsubx-server $(ENGINE_FLAG) $(PORT)

test: ## run every test with the race detector (what CI runs)
	$(GO) test -race -count=1 -timeout 15m ./...

race: test ## same as test: every test under the race detector

short: ## quick tests without the race detector
	$(GO) test -count=1 -short ./...

fuzz: ## fuzz the packet parser, then a live broker connection, FUZZTIME each (default 30s)
	$(GO) test ./core/mqtt -run '^$$' -fuzz FuzzParser -fuzztime $(FUZZTIME)
	$(GO) test ./core/broker -run '^$$' -fuzz FuzzConnectionInput -fuzztime $(FUZZTIME)

bench: ## engine fan-out benchmarks, COUNT runs, compared with benchstat (bench.txt)
	$(GO) test ./engines/ -run '^$$' -bench BenchmarkFanout -benchtime $(BENCHTIME) -count $(COUNT) | tee bench.txt
	$(GO) run golang.org/x/perf/cmd/benchstat@latest -col /engine bench.txt

loadgen: build ## one scenario against a running broker at ADDR (default 127.0.0.1:PORT; LOADGEN_FLAGS=...)
	$(LOADGEN) run -addr $(ADDR) $(LOADGEN_FLAGS)

compare: build ## every engine and mosquitto, each scenario into results/DATE_NAME (COMPARE_FLAGS=...)
	$(COMPARE) -name fanout-100-max -scenario fanout -subs 100 -mode max
	$(COMPARE) -name fanout-1000-max -scenario fanout -subs 1000 -mode max -window 1000000
	$(COMPARE) -name fanout-1000-max-window64k -scenario fanout -subs 1000 -mode max -window 65536
	$(COMPARE) -name fanout-100-at-1000 -scenario fanout -subs 100 -rate 1000
	$(COMPARE) -name fanout-100-at-200 -scenario fanout -subs 100 -rate 200
	$(COMPARE) -name churn-100-at-1000 -scenario churn -subs 100 -rate 1000
	$(COMPARE) -name idle-19000 -scenario idle -conns 19000 -idle-subscribe -connect-rate 4000 -rate 1000

report: ## regenerate DIR's report.md and plots from its run.json (DIR=results/...)
	@test -n "$(DIR)" || { echo "usage: make report DIR=results/DATE_NAME"; exit 2; }
	$(GO) run ./cmd/pubsubx-loadgen report $(DIR)

lint: fmt vet ## gofmt and go vet

fmt:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

cross: ## check that the client builds for Windows and macOS and the module for both
	GOOS=windows $(GO) build -o /dev/null ./cmd/pubsubx-client
	GOOS=darwin $(GO) build -o /dev/null ./cmd/pubsubx-client
	GOOS=windows $(GO) build ./...
	GOOS=darwin $(GO) build ./...

clean: ## remove build output (results/ stays)
	rm -rf $(BIN) bench.txt
