"""Per-call latency aggregated in memory: count, total, p50 and p95, never a record per call."""

from __future__ import annotations

import random

SAMPLE_CAP = 10_000  # latencies kept for percentiles; past it, reservoir sampling keeps it fair


class LatencyStats:
    """Latency of one method of one run's model. `add` is on the hot path: keep it tiny.

    Concurrent `add` calls from several threads can lose an increment; the figures are
    statistics, and a lock would cost more than the whole record.
    """

    __slots__ = ("count", "total", "samples", "written_count")

    def __init__(self):
        self.count = 0
        self.total = 0.0
        self.samples: list[float] = []
        self.written_count = 0

    def add(self, seconds: float) -> None:
        self.count += 1
        self.total += seconds
        samples = self.samples
        if len(samples) < SAMPLE_CAP:
            samples.append(seconds)
        else:
            slot = int(random.random() * self.count)
            if slot < SAMPLE_CAP:
                samples[slot] = seconds

    def summary(self) -> dict:
        ordered = sorted(self.samples)
        count = self.count
        return {
            "count": count,
            "total_s": self.total,
            "mean_s": self.total / count if count else None,
            "p50_s": _percentile(ordered, 0.50),
            "p95_s": _percentile(ordered, 0.95),
        }


def _percentile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


__all__ = ["LatencyStats", "SAMPLE_CAP"]
