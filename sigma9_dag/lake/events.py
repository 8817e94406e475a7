"""Surge events from the lake: split-adjusted previous close and the first cross of +anchor, at the finest
resolution the lake holds for each ticker and day.

A day's threshold is ``prev_close * (1 + anchor)``, where ``prev_close`` is the previous daily bar's
regular-session close, adjusted for splits executed since. Its **T0** is when the cross is *known*:

* with the ticker's **trades** that day (``t0_resolution`` ``trade``): the timestamp of the first
  **eligible** trade (any session) whose price reaches the threshold;
* else with its **1-second bars** (``1s``): the end (start + 1 s) of the first bar whose high reaches it;
* else with its **1-minute bars** (``1m``): the end (start + 60 s) of the first such bar.

Bars are built from eligible trades by the one bar rule, so a bar-based T0 is the end of the bar holding
the trade-based T0: ``floor(t0, interval) + interval``.

The previous close is :func:`sigma9_runtime.lake.closes.close_table`'s, the one implementation the runtime's
cross rule uses too: the close of the **previous exchange trading day**, adjusted by the recorded splits
(``reference/splits.parquet``) executed since. A ticker-day without it (first day, previous trading day
missing from the daily table, bad close) has no event and is counted with its reason; a day whose overnight
move looks like an unrecorded split (``split_suspect``) is flagged, kept out of events and counted.

Each event carries ``flags`` (comma-separated, ``""`` when none): ``split_adjusted`` when a recorded split
changed its previous close.

:func:`lake_events` is :func:`find_events` over the whole lake, cached under ``<root>/derived/events/``
keyed by the anchor and a fingerprint of the lake's table files (:func:`lake_fingerprint`);
:func:`event_table` is the public table ``sigma9 lake events`` prints and the DuckDB view ``events`` shows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sigma9_dag.lake.commit import reading
from sigma9_dag.lake.table_file import write_table_file
from sigma9_dag.parallel import days_label, map_tickers
from sigma9_runtime.atomic import TEMP_PREFIX, atomic_path
from sigma9_runtime.calendar import local_to_ns, ns_to_local
from sigma9_runtime.errors import LakeError
from sigma9_runtime.lake.closes import close_table
from sigma9_runtime.lake.layout import BarKind, LakeLayout
from sigma9_runtime.lake.tables import DAILY_SCHEMA, SPLITS_SCHEMA, eligible_trades_mask, read_daily, read_splits
from sigma9_runtime.strategies.crossing import DEFAULT_ANCHOR
from sigma9_runtime.units import MINUTE_NS, SECOND_NS

RESOLUTIONS: tuple[str, ...] = ("trade", "1s", "1m")
"""``t0_resolution`` values, finest first."""
BAR_INTERVAL_NS: dict[str, int] = {"1s": SECOND_NS, "1m": MINUTE_NS}
FLAG_SPLIT_ADJUSTED = "split_adjusted"

EVENT_COLUMNS: tuple[str, ...] = (
    "ticker",
    "date",
    "t0_ns",
    "prev_close",
    "threshold",
    "t0_price",
    "prev_date",
    "t0_resolution",
    "max_gain",
    "flags",
)
"""Columns of :attr:`EventScan.events`."""
NEAR_MISS_COLUMNS: tuple[str, ...] = ("ticker", "date", "peak_ns", "prev_close", "peak_pct", "resolution")
"""Columns of :attr:`EventScan.near_misses`."""
EVENT_TABLE_SCHEMA = pa.schema(
    [
        pa.field("ticker", pa.string()),
        pa.field("date", pa.date32()),
        pa.field("prev_close", pa.float64()),
        pa.field("prev_date", pa.date32()),
        pa.field("t0_ns", pa.int64()),
        pa.field("t0_ny", pa.string()),
        pa.field("t0_resolution", pa.string()),
        pa.field("max_gain", pa.float64()),
        pa.field("flags", pa.string()),
    ]
)
"""The public events table (:func:`event_table`): ``sigma9 lake events`` and the DuckDB view ``events``."""
EVENT_TABLE_COLUMNS: tuple[str, ...] = tuple(EVENT_TABLE_SCHEMA.names)

_TRADE_PRICES = {"ts": pa.int64(), "price": pa.float64()}
_TRADE_CODES = {"conditions": pa.list_(pa.int32()), "correction": pa.int32()}
_BAR_TS = {"ts": pa.int64()}
_BAR_HIGH = {"high": pa.float64()}
_DAY = dt.timedelta(days=1)


def first_cross(ts: np.ndarray, price: np.ndarray, threshold: float) -> int | None:
    """Index of the first price >= ``threshold`` (None when never reached)."""
    hits = np.flatnonzero(price >= threshold)
    return int(hits[0]) if hits.size else None


@dataclass
class EventScan:
    """Result of :func:`find_events`: events and what was left out.

    Attributes
    ----------
    events
        One row per event, columns :data:`EVENT_COLUMNS`, sorted by ticker and date.
    near_misses
        Days without an event whose peak reached ``near_miss_from`` (columns :data:`NEAR_MISS_COLUMNS`).
    split_flagged
        (ticker, date) with intraday data whose overnight move looks like an unrecorded split.
    no_prev_close
        How many (ticker, date) with intraday data have no previous close (listed in ``no_prev_close_days``,
        each with its reason in ``no_prev_close_why``: a :data:`sigma9_runtime.lake.closes.CLOSE_STATUSES`
        value, ``first_day``, ``prev_day_missing`` or ``bad_close``).
    """

    events: pd.DataFrame
    near_misses: pd.DataFrame = field(default_factory=pd.DataFrame)
    split_flagged: list[tuple[str, dt.date]] = field(default_factory=list)
    no_prev_close: int = 0
    no_prev_close_days: list[tuple[str, dt.date]] = field(default_factory=list)
    no_prev_close_why: list[str] = field(default_factory=list)

    def no_prev_close_counts(self) -> dict[str, int]:
        """Days without a previous close per reason."""
        return dict(sorted(Counter(self.no_prev_close_why).items()))

    def between(self, first: dt.date | None = None, last: dt.date | None = None) -> EventScan:
        """The scan restricted to dates in ``[first, last]`` (either bound optional)."""

        def keep(day: dt.date) -> bool:
            return (first is None or day >= first) and (last is None or day <= last)

        def rows(frame: pd.DataFrame) -> pd.DataFrame:
            if not len(frame):
                return frame
            return frame[[keep(d) for d in frame["date"]]].reset_index(drop=True)

        kept = [(td, why) for td, why in zip(self.no_prev_close_days, self.no_prev_close_why) if keep(td[1])]
        missing = [td for td, _ in kept]
        return EventScan(
            events=rows(self.events),
            near_misses=rows(self.near_misses),
            split_flagged=[(t, d) for t, d in self.split_flagged if keep(d)],
            no_prev_close=len(missing),
            no_prev_close_days=missing,
            no_prev_close_why=[why for _, why in kept],
        )


# --- one ticker -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PrevClose:
    prev_close: float  # NaN when unknown
    prev_date: dt.date
    status: str  # a sigma9_runtime.lake.closes.CLOSE_STATUSES value
    flags: str


@dataclass(frozen=True)
class _TickerJob:
    """What a worker needs to scan one ticker."""

    layout: LakeLayout
    ticker: str
    trade_files: tuple[tuple[dt.date, Path], ...]
    bar_kinds: tuple[BarKind, ...]
    daily: pa.Table  # the ticker's daily bars
    splits: pa.Table  # the ticker's splits
    days: frozenset[dt.date] | None
    anchor: float
    near_miss_from: float | None

    @property
    def label(self) -> str:
        """The ticker and days, as a failure names the task."""
        return days_label(self.ticker, self.days if self.days is not None else (d for d, _ in self.trade_files))


@dataclass
class _TickerScan:
    ticker: str
    events: list[tuple[object, ...]] = field(default_factory=list)
    near_misses: list[tuple[object, ...]] = field(default_factory=list)
    split_flagged: list[dt.date] = field(default_factory=list)
    no_prev_close: list[tuple[dt.date, str]] = field(default_factory=list)


def _read_columns(path: Path, columns: dict[str, pa.DataType], file: pq.ParquetFile | None = None) -> pa.Table:
    """``columns`` of the Parquet file at ``path`` (or of ``file``, opened at ``path``), types checked (a small
    file read in one thread is fastest)."""
    try:
        table = (file or pq.ParquetFile(path)).read(columns=list(columns), use_threads=False)
    except (pa.ArrowException, OSError, KeyError) as e:
        raise LakeError(f"{path}: cannot read columns {', '.join(columns)} ({e})") from e
    for name, kind in columns.items():
        if name not in table.column_names:
            raise LakeError(f"{path}: missing column {name!r}")
        if table.schema.field(name).type != kind:
            raise LakeError(f"{path}: column {name!r} has type {table.schema.field(name).type}, expected {kind}")
    return table


def _numpy(table: pa.Table, name: str) -> np.ndarray:
    return table.column(name).to_numpy(zero_copy_only=False)


def _ny_days(ts: np.ndarray) -> list[tuple[dt.date, int, int]]:
    """(New York date, start, end) of the slices of sorted ``ts`` holding each date (non-empty slices only)."""
    if not ts.size:
        return []
    first = ns_to_local(int(ts[0])).date() - _DAY  # a day of margin: ns_to_local rounds to microseconds
    last = ns_to_local(int(ts[-1])).date() + _DAY
    dates = [first + k * _DAY for k in range((last - first).days + 1)]
    midnights = np.array([local_to_ns(d, dt.time(0)) for d in [*dates, last + _DAY]], dtype=np.int64)
    bounds = np.searchsorted(ts, midnights, side="left")
    return [(d, int(a), int(b)) for d, a, b in zip(dates, bounds[:-1], bounds[1:]) if b > a]


def _scan_day(
    out: _TickerScan,
    job: _TickerJob,
    day: dt.date,
    close: _PrevClose,
    known_ns: np.ndarray,
    price: np.ndarray,
    resolution: str,
) -> None:
    """One day: ``price[i]`` is known at ``known_ns[i]`` (a trade's time, or the end of a bar and its high)."""
    prev_close = close.prev_close
    threshold = prev_close * (1 + job.anchor)  # the runtime's CrossTracker uses this formula: identical floats
    peak = int(np.argmax(price)) if price.size else None
    max_gain = float(price[peak]) / prev_close - 1 if peak is not None else math.nan
    index = first_cross(known_ns, price, threshold)
    if index is not None:
        out.events.append(
            (
                job.ticker,
                day,
                int(known_ns[index]),
                prev_close,
                threshold,
                float(price[index]),
                close.prev_date,
                resolution,
                max_gain,
                close.flags,
            )
        )
    elif job.near_miss_from is not None and peak is not None and price[peak] >= prev_close * (1 + job.near_miss_from):
        out.near_misses.append((job.ticker, day, int(known_ns[peak]), prev_close, max_gain, resolution))


def _scan_ticker(job: _TickerJob) -> _TickerScan:
    """Every day of one ticker at its finest resolution (runs in a worker process when ``workers > 1``)."""
    out = _TickerScan(job.ticker)
    wanted = (lambda d: True) if job.days is None else job.days.__contains__
    sources: dict[dt.date, tuple[str, object]] = {d: ("trade", p) for d, p in job.trade_files if wanted(d)}
    for kind in ("1s", "1m"):
        if kind not in job.bar_kinds:
            continue
        path = job.layout.bars(kind, job.ticker)  # type: ignore[arg-type]
        ts = _numpy(_read_columns(path, _BAR_TS), "ts").astype(np.int64, copy=False)
        order = None
        if ts.size > 1 and np.any(ts[1:] < ts[:-1]):
            order = np.argsort(ts, kind="stable")
            ts = ts[order]
        slices = [(d, a, b) for d, a, b in _ny_days(ts) if d not in sources and wanted(d)]
        if not slices:
            continue
        high = _numpy(_read_columns(path, _BAR_HIGH), "high").astype(np.float64, copy=False)
        if order is not None:
            high = high[order]
        ends = ts + BAR_INTERVAL_NS[kind]  # a bar's high is known when the bar completes
        for day, a, b in slices:
            sources[day] = (kind, (ends[a:b], high[a:b]))
    closes = _closes(job.daily, job.splits, sources)
    for day in sorted(sources):
        close = closes.get(day, _NO_DAILY)
        if close.status == "split_suspect":
            out.split_flagged.append(day)
            continue
        if close.status != "ok":
            out.no_prev_close.append((day, close.status))
            continue
        resolution, source = sources[day]
        if resolution == "trade":
            trades = _eligible_trades(source, job, close)  # type: ignore[arg-type]
            if trades is None:
                continue
            known_ns, price = trades
        else:
            known_ns, price = source  # type: ignore[misc]
        _scan_day(out, job, day, close, known_ns, price, resolution)
    return out


def _eligible_trades(path: Path, job: _TickerJob, close: _PrevClose) -> tuple[np.ndarray, np.ndarray] | None:
    """(ts, price) of the day's eligible trades; None when no trade at all reaches the lowest level that matters
    (the threshold, or the near-miss level): such a day has no event and no near miss, whatever is eligible,
    and its condition codes need not be read."""
    try:
        file = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as e:
        raise LakeError(f"{path}: cannot read as a lake table ({e})") from e
    prices = _read_columns(path, _TRADE_PRICES, file)
    price = _numpy(prices, "price")
    lowest = job.anchor if job.near_miss_from is None else min(job.anchor, job.near_miss_from)
    if not price.size or price.max() < close.prev_close * (1 + lowest):
        return None
    keep = eligible_trades_mask(_read_columns(path, _TRADE_CODES, file))
    return _numpy(prices, "ts")[keep], price[keep]


# --- the lake -------------------------------------------------------------------------------------


_NO_DAILY = _PrevClose(math.nan, dt.date.min, "first_day", "")


def _closes(daily: pa.Table, splits: pa.Table, days: Iterable[dt.date]) -> dict[dt.date, _PrevClose]:
    """Per day with intraday data: the previous close (:func:`sigma9_runtime.lake.closes.close_table`), its
    status and the event flags."""
    table = close_table(daily, splits, add_days=days)
    out: dict[dt.date, _PrevClose] = {}
    for day, prev_date, prev_close, factor, status in zip(
        table.date, table.prev_date, table.prev_close, table.split_factor, table.status
    ):
        flags = FLAG_SPLIT_ADJUSTED if status == "ok" and factor != 1.0 else ""
        out[day] = _PrevClose(float(prev_close), prev_date, str(status), flags)
    return out


_EMPTY_DAILY = DAILY_SCHEMA.empty_table()
_EMPTY_SPLITS = SPLITS_SCHEMA.empty_table()


def _by_ticker(table: pa.Table) -> dict[str, pa.Table]:
    """The rows of ``table`` per value of its ``ticker`` column, each a compact copy: a slice would pickle the
    whole table's buffers into every ticker's task (the whole daily table per task, sent to every worker)."""
    if not table.num_rows:
        return {}
    table = table.sort_by([("ticker", "ascending")])
    names = table.column("ticker").to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(np.r_[True, names[1:] != names[:-1]])
    ends = np.r_[starts[1:], len(names)]
    return {str(names[a]): table.take(pa.array(np.arange(a, b))) for a, b in zip(starts, ends)}


def find_events(
    layout: LakeLayout,
    *,
    anchor: float = DEFAULT_ANCHOR,
    tickers: list[str] | None = None,
    days: list[dt.date] | None = None,
    near_miss_from: float | None = None,
    workers: int = 1,
) -> EventScan:
    """Find every event (first cross of ``prev_close * (1 + anchor)``) in the lake, per (ticker, day) at the
    finest resolution it holds: trades, else 1-second bars, else 1-minute bars (module docstring).

    Parameters
    ----------
    layout
        The lake; it needs a daily table (previous closes).
    anchor
        The cross threshold over the previous close (0.10: +10%).
    tickers, days
        Restrict the scan (default: every ticker and day with intraday data).
    near_miss_from
        A fraction below ``anchor``: also list the **near misses**, days without an event whose peak (highest
        eligible trade, or highest bar high) reached ``prev_close * (1 + near_miss_from)`` — the hard negatives
        of real data. ``peak_ns`` is the peak trade's time or the end of the peak bar.
    workers
        Worker processes, one task per ticker (the result does not depend on it).

    Returns
    -------
    EventScan
        ``events`` (columns :data:`EVENT_COLUMNS`, sorted by ticker and date; ``t0_price`` is the crossing
        trade's price or the crossing bar's high, ``max_gain`` the day's peak over ``prev_close`` minus 1),
        ``near_misses``, the split-flagged days and the days without a previous close.
    """
    if not layout.daily.exists():
        raise LakeError(f"{layout.daily}: not found; events need the daily bars (previous closes)")
    daily = _by_ticker(read_daily(layout))
    splits = _by_ticker(read_splits(layout))
    trade_files: dict[str, list[tuple[dt.date, Path]]] = {}
    for ticker, day, path in layout.trade_files():
        trade_files.setdefault(ticker, []).append((day, path))
    bar_kinds: dict[str, list[BarKind]] = {}
    for kind in ("1s", "1m"):
        for ticker in layout.bar_tickers(kind):  # type: ignore[arg-type]
            bar_kinds.setdefault(ticker, []).append(kind)  # type: ignore[arg-type]
    names = sorted(set(trade_files) | set(bar_kinds))
    if tickers is not None:
        names = [t for t in names if t in set(tickers)]
    wanted = frozenset(days) if days is not None else None
    jobs = [
        _TickerJob(
            layout=layout,
            ticker=ticker,
            trade_files=tuple(trade_files.get(ticker, ())),
            bar_kinds=tuple(bar_kinds.get(ticker, ())),
            daily=daily.get(ticker, _EMPTY_DAILY),
            splits=splits.get(ticker, _EMPTY_SPLITS),
            days=wanted,
            anchor=anchor,
            near_miss_from=near_miss_from,
        )
        for ticker in names
    ]
    results = sorted(map_tickers(_scan_ticker, jobs, workers=workers), key=lambda r: r.ticker)
    events = pd.DataFrame([e for r in results for e in r.events], columns=list(EVENT_COLUMNS))
    misses = pd.DataFrame([m for r in results for m in r.near_misses], columns=list(NEAR_MISS_COLUMNS))
    missing = [(r.ticker, d) for r in results for d, _ in r.no_prev_close]
    why = [status for r in results for _, status in r.no_prev_close]
    return EventScan(
        events=events.astype(
            {
                "t0_ns": "int64",
                "prev_close": "float64",
                "threshold": "float64",
                "t0_price": "float64",
                "max_gain": "float64",
            }
        ),
        near_misses=misses.astype({"peak_ns": "int64", "prev_close": "float64", "peak_pct": "float64"}),
        split_flagged=[(r.ticker, d) for r in results for d in r.split_flagged],
        no_prev_close=len(missing),
        no_prev_close_days=missing,
        no_prev_close_why=why,
    )


# --- the public table -----------------------------------------------------------------------------


def t0_ny(t0_ns: np.ndarray | pd.Series) -> list[str]:
    """New York local times of UTC nanosecond stamps as ISO strings with offset, to the millisecond
    (``2025-01-23T08:06:12.345-05:00``)."""
    stamps = pd.DatetimeIndex(np.asarray(t0_ns, dtype=np.int64).view("datetime64[ns]"), tz="UTC")
    return [s.isoformat(timespec="milliseconds") for s in stamps.tz_convert("America/New_York")]


def event_table(events: pd.DataFrame) -> pd.DataFrame:
    """The public events table of :attr:`EventScan.events`: columns :data:`EVENT_TABLE_COLUMNS`, ordered by
    ``t0_ns`` then ticker (what ``sigma9 lake events`` writes and the DuckDB view ``events`` shows)."""
    out = events.sort_values(["t0_ns", "ticker"], kind="stable").reset_index(drop=True)
    out = out.assign(t0_ny=t0_ny(out["t0_ns"]) if len(out) else pd.Series([], dtype=object))
    return out[list(EVENT_TABLE_COLUMNS)]


def event_arrow(events: pd.DataFrame) -> pa.Table:
    """:func:`event_table` as an Arrow table of :data:`EVENT_TABLE_SCHEMA`."""
    return pa.Table.from_pandas(event_table(events), schema=EVENT_TABLE_SCHEMA, preserve_index=False)


def write_event_table(path: Path, events: pd.DataFrame) -> Path:
    """Write :func:`event_table` of ``events`` to ``path`` atomically: CSV for ``.csv``, Parquet for ``.parquet``."""
    return write_table_file(path, event_table(events), "events", event_arrow(events))


# --- the cache ------------------------------------------------------------------------------------

EVENTS_CACHE_DIR = "derived/events"
"""Where :func:`lake_events` keeps computed events, under the lake root."""
EVENTS_CACHE_VERSION = 2
"""Part of every cache key: raise it when the event rule or the cached columns change."""
_CACHE_META = b"sigma9.events"
_CACHE_SCHEMA = pa.schema(
    [
        pa.field("ticker", pa.string()),
        pa.field("date", pa.date32()),
        pa.field("t0_ns", pa.int64()),
        pa.field("prev_close", pa.float64()),
        pa.field("threshold", pa.float64()),
        pa.field("t0_price", pa.float64()),
        pa.field("prev_date", pa.date32()),
        pa.field("t0_resolution", pa.string()),
        pa.field("max_gain", pa.float64()),
        pa.field("flags", pa.string()),
    ]
)


def _table_files(layout: LakeLayout) -> list[Path]:
    files = [layout.daily, layout.splits]
    for kind in ("1s", "1m"):
        files += [layout.bars(kind, t) for t in layout.bar_tickers(kind)]  # type: ignore[arg-type]
    files += [p for _, _, p in layout.trade_files()]
    return files


def lake_fingerprint(layout: LakeLayout) -> str:
    """A hex digest of the lake's market tables: every table file's path, size and modification time (a stat
    per file, no read). Any rewrite of a table file, an added or a removed one, changes it."""
    digest = hashlib.sha256(f"events-v{EVENTS_CACHE_VERSION}\n".encode())
    for path in _table_files(layout):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        digest.update(f"{path.relative_to(layout.root).as_posix()}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _cache_prefix(anchor: float) -> str:
    return f"events-anchor{anchor!r}-"


def events_cache_path(layout: LakeLayout, anchor: float = DEFAULT_ANCHOR, fingerprint: str | None = None) -> Path:
    """The cache file of the lake's events at ``anchor`` for its current (or the given) fingerprint."""
    key = (fingerprint or lake_fingerprint(layout))[:20]
    return layout.root / EVENTS_CACHE_DIR / f"{_cache_prefix(anchor)}{key}.parquet"


def _write_cache(path: Path, scan: EventScan, anchor: float) -> None:
    skipped = {
        "split_flagged": [[t, d.isoformat()] for t, d in scan.split_flagged],
        "no_prev_close": [
            [t, d.isoformat(), why] for (t, d), why in zip(scan.no_prev_close_days, scan.no_prev_close_why)
        ],
    }
    table = pa.Table.from_pandas(scan.events[list(EVENT_COLUMNS)], schema=_CACHE_SCHEMA, preserve_index=False)
    table = table.replace_schema_metadata({_CACHE_META: json.dumps(skipped).encode()})
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    for other in path.parent.glob(f"{_cache_prefix(anchor)}*.parquet"):
        if other != path:  # stale: the lake changed since
            with contextlib.suppress(OSError):
                other.unlink()


def _read_cache(path: Path) -> EventScan | None:
    try:
        table = pq.read_table(path)
        skipped = json.loads((table.schema.metadata or {})[_CACHE_META])
        if table.schema.remove_metadata() != _CACHE_SCHEMA:
            return None
    except (pa.ArrowException, OSError, KeyError, ValueError):
        return None  # unreadable: recomputed and rewritten
    events = table.to_pandas(date_as_object=True)
    missing = [(t, dt.date.fromisoformat(d)) for t, d, _ in skipped["no_prev_close"]]
    return EventScan(
        events=events,
        near_misses=pd.DataFrame(columns=list(NEAR_MISS_COLUMNS)),
        split_flagged=[(t, dt.date.fromisoformat(d)) for t, d in skipped["split_flagged"]],
        no_prev_close=len(missing),
        no_prev_close_days=missing,
        no_prev_close_why=[why for _, _, why in skipped["no_prev_close"]],
    )


def lake_events(layout: LakeLayout, *, anchor: float = DEFAULT_ANCHOR, workers: int = 1) -> EventScan:
    """:func:`find_events` over the whole lake (no near misses), cached.

    The cache file (``<root>/derived/events/events-anchor<anchor>-<fingerprint>.parquet``, written
    atomically) is keyed by the anchor and :func:`lake_fingerprint`, so a changed lake is never answered
    from a stale file; a lake that cannot be written to is scanned every time. The scan reads one state
    of the lake: a commit waits for it to end.
    """
    with reading(layout.root):
        return _cached_events(layout, anchor, workers)


def _cached_events(layout: LakeLayout, anchor: float, workers: int) -> EventScan:
    fingerprint = lake_fingerprint(layout)
    path = events_cache_path(layout, anchor, fingerprint)
    if path.exists():
        cached = _read_cache(path)
        if cached is not None:
            return cached
    scan = find_events(layout, anchor=anchor, workers=workers)
    if lake_fingerprint(layout) == fingerprint:  # the lake did not change while it was read
        with contextlib.suppress(OSError):
            _write_cache(path, scan, anchor)
    return scan


def cached_event_files(layout: LakeLayout) -> list[Path]:
    """The event cache files of the lake (temporary files excluded)."""
    folder = layout.root / EVENTS_CACHE_DIR
    return sorted(p for p in folder.glob("events-*.parquet") if not p.name.startswith(TEMP_PREFIX))
