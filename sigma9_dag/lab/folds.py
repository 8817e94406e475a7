"""Walk-forward folds over the days before the test period, for tuning the alerter's thresholds.

The dataset's validation days are cut, in date order, into ``folds`` consecutive blocks. Fold k validates
block k with a scorer trained only on days before it:

- **rolling**: the fold trains on the non-test days before its block, the last ``max_train_days`` of them
  when that is set (else all: an expanding window);
- **purged**: the ``purge_days`` trade days right before its block are left out of its training days, so no
  label window or multi-day move straddles the cut;
- **embargoed**: the ``embargo_days`` trade days right after every earlier block are left out too (a
  runner's second day is not independent of its first, which an earlier fold validated on).

Each fold scores only its own block, so every validation candidate gets an out-of-fold score; the thresholds
are tuned on the pooled blocks and the test days, never seen by a fold, are evaluated once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict


class WalkForwardFold(BaseModel):
    """One fold: the days its scorer trains on and the block it validates."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    index: int
    train_days: tuple[dt.date, ...]
    validation_days: tuple[dt.date, ...]

    def record(self) -> dict[str, Any]:
        """First and last days and counts (the manifest's ``ThresholdTuning.folds`` entry)."""
        return {
            "train_start": self.train_days[0].isoformat(),
            "train_end": self.train_days[-1].isoformat(),
            "train_days": len(self.train_days),
            "validation_start": self.validation_days[0].isoformat(),
            "validation_end": self.validation_days[-1].isoformat(),
            "validation_days": len(self.validation_days),
        }


def walk_forward_folds(
    days: Sequence[dt.date],
    validation_days: Sequence[dt.date],
    *,
    folds: int,
    purge_days: int,
    embargo_days: int,
    max_train_days: int | None = None,
) -> list[WalkForwardFold]:
    """The folds over ``days`` (every non-test trade day the scorer may train on, validation days included),
    validating ``validation_days`` in ``folds`` consecutive blocks (fewer when there are fewer days).

    A fold without a training day is refused: its block is the first days of the period.
    """
    ordered = sorted(set(days) | set(validation_days))
    position = {day: i for i, day in enumerate(ordered)}
    blocks = [tuple(block.tolist()) for block in np.array_split(np.array(sorted(validation_days), dtype=object), folds)]
    blocks = [block for block in blocks if block]
    out: list[WalkForwardFold] = []
    excluded: set[int] = set()
    for index, block in enumerate(blocks):
        start = position[block[0]]
        excluded_here = excluded | set(range(start - purge_days, start))
        train = [day for i, day in enumerate(ordered[:start]) if i not in excluded_here]
        if max_train_days is not None:
            train = train[-max_train_days:]
        if not train:
            raise ValueError(
                f"walk-forward fold {index + 1} validating {block[0]}..{block[-1]} has no day to train on "
                f"(purge {purge_days}, embargo {embargo_days}): fewer folds or fewer validation days"
            )
        out.append(WalkForwardFold(index=index + 1, train_days=tuple(train), validation_days=block))
        end = position[block[-1]]
        excluded |= set(range(end + 1, end + 1 + embargo_days))
    return out
