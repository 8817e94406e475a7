"""Replay a lake day as a live feed, and prove the online builder equal to the offline batch.

:func:`lake_day_frames` turns a day of the lake into what Massive's WebSocket would have sent:
every trade (``T``, ms timestamps), every 1-second bar (``A``, delivered at the end of its
second) and 1-minute bar (``AM``, at the end of its minute), all symbols merged in time order and
cut into one frame per emission step. :func:`feature_parity` plays those frames through an
:class:`~sigma9_runtime.features.online.OnlineFeatureBuilder` (raw JSON through the frame parser,
or typed batches), steps it at every grid time, and compares every value with the offline
batch for the same day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from sigma9_dag.features.compare import mismatches
from sigma9_dag.features.offline import symbol_day_features
from sigma9_dag.features.stats import ensure_day_stats
from sigma9_dag.lake.coverage import LakeCoverage, intraday_tables, lake_coverage
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.features.grid import day_grid
from sigma9_runtime.features.online import OnlineFeatureBuilder
from sigma9_runtime.features.plan import FeaturePlan
from sigma9_runtime.features.warmup import load_warmup
from sigma9_runtime.feeds.events import AggBatch, AggEvent, TradeBatch, TradeEvent
from sigma9_runtime.feeds.ticks import to_frame
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.replay.sources import DayFeed, feed_frames, lake_day_feed, trade_messages
from sigma9_runtime.streams import spec_streams
from sigma9_runtime.units import MINUTE_NS, SECOND_NS


@dataclass
class ParityReport:
    """What :func:`feature_parity` compared and found."""

    day: dt.date
    symbols: int
    steps: int
    rows: int = 0
    features: int = 0
    values: int = 0
    mismatches: int = 0
    max_abs_diff: float = 0.0
    per_feature: dict[str, int] = field(default_factory=dict)
    missing_rows: int = 0
    extra_rows: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    events: int = 0

    @property
    def equal(self) -> bool:
        """True when every row and value matched bit for bit (NaN equals NaN)."""
        return self.mismatches == 0 and self.missing_rows == 0 and self.extra_rows == 0

    def render(self) -> str:
        """Human-readable lines."""
        lines = [
            f"parity {self.day}: {self.symbols} symbols x {self.steps} steps, {self.events:,} events replayed",
            f"rows compared     {self.rows:,}",
            f"features compared {self.features}",
            f"values compared   {self.values:,}",
            f"mismatches        {self.mismatches}",
            f"max abs diff      {self.max_abs_diff:.3g}",
            f"missing / extra   {self.missing_rows} / {self.extra_rows}",
        ]
        dropped = {k: v for k, v in sorted(self.dropped.items()) if v}
        lines.append("online dropped    " + (", ".join(f"{k} {v}" for k, v in dropped.items()) or "none"))
        lines += [f"  {name:<32} {count} mismatches" for name, count in self.per_feature.items() if count]
        lines.append("EQUAL" if self.equal else "NOT EQUAL")
        return "\n".join(lines)


def feature_parity(
    layout: LakeLayout,
    spec: FeatureSpec,
    day: dt.date,
    *,
    tickers: list[str] | None = None,
    typed: bool = False,
    workers: int = 2,
    progress: bool = False,
    coverage: LakeCoverage | None = None,
) -> ParityReport:
    """Replay ``day`` through the online builder and compare every value with the offline batch.

    The replay sends the channels the spec subscribes to (:func:`~sigma9_runtime.streams.spec_streams`);
    ``tickers`` default to those holding the spec's intraday tables on ``day``.
    """
    plan = FeaturePlan.from_spec(spec)
    coverage = coverage if coverage is not None else lake_coverage(layout)
    symbols = tickers or coverage.tickers(intraday_tables(spec), days=[day])
    ensure_day_stats(layout, spec, symbols, [day], workers=workers, progress=progress, coverage=coverage)
    warmup = load_warmup(layout, plan, day, symbols)
    grid = day_grid(spec, day)
    steps = grid.steps_ns
    offline = {t: symbol_day_features(layout, plan, warmup, t, day) for t in symbols}
    report = ParityReport(day=day, symbols=len(symbols), steps=int(steps.size), features=len(plan.names))
    builder = OnlineFeatureBuilder(spec, symbols)
    builder.start_day(day, warmup)
    feed = lake_day_feed(layout, day, symbols, spec_streams(spec))
    report.events = len(feed)
    cursor = {t: 0 for t in symbols}
    counts = np.zeros(len(plan.names), dtype=np.int64)
    frames = _typed_batches(feed, steps) if typed else feed_frames(feed, steps)
    for step, payload in frames:
        if typed:
            trades, seconds, minutes = payload  # type: ignore[misc]
            builder.on_trades(trades)
            builder.on_aggs(seconds)
            builder.on_aggs(minutes)
        else:
            builder.ingest(to_frame(payload))
        frame = builder.step(step)
        for row, symbol in enumerate(frame.symbols):
            kept, values = offline[symbol]
            at = cursor[symbol]
            if at >= kept.size or kept[at] != step:
                report.extra_rows += 1
                continue
            cursor[symbol] = at + 1
            _compare(frame.values[row], values[at], counts, report)
    report.missing_rows = sum(offline[t][0].size - cursor[t] for t in symbols)
    report.per_feature = dict(zip(plan.names, counts.tolist(), strict=True))
    report.dropped = dict(builder.dropped)
    return report


def _compare(online: np.ndarray, offline: np.ndarray, counts: np.ndarray, report: ParityReport) -> None:
    report.rows += 1
    report.values += online.size
    bad, largest = mismatches(online, offline)
    if bad.any():
        counts[bad] += 1
        report.mismatches += int(bad.sum())
        report.max_abs_diff = max(report.max_abs_diff, largest)


def _typed_batches(feed: DayFeed, steps_ns: np.ndarray) -> Iterator[tuple[int, tuple[TradeBatch, AggBatch, AggBatch]]]:
    """Like :func:`feed_frames`, as typed columnar batches (no JSON)."""
    cuts = np.searchsorted(feed.time, steps_ns, side="right")
    start = 0
    for step, stop in zip(steps_ns.tolist(), cuts.tolist(), strict=True):
        events = [_typed(m) for m in feed.messages[start:stop]]
        trades = TradeBatch.from_events(e for e in events if isinstance(e, TradeEvent))
        seconds = AggBatch.from_events("A", (e for e in events if isinstance(e, AggEvent)))
        minutes = AggBatch.from_events("AM", (e for e in events if isinstance(e, AggEvent)))
        start = stop
        yield step, (trades, seconds, minutes)


def _typed(m: dict[str, object]) -> TradeEvent | AggEvent:
    if m["ev"] == "T":
        return TradeEvent(
            m["sym"],
            m["t"] * 1_000_000,
            m["p"],
            m["s"],
            tuple(m["c"]),
            m["x"],
            m["q"],  # type: ignore[arg-type,operator]
        )
    length = SECOND_NS if m["ev"] == "A" else MINUTE_NS
    start = m["s"] * 1_000_000  # type: ignore[operator]
    return AggEvent(
        m["ev"],
        m["sym"],
        start,
        start + length,
        m["o"],
        m["h"],
        m["l"],
        m["c"],
        m["v"],
        m["vw"],
        round(m["v"] / m["z"]) if m["z"] else 0,  # type: ignore[arg-type,operator]  # the parser's trade count
    )


__all__ = ["DayFeed", "ParityReport", "feature_parity", "feed_frames", "lake_day_feed", "trade_messages"]
