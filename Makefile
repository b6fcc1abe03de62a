# The two commands a fresh machine needs: `make demo` and `make test`.
.PHONY: setup demo test lint bench

setup:
	@scripts/setup

demo: setup
	.venv/bin/tamas demo

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy tamas ivr agi_scripts popup_server prompts integrations dialer interactions customer_file bench

test: lint
	.venv/bin/tamas sandbox up
	.venv/bin/tamas prompts build
	.venv/bin/pytest -q

bench: setup
	.venv/bin/python -m bench
