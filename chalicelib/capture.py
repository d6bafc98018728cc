"""Capture what a task prints, per thread, while still writing it through (Lambda sends stdout to CloudWatch).

Several local executions run in threads of one process, so `contextlib.redirect_stdout` (process-wide)
would mix their output; this tee keeps one buffer per thread.

Our handlers' log lines (chalicelib.logs) go through the same per-thread captures, and where no capture
withholds them, to `log_sink()`: stdout in Lambda (CloudWatch), stderr anywhere else. A CLI process runs
handlers in-process (`replay` runs the trigger's decide-and-start path, `run` a whole local cloud), and its
stdout belongs to the command: with `--json`, exactly one JSON document.
"""

from __future__ import annotations

import io
import os
import sys
import threading
from contextlib import contextmanager
from typing import Any, Iterator

_local = threading.local()
_install_lock = threading.Lock()
_tee: _ThreadTee | None = None


class _ThreadTee(io.TextIOBase):
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def write(self, text: str) -> int:
        tee(text, self.inner)
        return len(text)

    def flush(self) -> None:
        self.inner.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def tee(text: str, inner: Any) -> None:
    """Write `text` to this thread's capture buffers, and to `inner` unless a capture withholds it."""
    frames = getattr(_local, "frames", None) or []
    for buf, _ in frames:
        buf.write(text)
    if all(passthrough for _, passthrough in frames):
        inner.write(text)


def in_lambda() -> bool:
    """Is this process a Lambda function's runtime (which sets AWS_LAMBDA_FUNCTION_NAME)?"""
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def log_sink() -> Any:
    """Where log lines go when no capture withholds them: in Lambda, stdout as it was before the tee (Lambda
    sends it to CloudWatch); elsewhere stderr as it is now (a command's stdout is its output)."""
    if in_lambda():
        return _tee.inner if _tee is not None else sys.stdout
    return sys.stderr


def write_log(text: str) -> int:
    """A log line: to this thread's captures (a local Lambda invocation keeps its own), then to `log_sink()`."""
    tee(text, log_sink())
    return len(text)


def install() -> None:
    """Route sys.stdout through the per-thread tee (idempotent)."""
    global _tee
    with _install_lock:
        if not isinstance(sys.stdout, _ThreadTee):
            sys.stdout = _ThreadTee(sys.stdout)
        if _tee is None:
            _tee = sys.stdout


def stream() -> Any:
    """Where handler output goes: the per-thread tee once installed (even if sys.stdout was swapped since,
    e.g. by a CLI test runner), else sys.stdout. Log lines use `write_log` instead."""
    return _tee if _tee is not None else sys.stdout


@contextmanager
def captured(passthrough: bool = True) -> Iterator[io.StringIO]:
    """Collect this thread's stdout in the yielded buffer; nesting is allowed. With passthrough=False the
    text reaches only the buffers (the local cloud keeps Lambda output off the terminal, as Lambda does)."""
    install()
    buf = io.StringIO()
    frames = getattr(_local, "frames", None)
    if frames is None:
        frames = _local.frames = []
    frame = (buf, passthrough)
    frames.append(frame)
    try:
        yield buf
    finally:
        frames.remove(frame)


def frames() -> list[tuple[io.StringIO, bool]]:
    """This thread's open captures, to hand to a thread that works on its behalf (`joined`)."""
    return list(getattr(_local, "frames", None) or [])


@contextmanager
def joined(frames: list[tuple[io.StringIO, bool]]) -> Iterator[None]:
    """Inside the block this thread writes into `frames` (another thread's captures) instead of its own."""
    saved = getattr(_local, "frames", None)
    _local.frames = list(frames)
    try:
        yield
    finally:
        _local.frames = saved
