"""Benchmarks: each module measures one hot path against the real thing (PostgreSQL, Redis,
Asterisk) and prints its figures beside a baseline measured in the same run.

`python -m bench` runs them all; `python -m bench NAME [options]` runs one.
"""
