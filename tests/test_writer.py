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


def test_a_full_queue_drops_the_newest_records_counted_per_run_and_the_caller_never_waits(monkeypatch):
    monkeypatch.setattr(writer_module, "MAX_QUEUED", 100)
    monkeypatch.setattr(writer_module, "WAKE_AT", 10)
    release = threading.Event()
    written: list = []
    writer = Writer(lambda records, points: (release.wait(30), written.extend(records)))
    started = time.monotonic()
    for i in range(2_000):
        writer.put(("tags", f"r{i % 2}", {"i": str(i)}))
    writer.put(("run_end", "r0", "finished", 1.0, None))  # a run's end is never dropped
    assert time.monotonic() - started < 5  # the sink is blocked: a waiting caller would hang here
    assert writer.pending() <= 102
    release.set()
    assert writer.flush(10)
    kept = [record for record in written if record[0] == "tags"]
    assert len(kept) + sum(writer.dropped_records.values()) == 2_000
    assert set(writer.dropped_records) == {"r0", "r1"} and ("run_end", "r0", "finished", 1.0, None) in written
    kept_numbers = [int(record[2]["i"]) for record in kept]
    assert kept_numbers == sorted(kept_numbers) and kept_numbers[0] == 0  # the newest were dropped


def test_a_store_that_cannot_be_written_keeps_the_batch_and_writes_it_when_it_can(monkeypatch, caplog):
    monkeypatch.setattr(writer_module, "RETRY_INTERVAL_S", 0.05)
    full = threading.Event()
    full.set()
    written: list = []

    def sink(records, points):
        if full.is_set():
            raise OSError(28, "No space left on device")
        written.append((list(records), list(points)))

    writer = Writer(sink, store_problem=lambda exc: "the disk is full" if exc.errno == 28 else None)
    writer.put(("tags", "r", {"a": "1"}))
    writer.points.append(("r", "loss", 0.5, 0, 1.0))
    assert writer.flush(5)  # answered, not hung, while the store fails
    assert writer.failing == "the disk is full"
    assert writer.unwritten() == (1, 1, 1)
    writer.put(("tags", "r", {"b": "2"}))
    full.clear()
    assert _wait_until(lambda: writer.failing is None and writer.pending() == 0)
    assert [r for batch, _ in written for r in batch] == [("tags", "r", {"a": "1"}), ("tags", "r", {"b": "2"})]
    assert [p for _, batch in written for p in batch] == [("r", "loss", 0.5, 0, 1.0)]
    warnings = [record.getMessage() for record in caplog.records if record.name == "autotrack"]
    assert len([w for w in warnings if "cannot be written (the disk is full)" in w]) == 1
    assert all("\n" not in w for w in warnings)


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


def _holding_writer():
    busy = threading.Event()
    busy.set()
    written: list = []
    writer = Writer(lambda records, points: written.append((list(records), list(points))),
                    user_busy=busy.is_set)
    ran: list = []

    def job():
        ran.append("metrics")
        writer.points.append(("r1", "training_accuracy", 0.9, 0, 1.0))

    writer.put(("run_start", "r1", {}))
    writer.put(Job(job, "training metrics", "r1", holdable=True))
    writer.put(("run_end", "r1", "finished", 2.0, None))
    writer.put(("run_start", "r2", {}))
    writer.wake()
    return writer, written, ran, busy


def _wait_until(condition, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_jobs_wait_while_the_user_trains_and_their_run_ends_with_them():
    writer, written, ran, busy = _holding_writer()
    records = lambda: [r[:2] for batch, _ in written for r in batch]  # noqa: E731
    # Records flow while the user trains (a run's start is written as it trains) ...
    assert _wait_until(lambda: ("run_start", "r2") in records())
    time.sleep(0.3)  # more than the writer's idle tick
    # ... but autotrack's own CPU work, and the end of its run, wait.
    assert ran == [] and ("run_end", "r1") not in records()
    busy.clear()  # the training pauses
    assert _wait_until(lambda: ("run_end", "r1") in records())
    assert ran == ["metrics"]
    # The run's end is written with the points its job logged (one transaction), never before.
    end_batch = next((batch, points) for batch, points in written if ("run_end", "r1", "finished", 2.0, None) in batch)
    assert end_batch[1] == [("r1", "training_accuracy", 0.9, 0, 1.0)]


def test_a_flush_runs_held_jobs_at_once_and_holding_is_bounded(monkeypatch):
    writer, written, ran, busy = _holding_writer()
    assert writer.flush(5) and ran == ["metrics"]  # the user still trains: a flush does not wait
    monkeypatch.setattr(writer_module, "MAX_HELD_JOBS", 3)
    for _ in range(4):
        writer.put(Job(lambda: ran.append("more"), "a job", holdable=True))
    writer.wake()
    assert _wait_until(lambda: ran.count("more") >= 3)  # at the bound, the held ones run, in order
    time.sleep(0.3)
    assert ran.count("more") == 3  # the fourth is held again: the user still trains
    writer.put(Job(lambda: ran.append("context"), "reads live state"))  # not holdable: at once
    assert _wait_until(lambda: "context" in ran) and ran.count("more") == 3
    busy.clear()
    assert _wait_until(lambda: ran.count("more") == 4)
