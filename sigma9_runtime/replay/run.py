"""Play a day of frames through a strategy, collect its alerts, write them with their explanations."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sigma9_runtime.atomic import atomic_path, atomic_write_text
from sigma9_runtime.calendar import ns_to_local
from sigma9_runtime.features.warmup import Warmup
from sigma9_runtime.replay.dispatcher import Ignition, TickDispatcher
from sigma9_runtime.strategies.base import ScoringStrategy
from sigma9_runtime.strategies.candidates import ScoredCandidate


@dataclass
class ReplayResult:
    """What a replay produced."""

    day: dt.date
    strategy: str
    artifact_id: str | None
    alerts: list[ScoredCandidate]
    ignitions: list[Ignition]
    frames: int
    steps: int
    suppressed: dict[str, int]
    dropped: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    reloads: int = 0
    refused: int = 0
    after_cross: int = 0
    """Rows left out because their symbol had crossed previous close x (1 + anchor) (not candidates)."""

    def records(self) -> list[dict[str, Any]]:
        """One flat dict per alert (:meth:`ScoredCandidate.to_record`)."""
        return [a.to_record() for a in self.alerts]

    def render(self, limit: int = 20) -> str:
        """A short table of the alerts and the run's counts."""
        lines = [
            f"replay {self.day}: strategy {self.strategy}"
            + (f", artifact {self.artifact_id}" if self.artifact_id else "")
            + f"; {self.frames:,} frames, {self.steps:,} steps, {len(self.alerts)} alerts",
        ]
        if self.alerts:
            lines.append(
                f"{'time (NY)':<9} {'symbol':<8} {'score':>6} {'base':>6} {'ml':>6} {'thr':>5} cluster  top features"
            )
            for a in self.alerts[:limit]:
                top = ", ".join(f"{name} {value:+.2f}" for name, value in a.explanation[:3])
                ml = "" if a.ml_score != a.ml_score else f"{a.ml_score:.3f}"
                lines.append(
                    f"{ns_to_local(a.ts_ns):%H:%M:%S} {a.symbol:<8} {a.score:6.3f} {a.base_score:6.3f} {ml:>6} "
                    f"{a.threshold:5.2f} {a.cluster_id or '-':<8} {top}"
                )
            if len(self.alerts) > limit:
                lines.append(f"... {len(self.alerts) - limit} more")
        suppressed = ", ".join(f"{k} {v}" for k, v in self.suppressed.items() if v) or "none"
        lines.append(f"suppressed: {suppressed}")
        if self.after_cross:
            lines.append(f"after cross (not candidates): {self.after_cross:,} rows")
        dropped = ", ".join(f"{k} {v}" for k, v in sorted(self.dropped.items()) if v) or "none"
        lines.append(f"dropped: {dropped}")
        if self.reloads or self.refused:
            lines.append(f"artifacts reloaded {self.reloads}, refused {self.refused}")
        return "\n".join(lines)


def replay_frames(
    strategy: ScoringStrategy,
    day: dt.date,
    frames: Iterable[Any],
    *,
    warmup: Warmup | None = None,
    steps_ns: np.ndarray | None = None,
    dispatcher: TickDispatcher | None = None,
    previous_close: Mapping[str, float] | None = None,
) -> ReplayResult:
    """Dispatch every frame of ``day`` to ``strategy`` through a :class:`TickDispatcher`, then finish the day.

    ``previous_close`` (symbol -> previous close, e.g.
    :func:`sigma9_runtime.lake.closes.previous_closes`) arms the cross rule; without it no symbol is
    excluded after its cross.
    """
    dispatcher = dispatcher or TickDispatcher(strategy)
    skipped = strategy.crossed_skipped
    dispatcher.start_day(day, warmup, steps_ns=steps_ns, previous_close=previous_close)
    count = 0
    for frame in frames:
        dispatcher.dispatch(frame)
        count += 1
    dispatcher.finish()
    reloader = strategy.reloader
    return ReplayResult(
        day=day,
        strategy=strategy.name,
        artifact_id=strategy.artifact_id,
        alerts=list(dispatcher.alerts),
        ignitions=list(dispatcher.ignitions),
        frames=count,
        steps=dispatcher.steps_run,
        suppressed=dict(strategy.gate.suppressed),
        dropped=dict(strategy.features.dropped),
        errors=dict(dispatcher.errors),
        reloads=0 if reloader is None else reloader.reloads,
        refused=0 if reloader is None else sum(reloader.refused.values()),
        after_cross=strategy.crossed_skipped - skipped,
    )


def write_alerts(path: str | Path, alerts: Iterable[ScoredCandidate]) -> Path:
    """Write alerts (with explanations) atomically: Parquet for ``.parquet``, else JSON lines."""
    path = Path(path)
    records = [a.to_record() for a in alerts]
    if path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns = ScoredCandidate.record_columns()
        table = pa.Table.from_pylist(records) if records else pa.table({c: pa.array([], pa.null()) for c in columns})
        with atomic_path(path) as tmp:
            pq.write_table(table, tmp)
    else:
        atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in records))
    return path
