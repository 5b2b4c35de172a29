# The two set-up commands of the README: `make run` and `make test`.
# Both create .venv when missing and install the project with pinned ranges.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run console test tools lint check bench faults clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/warning run

# The operations console beside the daemon; a first look creates `admin` (password printed once).
console: $(STAMP)
	$(BIN)/warning console --first-look

# Python code the linters read: bench/ and scripts/ join once they hold code.
CODE := warning tests $(wildcard bench scripts)

lint: $(STAMP)
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy --strict warning

# The engine decides who is warned: every branch of it must be exercised by its tests.
ENGINE := warning/rules/engine.py,warning/rules/events.py,warning/rules/judge.py,warning/rules/incremental.py

# The real local peers the tests talk to (mosquitto, systemd-analyze, chromium): installed
# when missing and run as root, else one line says what to install, before anything runs.
tools:
	scripts/test-tools --install

test: tools lint
	$(BIN)/python -m coverage run --branch --source=warning.rules -m pytest -q tests/engine
	$(BIN)/python -m coverage report --fail-under=100 --show-missing --include=$(ENGINE)
	$(BIN)/python -m pytest

# The benchmarks of BENCHMARKS.md (about 50 minutes with the 30-minute soak; not part of
# `test`). JSON result lines go to stdout, the human summary to stderr.
# `make bench SOAK_MINUTES=5` shortens the soak.
SOAK_MINUTES ?= 30
bench: $(STAMP)
	$(BIN)/python -m bench.evaluate
	$(BIN)/python -m bench.scale
	$(BIN)/python -m bench.fanout
	$(BIN)/python -m bench.latency --contacts 1000
	$(BIN)/python -m bench.latency --contacts 100000
	$(BIN)/python -m bench.latency --contacts 750000
	$(BIN)/python -m bench.poll_latency
	$(BIN)/python -m bench.footprint
	$(BIN)/python -m bench.soak --minutes $(SOAK_MINUTES)
	$(BIN)/python -m bench.reach

check: $(STAMP)
	$(BIN)/warning check

clean:
	rm -rf $(VENV) var build *.egg-info
