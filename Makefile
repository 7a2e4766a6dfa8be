# pyspec: two commands on a fresh machine.
#   make demo   - create .venv, install, build (release), run the demo -> out/
#   make test   - create .venv, install test+parity extras, cargo tests, fuzz build, pytest
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
EXTRAS ?= test,parity,demo
export HYPOTHESIS_PROFILE ?= ci

.PHONY: all venv build demo test test-rust test-python fuzz-build fuzz lint format bench clean

all: build

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip "maturin>=1.5,<2"

venv: $(VENV)/bin/python

# Builds the extension in release mode into the package (editable) and
# installs the runtime dependencies plus the requested extras.
build: venv
	$(VENV)/bin/maturin develop --release -q -E $(EXTRAS)

demo: EXTRAS = demo
demo: build
	$(PY) -m pyspec.cli demo --output out

test: build test-rust fuzz-build lint test-python

test-rust:
	cargo test --workspace --release

fuzz-build:
	cd fuzz && RUSTC_BOOTSTRAP=1 cargo build --release --bins

# Runs every fuzz target for FUZZ_SECONDS each (needs cargo-fuzz; installed if missing).
FUZZ_SECONDS ?= 60
fuzz:
	command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
	cd fuzz && for t in $$(RUSTC_BOOTSTRAP=1 cargo fuzz list); do \
	  RUSTC_BOOTSTRAP=1 cargo fuzz run $$t -- -max_total_time=$(FUZZ_SECONDS) || exit 1; done

lint: venv
	cargo fmt --all --check
	cargo clippy --workspace --release --all-targets -- -D warnings
	$(VENV)/bin/ruff check pyspec tests benchmarks
	$(VENV)/bin/ruff format --check pyspec tests benchmarks

format: venv
	cargo fmt --all
	$(VENV)/bin/ruff format pyspec tests benchmarks
	$(VENV)/bin/ruff check --fix pyspec tests benchmarks

test-python:
	$(PY) -m pytest -q tests

bench: build
	$(PY) benchmarks/bench_drizzle.py

clean:
	rm -rf target fuzz/target out .pytest_cache .hypothesis
