"""The trigger's bounded threads: outcomes in item order, errors kept per item, the caller's captures and
context carried into the threads, and stream records grouped by item in stream order."""

from __future__ import annotations

import threading
from contextvars import ContextVar

import pytest

from chalicelib import capture
from chalicelib.errors import CascadeError
from chalicelib.trigger.batch import by_item
from chalicelib.trigger.pool import Pool

where: ContextVar[str] = ContextVar("where", default="unset")


def test_outcomes_come_back_in_item_order_with_each_error_kept():
    def work(i: int) -> int:
        if i % 3 == 0:
            raise KeyError(i)
        return i * 10

    with Pool(4) as pool:
        outcomes = pool.map(work, range(10))
    assert [r for r, _ in outcomes] == [None if i % 3 == 0 else i * 10 for i in range(10)]
    assert [type(e).__name__ if e else None for _, e in outcomes] == [
        "KeyError" if i % 3 == 0 else None for i in range(10)]


def test_items_run_on_other_threads_at_most_max_workers_at_once():
    running, peak, lock = 0, 0, threading.Lock()
    gate = threading.Barrier(3, timeout=10)

    def work(_: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        gate.wait()  # three at a time must be possible, or this times out
        with lock:
            running -= 1
        return threading.get_ident()

    with Pool(3) as pool:
        idents = [r for r, e in pool.map(work, range(9)) if e is None]
    assert len(idents) == 9 and threading.get_ident() not in idents and peak == 3


def test_one_worker_runs_inline_in_order():
    seen: list[int] = []
    outcomes = Pool(1).map(lambda i: seen.append(i) or threading.get_ident(), range(5))
    assert seen == list(range(5)) and {r for r, _ in outcomes} == {threading.get_ident()}


def test_threads_write_into_the_callers_capture_and_see_its_context():
    token = where.set("caller")
    try:
        with capture.captured(passthrough=False) as out, Pool(4) as pool:
            outcomes = pool.map(lambda i: (capture.stream().write(f"line {i}\n"), where.get())[1], range(8))
    finally:
        where.reset(token)
    assert sorted(out.getvalue().splitlines()) == [f"line {i}" for i in range(8)]
    assert {r for r, _ in outcomes} == {"caller"}


def test_zero_workers_is_refused_with_the_fix():
    with pytest.raises(CascadeError, match="max_workers must be at least 1; got 0"):
        Pool(0)


def test_records_group_by_item_in_stream_order():
    def rec(pk: str, seq: str) -> dict:
        return {"dynamodb": {"Keys": {"pk": {"S": pk}, "sk": {"S": "v"}}, "SequenceNumber": seq}}

    records = [rec("a", "1"), rec("b", "2"), rec("a", "3"), {"dynamodb": {}}, rec("b", "5"), "not a record"]
    assert by_item(records) == [[0, 2], [1, 4], [3], [5]]


def test_work_in_the_pool_is_done_for_the_thread_that_handed_it_over():
    from chalicelib.trigger.pool import origin_thread

    me = threading.get_ident()
    with Pool(3) as outer, Pool(3) as inner:
        nested = outer.map(lambda _: [r for r, _ in inner.map(lambda _: (origin_thread(), threading.get_ident()),
                                                               range(3))], range(3))
    pairs = [pair for group, _ in nested for pair in group]
    assert {origin for origin, _ in pairs} == {me} and any(ident != me for _, ident in pairs)
    assert origin_thread() == me
