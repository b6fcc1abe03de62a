# The two commands a fresh machine needs: `make demo` and `make test`.
.PHONY: setup setup-tests demo test lint bench

# The demo needs no database server (SQLite, the in-process bus); the tests and benchmarks
# need the local PostgreSQL and Redis, installed and started by `scripts/setup --tests`.
setup:
	@scripts/setup

setup-tests:
	@scripts/setup --tests

demo: setup
	.venv/bin/tamas demo

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy tamas ivr agi_scripts popup_server prompts integrations dialer interactions customer_file supervisors cases messaging bench

test: setup-tests lint
	.venv/bin/tamas sandbox up
	.venv/bin/tamas prompts build
	.venv/bin/pytest -q

bench: setup-tests
	.venv/bin/python -m bench
