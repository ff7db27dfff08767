# Thin wrappers around scripts/. Examples:
#   make run ARGS="index ~/Pictures"
#   make test ARGS="-k search"
.PHONY: all setup run test lint bench clean

ARGS ?=

all: test

setup:
	scripts/setup test

run:
	scripts/run $(ARGS)

test:
	scripts/test $(ARGS)

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

# Runs every bench/*.py with the venv's Python; they print numbers (see README).
bench: setup
	@set -e; found=; for f in bench/*.py; do [ -e "$$f" ] || continue; found=1; \
	  echo "== $$f"; .venv/bin/python "$$f" $(ARGS); done; \
	  [ -n "$$found" ] || echo "bench: no benchmarks in bench/ yet"

# Removes the virtualenv and build artefacts only.
clean:
	rm -rf .venv build dist *.egg-info .pytest_cache .ruff_cache bench/out
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
