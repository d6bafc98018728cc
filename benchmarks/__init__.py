"""Benchmarks: each script prints its figures as a table (or JSON with --json) next to a baseline from the same run.

Run one with `python -m benchmarks.<name>`, or all of them with `make bench`.
"""

from chalicelib import capture

# Handlers' loggers bind sys.stdout when their module is imported: route it through the per-thread capture
# first, so the local cloud's dispatch and `common.silenced()` keep handler log lines off the figures.
capture.install()
