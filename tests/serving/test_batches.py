"""The rows profiled per pass: a uniform sample across calls of any size, within the budget."""

from __future__ import annotations

import random

import numpy as np

from autotrack.serving.batches import ALL_ROWS, sample_positions, take_rows


def test_every_row_is_drawn_with_the_same_chance_whatever_the_size_of_its_call():
    sizes = [1] * 10_000 + [10_000] + [50] * 200  # single rows, one big batch, small batches: 30,000 rows
    drawn_single = drawn_big = drawn_small = 0
    rng = random.Random(0)
    for _ in range(40):
        picks = sample_positions(sizes, 500, rng)
        drawn_single += sum(1 for i in range(10_000) if i in picks)
        big = picks.get(10_000)
        drawn_big += len(big) if big is not None else 0
        drawn_small += sum(len(picks[i]) for i in range(10_001, 10_201) if i in picks)
        for index, rows in picks.items():
            assert rows is ALL_ROWS or (rows.min() >= 0 and rows.max() < sizes[index] and len(set(rows)) == len(rows))
    total = drawn_single + drawn_big + drawn_small
    assert abs(total / 40 - 500) < 40  # about the budget
    for drawn in (drawn_single, drawn_big, drawn_small):  # a third each, as their rows are
        assert abs(drawn / total - 1 / 3) < 0.03


def test_everything_is_profiled_when_it_fits_the_budget():
    assert sample_positions([3, 1, 100], 500) is None


def test_taking_rows_keeps_the_kind_of_table():
    import pandas as pd

    frame = pd.DataFrame({"a": range(10), "b": list("abcdefghij")})
    assert take_rows(frame, np.array([1, 3]))["b"].tolist() == ["b", "d"]
    assert take_rows(np.arange(10), np.array([2])).tolist() == [2]
    assert take_rows([np.arange(3), np.arange(3, 6)], np.array([4])).tolist() == [4]  # batches, as Lightning's
    assert take_rows(frame, ALL_ROWS) is frame
