"""Benchmarks: each script prints its figures as a table (or JSON with --json) next to a baseline from the same run.

Run one with `python -m benchmarks.<name>`, or all of them with `make bench`.
"""
