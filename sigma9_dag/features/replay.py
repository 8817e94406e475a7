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
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from sigma9_dag.features.offline import symbol_day_features
from sigma9_dag.features.stats import ensure_stats
from sigma9_runtime.bars import MINUTE_NS, SECOND_NS
from sigma9_runtime.calendar import session_bounds
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.features.grid import day_grid
from sigma9_runtime.features.online import OnlineFeatureBuilder
from sigma9_runtime.features.plan import FeaturePlan
from sigma9_runtime.features.warmup import load_warmup
from sigma9_runtime.feeds.events import AggBatch, AggEvent, TradeBatch, TradeEvent
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import read_bars, read_trades


@dataclass
class DayFeed:
    """A lake day as Massive WebSocket messages (``T``, ``A``, ``AM``) in delivery order."""

    time: np.ndarray  # delivery time of each message, ns (trades: ts; bars: end of interval)
    messages: list[dict[str, object]]

    def __len__(self) -> int:
        return len(self.messages)


def trade_messages(table: pa.Table) -> tuple[np.ndarray, list[dict[str, object]]]:
    """``T`` messages of the trades that a live feed delivers (corrections are not sent as trades)."""
    keep = table.column("correction").to_numpy(zero_copy_only=False) == 0
    part = table.filter(pa.array(keep)).to_pydict()
    messages = [
        {"ev": "T", "sym": s, "x": x, "p": p, "s": z, "c": c, "t": t // 1_000_000, "q": q}
        for s, x, p, z, c, t, q in zip(
            part["ticker"],
            part["exchange"],
            part["price"],
            part["size"],
            part["conditions"],
            part["ts"],
            part["sequence"],
        )
    ]
    return np.asarray(part["ts"], dtype=np.int64), messages


def _agg_messages(table: pa.Table, ev: str, length_ns: int) -> tuple[np.ndarray, list[dict[str, object]]]:
    """``A``/``AM`` messages of lake bars, delivered at the end of their interval."""
    part = table.to_pydict()
    messages = []
    for i, symbol in enumerate(part["ticker"]):
        volume, count = part["volume"][i], part["transactions"][i]
        messages.append(
            {
                "ev": ev,
                "sym": symbol,
                "v": volume,
                "vw": part["vwap"][i],
                "o": part["open"][i],
                "c": part["close"][i],
                "h": part["high"][i],
                "l": part["low"][i],
                "a": part["vwap"][i],
                "z": volume / count if count else 0,
                "s": part["ts"][i] // 1_000_000,
                "e": (part["ts"][i] + length_ns) // 1_000_000,
            }
        )
    return np.asarray(part["ts"], dtype=np.int64) + length_ns, messages


def lake_day_feed(layout: LakeLayout, day: dt.date, tickers: list[str]) -> DayFeed:
    """Every T / A / AM message of ``day`` for ``tickers``, merged by delivery time (ties: T, A, AM)."""
    bounds = session_bounds(day)
    times: list[np.ndarray] = []
    kinds: list[np.ndarray] = []
    messages: list[dict[str, object]] = []
    for ticker in tickers:
        parts = [trade_messages(read_trades(layout, ticker, day))]
        for bar_kind, ev, length in (("1s", "A", SECOND_NS), ("1m", "AM", MINUTE_NS)):
            if layout.bars(bar_kind, ticker).exists():  # type: ignore[arg-type]
                bars = read_bars(layout, bar_kind, ticker, bounds.start, bounds.end)  # type: ignore[arg-type]
                parts.append(_agg_messages(bars, ev, length))
        for kind, (time, part) in enumerate(parts):
            times.append(time)
            kinds.append(np.full(time.size, kind, dtype=np.int8))
            messages.extend(part)
    time = np.concatenate(times) if times else np.zeros(0, dtype=np.int64)
    kind = np.concatenate(kinds) if kinds else np.zeros(0, dtype=np.int8)
    order = np.lexsort((kind, time))
    return DayFeed(time[order], [messages[i] for i in order.tolist()])


def feed_frames(feed: DayFeed, steps_ns: np.ndarray) -> Iterator[tuple[int, str]]:
    """(step, raw JSON frame of every message delivered after the previous step and by this one)."""
    cuts = np.searchsorted(feed.time, steps_ns, side="right")
    start = 0
    for step, stop in zip(steps_ns.tolist(), cuts.tolist(), strict=True):
        yield step, json.dumps(feed.messages[start:stop])
        start = stop


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
) -> ParityReport:
    """Replay ``day`` through the online builder and compare every value with the offline batch."""
    plan = FeaturePlan.from_spec(spec)
    symbols = tickers or layout.trade_tickers()
    lookback = spec.normalization.lookback.days if spec.normalization.lookback is not None else 10_000
    earlier = [d for d in layout.trade_dates() if d < day][-lookback:]
    if earlier:
        ensure_stats(layout, spec, symbols, earlier, workers=workers, progress=progress)
    warmup = load_warmup(layout, plan, day, symbols)
    grid = day_grid(spec, day)
    steps = grid.steps_ns
    offline = {t: symbol_day_features(layout, plan, warmup, t, day) for t in symbols}
    report = ParityReport(day=day, symbols=len(symbols), steps=int(steps.size), features=len(plan.names))
    builder = OnlineFeatureBuilder(spec, symbols)
    builder.start_day(day, warmup)
    feed = lake_day_feed(layout, day, symbols)
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
            builder.on_frame(payload)  # type: ignore[arg-type]
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
    same = (online == offline) | (np.isnan(online) & np.isnan(offline))
    if not same.all():
        bad = ~same
        counts[bad] += 1
        report.mismatches += int(bad.sum())
        diff = np.abs(online[bad] - offline[bad])
        diff = diff[np.isfinite(diff)]
        if diff.size:
            report.max_abs_diff = max(report.max_abs_diff, float(diff.max()))
        else:
            report.max_abs_diff = float("inf")


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
        0,  # type: ignore[arg-type]
    )


__all__ = ["DayFeed", "ParityReport", "feature_parity", "feed_frames", "lake_day_feed", "trade_messages"]
