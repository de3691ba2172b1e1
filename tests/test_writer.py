"""The background writer: batches, jobs, flush, backpressure and errors off the user's thread."""

from __future__ import annotations

import threading
import time

import pytest

from autotrack import safety, writer as writer_module
from autotrack.writer import Job, Writer


def _collecting_writer():
    written: list = []
    return Writer(lambda records, points: written.append((list(records), list(points)))), written


def test_records_points_and_jobs_are_written_in_order():
    writer, written = _collecting_writer()
    writer.put(("tags", "r1", {"a": "1"}))
    writer.points.append(("r1", "loss", 0.5, 0, 1.0))
    writer.put(Job(lambda: writer.put(("tags", "r1", {"from": "job"})), "a job"))
    assert writer.flush(5)
    records = [r for batch, _ in written for r in batch]
    points = [p for _, batch in written for p in batch]
    assert records == [("tags", "r1", {"a": "1"}), ("tags", "r1", {"from": "job"})]
    assert points == [("r1", "loss", 0.5, 0, 1.0)]


def test_flush_reports_a_timeout_instead_of_hanging():
    release = threading.Event()
    writer = Writer(lambda records, points: release.wait(30))
    writer.put(("tags", "r1", {}))
    started = time.monotonic()
    assert writer.flush(0.3) is False
    assert time.monotonic() - started < 5
    release.set()
    assert writer.flush(5) is True


def test_queue_is_bounded_callers_wait_for_the_writer(monkeypatch):
    monkeypatch.setattr(writer_module, "MAX_QUEUED", 100)
    monkeypatch.setattr(writer_module, "WAKE_AT", 10)
    slow_batches = []

    def slow_sink(records, points):
        time.sleep(0.01)
        slow_batches.append(len(records))

    writer = Writer(slow_sink)
    high_water = 0
    for i in range(2_000):
        writer.put(("tags", "r", {"i": str(i)}))
        high_water = max(high_water, writer.pending())
    assert writer.flush(10)
    assert high_water <= 101  # never more than the bound (plus the record just added)
    assert sum(slow_batches) == 2_000  # and nothing was dropped


def test_a_failing_sink_is_reported_and_the_writer_survives(monkeypatch):
    monkeypatch.setattr(safety, "_strict", True)
    safety.background_errors.clear()
    calls = []

    def sink(records, points):
        calls.append(records)
        if len(calls) == 1:
            raise OSError("disk full")

    writer = Writer(sink)
    writer.put(("tags", "r", {}))
    assert writer.flush(5)
    writer.put(("tags", "r2", {}))
    assert writer.flush(5)
    assert len(calls) == 2  # the thread kept going after the error
    assert any("disk full" in error for error in safety.background_errors)
    safety.background_errors.clear()


def test_session_flush_raises_background_errors_in_strict_mode(monkeypatch):
    from autotrack.session import Session

    monkeypatch.setattr(safety, "_strict", True)
    safety.background_errors.clear()
    session = Session()
    session.writer.put(Job(lambda: 1 / 0, "a broken job"))
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        session.flush(5)
