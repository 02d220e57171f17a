# ferry's entry points: `make demo`, `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
REPO := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
VENV_BIN := $(REPO)/.venv/bin

# =============================================================================================
# Dependencies, fixtures and their helpers (scripts/install-deps, scripts/fixtures,
# scripts/verify-fixture-chain; layout in tests/fixtures/README.md).
# =============================================================================================
.PHONY: deps deps-test fixtures fixtures-path verify-fixtures clean-fixtures

# Debian's MariaDB packages, curl/jq/zstd/pigz, .venv with the pinned Python test clients,
# cargo-nextest. About a second when everything is already there.
deps:
	scripts/install-deps

# deps, plus Debian's chromium and chromium-driver for the console's browser tests.
deps-test:
	scripts/install-deps --browser

# Builds (or finds in .cache/fixtures/) the backup fixtures and prints their directory.
fixtures: deps
	scripts/fixtures

# Prints only the fixture directory (builds it first if needed), e.g.
#   export FERRY_FIXTURES=$(make -s fixtures-path)
fixtures-path:
	@scripts/fixtures 2>/dev/null | tail -n1

# Restores every restorable fixture chain with the stock tools and compares it with its
# expected state (about 5 s a chain).
verify-fixtures: fixtures
	fx="$$(scripts/fixtures | tail -n1)"; \
	for chain in dir xbstream tar targz zst mixed numeric alpha single samelsn; do \
	  scripts/verify-fixture-chain "$$fx/chains/$$chain"; \
	done

clean-fixtures:
	rm -rf .cache/fixtures

# =============================================================================================
# Build, test, demo (the lead extends these).
# =============================================================================================
.PHONY: test test-faults demo build

build:
	cargo build --workspace

# The whole migration on this machine (`ferry demo`): a source MariaDB and its backups in a
# local bucket, the control plane, a cluster restored through the RDS API, the writer
# instance, the data compared with the source. Runs until Ctrl-C; DEMO_ARGS=--no-wait exits.
demo: deps
	cargo build -q -p ferry
	target/debug/ferry demo --dir .cache/ferry-demo $(DEMO_ARGS)

# One test more than there are CPUs: most tests spend part of their time waiting on the
# MariaDB servers and `ferry serve` they start (about a fifth of the CPU sat idle with one test
# a CPU on the 2-core CI machine). NEXTEST_TEST_THREADS set by the caller wins.
TEST_THREADS ?= $(shell echo $$(( $$(nproc) + 1 )))

test: deps-test fixtures
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	FERRY_FIXTURES="$$(scripts/fixtures | tail -n1)" PATH="$(VENV_BIN):$$PATH" \
	  NEXTEST_TEST_THREADS="$${NEXTEST_TEST_THREADS:-$(TEST_THREADS)}" \
	  cargo nextest run --workspace

# Only the failpoint matrix (crates/cli/tests/fault_matrix.rs; also part of `make test`):
# ferry serve killed or a step failed at every named failpoint, then restarted. About 3 min.
test-faults: deps fixtures
	FERRY_FIXTURES="$$(scripts/fixtures | tail -n1)" PATH="$(VENV_BIN):$$PATH" \
	  cargo nextest run -p ferry --test fault_matrix
