# Life Strands: `make run` serves on http://127.0.0.1:8000, `make test` runs the whole suite.
# Both run `make setup` first, which is idempotent and instant once its cache is filled.
SHELL := /bin/bash
LLAMA_CPP_PYTHON_VERSION := 0.3.36
export LIFESTRANDS_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/lifestrands
LLAMA_PREFIX := $(LIFESTRANDS_CACHE)/llama-$(LLAMA_CPP_PYTHON_VERSION)
export PKG_CONFIG_PATH := $(LLAMA_PREFIX)/lib/pkgconfig$(if $(PKG_CONFIG_PATH),:$(PKG_CONFIG_PATH))
# The binary finds libllama and libggml* in the cache without LD_LIBRARY_PATH.
SWIFT_FLAGS := -Xlinker -rpath -Xlinker $(LLAMA_PREFIX)/lib
BIN := .build/debug/lifestrands
# Every target that talks to a server or to the database uses the release build `make run` made, when
# there is one, so that `make seed` or `make health-check` after `make run` does not build a debug binary.
CLI = $(if $(wildcard .build/release/lifestrands),.build/release/lifestrands,$(BIN))
CLI_BUILD = $(if $(wildcard .build/release/lifestrands),,build)
# A release binary looks for its libraries in ../lib beside it first, as `make prod-build` lays them out.
INSTALL_RPATH := -Xlinker -rpath -Xlinker '$$ORIGIN/../lib'
PORT ?= 8000

.PHONY: setup build release run test test-unit test-integration seed migrate npc-list health-check model-status model-switch model-reload bench-model bench-summary bench-memory bench-vectors profile-stream clean \
	dev-up dev-down dev-restart logs psql monitor backup restore reset-queues prod-build test-load test-coverage

setup:
	@bash scripts/setup.sh

build: setup
	swift build $(SWIFT_FLAGS)

release: setup
	swift build -c release $(INSTALL_RPATH) $(SWIFT_FLAGS)

run: release
	.build/release/lifestrands serve

# Both tiers: every suite is tagged `.unit` or `.integration` (Tests/TestSupport/TestTiers.swift).
test: test-unit test-integration

# The pure tests (domain, scheduler, swap policy, parsers, SQLite store): no model, binary, Python or browser.
test-unit: setup
	LIFESTRANDS_TEST_TIER=unit swift test $(SWIFT_FLAGS)

# The tests that need the models, the built binary, Python or Chromium (setup --test adds the last two).
# One at a time: each has both cores to itself, and no suite's wait starves another's.
test-integration:
	@bash scripts/setup.sh --test
	LIFESTRANDS_TEST_TIER=integration swift test $(SWIFT_FLAGS) --no-parallel

seed: $(CLI_BUILD)
	$(CLI) seed samples/npcs.json

migrate: $(CLI_BUILD)
	$(CLI) migrate

npc-list: $(CLI_BUILD)
	$(CLI) npc list

# Every component of the running server: database, models, embedder, summary worker and queue, monitor.
health-check: $(CLI_BUILD)
	@$(CLI) health

# PostgreSQL and the six services in the background (mode=embedded: one server on SQLite), pids and
# logs in run/. `make logs s=chat` follows one service's log, `make psql` opens a shell on the database.
DEV = DEV_MODE=$(or $(mode),distributed) bash scripts/dev.sh
dev-up: release
	@$(if $(filter embedded,$(mode)),,bash scripts/setup.sh --postgres >/dev/null &&) $(DEV) up

dev-down:
	@$(DEV) down

dev-restart: release
	@$(if $(filter embedded,$(mode)),,bash scripts/setup.sh --postgres >/dev/null &&) $(DEV) restart

logs:
	@$(DEV) logs $(s)

psql:
	@$(DEV) psql

monitor: $(CLI_BUILD)
	@echo "admin panel: http://127.0.0.1:$(PORT)/admin/"
	@echo "metrics:     http://127.0.0.1:$(PORT)/metrics (Prometheus: ops/prometheus.yml, Grafana: ops/grafana-dashboard.json)"
	@echo "alerts:      http://127.0.0.1:$(PORT)/api/monitor/alerts"
	@$(CLI) health || true

# A consistent copy of the database while the server runs, in backups/.
backup: $(CLI_BUILD)
	@LIFESTRANDS_BIN=$(CLI) $(DEV) backup

# make restore file=backups/….sqlite [stop=yes]: refuses while the dev server runs unless stop=yes.
restore: release
	@$(DEV) restore "$(file)" "$(stop)"

# Deletes queued and dead summary jobs (never running ones) after asking; `make reset-queues yes=1` does not ask.
reset-queues: $(CLI_BUILD)
	@$(CLI) queues reset $(if $(yes),--yes)

# The release binary with its resources, libraries, .env.example and ops/ files, in dist/lifestrands.
prod-build: release
	@bash scripts/prod-build.sh

model-status: $(CLI_BUILD)
	@$(CLI) model status

model-switch: $(CLI_BUILD)
	@$(CLI) model switch $(type)

model-reload: $(CLI_BUILD)
	@$(CLI) model reload $(type)

# Which model fills the conversation-analysis schema better (docs/summary-model.md).
bench-summary: release
	python3 scripts/bench_summary.py --lifestrands .build/release/lifestrands --markdown docs/summary-model.md

# What NPCs learn and recall (docs/memory.md): 40 facts told by 2 players to 2 NPCs, then asked back
# in other words; the build before grounded analysis (scripts/bench-memory-baseline.sh) beside this one.
bench-memory: release
	baseline="$$(bash scripts/bench-memory-baseline.sh)" && python3 scripts/bench_memory.py \
		--lifestrands .build/release/lifestrands --baseline "$$baseline" --markdown docs/memory.md

# Top-10 vector search over 100k memories: pgvector HNSW and exact beside the embedded SIMD scan,
# p50/p99 and recall@10, on a PostgreSQL the script starts and stops.
bench-vectors: release
	bash scripts/bench-vectors.sh $(if $(count),--count $(count))

# Where a streamed token's time goes, ours beside llama-server (built for bench-model quick=1): perf samples
# of one conversation's replies, grouped by part of the path from the engine to the socket, in ms a token.
profile-stream: release
	@bash scripts/bench-setup.sh --quick
	bash scripts/profile-stream.sh --llama-server $(LIFESTRANDS_CACHE)/llama-server-$(LLAMA_CPP_PYTHON_VERSION)/bin/llama-server

# Side by side with llama.cpp's own tools and server and llama-cpp-python's server (built into the cache
# on first use, for comparison only); prints tables, writes them to docs/benchmarks.md and says how long it took.
# quick=1: the conversation workloads only (8 players, 50 players with 5 NPCs, summaries beside chat), ours
# against llama-server -np 8, in under 10 minutes.
bench-model: release
	@bash scripts/bench-setup.sh $(if $(quick),--quick)
	python3 scripts/bench_model.py --lifestrands .build/release/lifestrands \
		--tools $(LIFESTRANDS_CACHE)/$(if $(quick),llama-server,bench-llama)-$(LLAMA_CPP_PYTHON_VERSION)/bin \
		--python $(LIFESTRANDS_CACHE)/bench-python-$(LLAMA_CPP_PYTHON_VERSION)/bin/python $(if $(quick),--quick) \
		--model $(LIFESTRANDS_CACHE)/models/SmolLM2-135M-Instruct.Q4_1.gguf --markdown docs/benchmarks.md

# A bounded loopback load test against a release server: 50 players, 3 streamed turns each, 5 ending part way
# so summaries run alongside; prints TTFT p50/p95/p99, tokens/s, errors, RSS and summary jobs. At most 10 minutes.
test-load: release
	@bash scripts/setup.sh --test
	$(LIFESTRANDS_CACHE)/test-client/bin/python scripts/load_test.py --lifestrands .build/release/lifestrands \
		--players $(or $(players),50) --turns $(or $(turns),3) --limit 600

# llvm-cov line coverage per module: the unit tier by default, `tier=integration` or `tier=all` for more.
# Instrumented in its own build folder, so the normal build is left as it is.
COVERAGE_FLAGS := $(SWIFT_FLAGS) --scratch-path .build/coverage --enable-code-coverage
test-coverage: setup
	$(if $(filter integration all,$(tier)),@bash scripts/setup.sh --test)
	LIFESTRANDS_TEST_TIER=$(if $(filter all,$(tier)),,$(or $(tier),unit)) swift test $(COVERAGE_FLAGS) --no-parallel
	@python3 scripts/coverage_table.py "$$(swift test $(COVERAGE_FLAGS) --show-codecov-path)"

# Build outputs and run folders; never data/, backups/ or the model cache.
clean:
	rm -rf .build run dist
