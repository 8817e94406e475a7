"""What the lake holds, per ticker and trading day, and whether that is enough for a FeatureSpec.

:func:`lake_coverage` reads which of the four market tables hold each (ticker, New York date):
``trades`` (a trades file), ``1s`` and ``1m`` (rows in the ticker's bar file on that date) and
``daily`` (a row in the daily table). Bar files are read for their ``ts`` column only.

:func:`require_sources` is the check every consumer of a FeatureSpec runs first (dataset, replay,
backtest, features parity and consistency): when the spec's enabled sources need tables the lake
lacks on the requested days, it raises one :class:`~sigma9_runtime.errors.LakeError` line naming what
is missing, what the lake has, and what would work, e.g.::

    FS_2026-01-16_002 reads tick and bar_1s; the lake at data has 1m and daily only
    (2024-08-15..2025-01-06): use a spec whose sources are bar_1m/daily (FS_2026-01-16_003) or import trades
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from sigma9_dag.lake.commit import reading
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.errors import LakeError
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.streams import LAKE_TABLES, SOURCE_TABLE, LakeTable, enabled_sources, spec_tables

NY = "America/New_York"
HOUR_NS = 3_600_000_000_000
TABLE_NAMES: dict[str, str] = {"trades": "trades", "1s": "1-second bars", "1m": "1-minute bars", "daily": "daily bars"}
"""How a message names each table."""
IMPORT_HINT: dict[str, str] = {
    "trades": "import trades",
    "1s": "import 1-second bars (or trades: the importers build them)",
    "1m": "import 1-minute bars",
    "daily": "import daily bars",
}


@dataclass(frozen=True)
class TableCoverage:
    """One table's extent: ticker-days, tickers, days and the date range."""

    table: str
    ticker_days: int
    tickers: int
    days: int
    first: dt.date | None
    last: dt.date | None

    @property
    def span(self) -> str:
        """``first..last`` (``-`` when empty)."""
        return f"{self.first}..{self.last}" if self.first is not None else "-"


def _ny_dates(ts_ns: np.ndarray) -> list[dt.date]:
    """Distinct New York dates of timestamps (converted once per distinct UTC hour: the offset is whole hours)."""
    if ts_ns.size == 0:
        return []
    hours = ts_ns // HOUR_NS
    hours = np.unique(hours) if np.any(hours[1:] < hours[:-1]) else hours[np.r_[True, hours[1:] != hours[:-1]]]
    local = pd.DatetimeIndex((hours * HOUR_NS).view("datetime64[ns]"), tz="UTC").tz_convert(NY)
    return sorted({stamp.date() for stamp in local})


def _bar_days(layout: LakeLayout, kind: str) -> list[tuple[str, dt.date]]:
    out = []
    for ticker in layout.bar_tickers(kind):  # type: ignore[arg-type]
        path = layout.bars(kind, ticker)  # type: ignore[arg-type]
        try:
            ts = pq.read_table(path, columns=["ts"]).column("ts").to_numpy()
        except Exception as e:  # unreadable or without a ts column: name the file
            raise LakeError(f"{path}: cannot read the ts column ({e})") from e
        out.extend((ticker, day) for day in _ny_dates(ts))
    return out


class LakeCoverage:
    """Which tables hold each (ticker, date) of a lake.

    Attributes
    ----------
    root
        The lake root.
    frame
        One row per (ticker, date) holding anything: columns ``ticker``, ``date`` and one bool column per
        table (``trades``, ``1s``, ``1m``, ``daily``), sorted by ticker and date.
    """

    def __init__(self, root: Path, frame: pd.DataFrame) -> None:
        self.root = Path(root)
        self.frame = frame

    @classmethod
    def read(cls, layout: LakeLayout) -> LakeCoverage:
        """The coverage of the lake at ``layout`` (:func:`lake_coverage`)."""
        return lake_coverage(layout)

    # --- tables ---------------------------------------------------------------------------------

    def summary(self, table: LakeTable) -> TableCoverage:
        """The extent of ``table``."""
        rows = self.frame[self.frame[table]]
        dates = rows["date"]
        return TableCoverage(
            table=table,
            ticker_days=len(rows),
            tickers=int(rows["ticker"].nunique()),
            days=int(dates.nunique()),
            first=dates.min() if len(rows) else None,
            last=dates.max() if len(rows) else None,
        )

    def tables(self) -> list[LakeTable]:
        """The tables holding any row, finest first."""
        return [t for t in LAKE_TABLES if bool(self.frame[t].any())]

    def _mask(self, tables: Sequence[LakeTable]) -> np.ndarray:
        mask = np.ones(len(self.frame), dtype=bool)
        for table in tables:
            mask &= self.frame[table].to_numpy()
        return mask

    # --- questions ------------------------------------------------------------------------------

    def days(self, tables: Sequence[LakeTable]) -> list[dt.date]:
        """Dates on which at least one ticker holds every table of ``tables``, ascending."""
        return sorted(set(self.frame.loc[self._mask(tables), "date"]))

    def tickers(self, tables: Sequence[LakeTable], days: Iterable[dt.date] | None = None) -> list[str]:
        """Tickers holding every table of ``tables`` on at least one date (of ``days`` when given)."""
        mask = self._mask(tables)
        if days is not None:
            mask &= self.frame["date"].isin(set(days)).to_numpy()
        return sorted(set(self.frame.loc[mask, "ticker"]))

    def pairs(self, tables: Sequence[LakeTable]) -> set[tuple[str, dt.date]]:
        """Every (ticker, date) holding every table of ``tables``."""
        rows = self.frame.loc[self._mask(tables), ["ticker", "date"]]
        return set(zip(rows["ticker"], rows["date"], strict=True))

    def has(self, ticker: str, day: dt.date, tables: Sequence[LakeTable]) -> bool:
        """Whether ``ticker`` holds every table of ``tables`` on ``day``."""
        rows = self.frame[(self.frame["ticker"] == ticker) & (self.frame["date"] == day)]
        return bool(len(rows)) and all(bool(rows[t].iloc[0]) for t in tables)

    def finest(self, ticker: str, day: dt.date) -> LakeTable | None:
        """The finest intraday table ``ticker`` holds on ``day`` (``trades``, ``1s``, ``1m``), or None."""
        rows = self.frame[(self.frame["ticker"] == ticker) & (self.frame["date"] == day)]
        if not len(rows):
            return None
        return next((t for t in ("trades", "1s", "1m") if bool(rows[t].iloc[0])), None)  # type: ignore[return-value]

    def span(self) -> str:
        """``2024-08-15..2025-01-06``: the first and last date holding any table (``-`` for an empty lake)."""
        if not len(self.frame):
            return "-"
        return f"{self.frame['date'].min()}..{self.frame['date'].max()}"


def lake_coverage(layout: LakeLayout) -> LakeCoverage:
    """Read which tables hold each (ticker, date) of the lake at ``layout`` (empty when there is no lake),
    from one state of the lake (never in the middle of a commit)."""
    with reading(layout.root):
        return _coverage(layout)


def _coverage(layout: LakeLayout) -> LakeCoverage:
    from sigma9_runtime.lake.tables import read_daily

    found: dict[LakeTable, list[tuple[str, dt.date]]] = {
        "trades": [(t, d) for t, d, _ in layout.trade_files()],
        "1s": _bar_days(layout, "1s"),
        "1m": _bar_days(layout, "1m"),
        "daily": [],
    }
    if layout.daily.exists():
        daily = read_daily(layout).select(["ticker", "date"]).to_pydict()
        found["daily"] = list(zip(daily["ticker"], daily["date"], strict=True))
    keys = sorted({key for pairs in found.values() for key in pairs})
    frame = pd.DataFrame(keys, columns=["ticker", "date"])
    for table, pairs in found.items():
        present = set(pairs)
        frame[table] = np.fromiter((key in present for key in keys), dtype=bool, count=len(keys))
    if not keys:
        frame = frame.astype({table: bool for table in LAKE_TABLES})
    return LakeCoverage(layout.root, frame)


# --- a FeatureSpec against the lake -------------------------------------------------------------


def _and(items: Sequence[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def intraday_tables(spec: FeatureSpec) -> list[LakeTable]:
    """The intraday lake tables ``spec`` reads (``trades``, ``1s``, ``1m``): a (ticker, day) holding all of
    them is one the spec can compute features for."""
    return [table for table in spec_tables(spec) if table != "daily"]


def spec_fits(spec: FeatureSpec, coverage: LakeCoverage) -> bool:
    """Whether the lake holds every table ``spec``'s enabled sources read (on some day)."""
    return set(spec_tables(spec)) <= set(coverage.tables())


def require_sources(
    spec: FeatureSpec,
    coverage: LakeCoverage,
    *,
    days: Sequence[dt.date] | None = None,
    alternatives: Iterable[FeatureSpec] = (),
    tables: Sequence[LakeTable] | None = None,
) -> None:
    """Raise :class:`LakeError` (one line) when the lake lacks a table ``spec``'s enabled sources read.

    Parameters
    ----------
    spec
        The FeatureSpec a consumer is about to run.
    coverage
        The lake's coverage.
    days
        The days the consumer reads (default: any day): each intraday table must hold at least one ticker
        on each of them.
    alternatives
        Other FeatureSpecs (e.g. the catalog's); those the lake can serve are named in the message.
    tables
        The tables needed (default: :func:`~sigma9_runtime.streams.spec_tables`); a backtest that rebuilds
        1-second bars from trades passes its own list.
    """
    needed = list(tables) if tables is not None else spec_tables(spec)
    held = coverage.tables()
    where = f"the lake at {coverage.root}"
    missing = [t for t in needed if t not in held]
    if missing:
        sources = [s for s in enabled_sources(spec) if SOURCE_TABLE[s] in missing] or missing
        fitting = [s.id for s in alternatives if s.id != spec.id and spec_fits(s, coverage)]
        offer = [s for s in enabled_sources_of_tables(held)]
        hint = f"use a spec whose sources are {'/'.join(offer)}" if offer else ""
        if hint and fitting:
            hint += f" ({', '.join(fitting)})"
        hint = " or ".join(h for h in (hint, _imports(missing)) if h)
        has = f"has {_and(held)} only ({coverage.span()})" if held else "holds no market table"
        raise LakeError(f"{spec.id} reads {_and(sources)}; {where} {has}: {hint}")
    if days:
        for table in needed:
            if table == "daily":
                continue
            present = set(coverage.days([table]))
            lacking = [d for d in days if d not in present]
            if lacking:
                summary = coverage.summary(table)
                source = next(s for s in enabled_sources(spec) if SOURCE_TABLE[s] == table)
                shown = ", ".join(str(d) for d in lacking[:3]) + (
                    f" (+{len(lacking) - 3} more)" if len(lacking) > 3 else ""
                )
                raise LakeError(
                    f"{spec.id} reads {source}; {where} has no {TABLE_NAMES[table]} on {shown} "
                    f"({TABLE_NAMES[table]} cover {summary.span})"
                )


def enabled_sources_of_tables(tables: Iterable[str]) -> list[str]:
    """The FeatureSpec sources the given lake tables can serve (``1m`` -> ``bar_1m``), in source order."""
    held = set(tables)
    return [source for source, table in SOURCE_TABLE.items() if table in held]


def _imports(missing: Sequence[str]) -> str:
    intraday = [t for t in missing if t != "daily"]
    if "trades" in intraday:  # the importers build 1-second and 1-minute bars from trades
        return "import trades" + (" and daily bars" if "daily" in missing else "")
    return " and ".join(IMPORT_HINT[t] for t in missing)
