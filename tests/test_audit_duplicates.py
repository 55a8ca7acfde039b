"""``DuplicateIndex``: every CCCD held by more than one record, with the other rows, whatever
batches and spills the records came in."""

from __future__ import annotations

import random

import polars as pl
import pytest

from bot.audit.duplicates import DuplicateIndex


@pytest.mark.parametrize("batch", [3, 1000])
def test_shared_cccds_found_across_spills(monkeypatch: pytest.MonkeyPatch, batch: int) -> None:
    monkeypatch.setattr("bot.audit.duplicates.BATCH", batch)
    rng = random.Random(1)
    cccds = [f"0792090{rng.randrange(10**5):05d}" for _ in range(40)]
    rows = [(cccds[rng.randrange(40)], row) for row in range(1, 201)]
    index = DuplicateIndex()
    try:
        for cccd, row in rows[:100]:  # one at a time, as the row-by-row audit adds them
            index.add(cccd, row, f"ma{row}", ("79000001", f"10A{row % 3}"), row % 2 == 0,
                      f"Tên {row}")  # fmt: skip
        frame = pl.DataFrame(
            {
                "cccd": [int(c) for c, _ in rows[100:]],
                "row": [r for _, r in rows[100:]],
                "ma": [f"ma{r}" for _, r in rows[100:]],
                "truong": ["79000001"] * 100,
                "lop": [f"10A{r % 3}" for _, r in rows[100:]],
                "clean": [r % 2 == 0 for _, r in rows[100:]],
                "ten": [f"Tên {r}" for _, r in rows[100:]],
            }
        )
        for part in frame.iter_slices(7):  # and in batches, as the column-wise audit does
            index.add_frame(part)
        got = list(index.duplicates())
    finally:
        index.close()
    by_cccd: dict[str, list[int]] = {}
    for cccd, row in rows:
        by_cccd.setdefault(cccd, []).append(row)
    expected = [
        (row, f"ma{row}", ("79000001", f"10A{row % 3}"), row % 2 == 0,
         ", ".join(str(r) for r in by_cccd[cccd] if r != row), f"Tên {row}")
        for cccd, row in rows
        if len(by_cccd[cccd]) > 1
    ]  # fmt: skip
    assert got == expected
    assert got  # the draw does share CCCDs
