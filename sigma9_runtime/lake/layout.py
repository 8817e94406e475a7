"""The market data lake layout: the one place that says where each table lives and what it holds.

Documented in ``docs/lake.md``. Every reader and writer of the project (synthetic market,
importers, feature batch, backtest, replay) goes through :class:`LakeLayout`, so a path
template change (a run config's ``path_glob``) is honoured everywhere.

::

    <root>/
    ├── lake.json                              # what the lake holds and who made it (written last)
    ├── daily/all_daily.parquet                # daily bars, all tickers
    ├── 1m/{ticker}.parquet                    # 1-minute bars, stamped at interval start
    ├── 1s/{ticker}.parquet                    # 1-second bars, stamped at interval start
    ├── trades/{ticker}/{date}.parquet         # trades of one ticker and trading day
    ├── reference/splits.parquet               # splits (ticker, execution_date, split_from, split_to)
    ├── ground_truth/events.parquet            # synthetic market only: planted surges (T0)
    ├── ground_truth/hard_negatives.parquet    # synthetic market only: early-surge look-alikes that fade
    └── reports/*.json                         # import/generation reports (quarantined rows, flagged days)
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal

from sigma9_runtime.atomic import TEMP_PREFIX

DATA_ROOT_ENV = "SIGMA9_DATA_ROOT"
DEFAULT_DATA_ROOT = "data"
TICKER_PATTERN = re.compile(r"^[A-Z][A-Z0-9.\-]{0,15}$")

BarKind = Literal["1s", "1m"]

# Column name -> type, as Arrow type names (see sigma9_runtime.lake.tables for the Arrow schemas).
TRADE_COLUMNS: dict[str, str] = {
    "ticker": "string",
    "ts": "int64",  # ns UTC, exchange/SIP timestamp
    "price": "float64",
    "size": "float64",
    "exchange": "int32",
    "conditions": "list<int32>",
    "sequence": "int64",
    "correction": "int32",
}
BAR_COLUMNS: dict[str, str] = {
    "ticker": "string",
    "ts": "int64",  # ns UTC, start of the interval
    "open": "float64",
    "high": "float64",
    "low": "float64",
    "close": "float64",
    "volume": "float64",
    "vwap": "float64",
    "transactions": "int64",
}
DAILY_COLUMNS: dict[str, str] = {
    "ticker": "string",
    "date": "date32",
    "open": "float64",
    "high": "float64",
    "low": "float64",
    "close": "float64",
    "volume": "float64",
    "vwap": "float64",
    "transactions": "int64",
}
SPLIT_COLUMNS: dict[str, str] = {
    "ticker": "string",
    "execution_date": "date32",
    "split_from": "float64",
    "split_to": "float64",
}
EVENT_COLUMNS: dict[str, str] = {
    "ticker": "string",
    "date": "date32",
    "t0_ns": "int64",  # first eligible trade at or above prev_close * (1 + anchor)
    "archetype": "string",
    "prev_close": "float64",  # split-adjusted previous regular-session close
    "onset_ns": "int64",  # when the archetype's footprint starts (shock: T0)
}
HARD_NEGATIVE_COLUMNS: dict[str, str] = {
    "ticker": "string",
    "date": "date32",
    "archetype": "string",  # footprint it imitates
    "prev_close": "float64",
    "onset_ns": "int64",
    "peak_ns": "int64",
    "peak_pct": "float64",  # highest eligible trade price / prev_close - 1 (always < anchor)
}


def resolve_data_root(root: str | Path | None = None) -> Path | str:
    """The lake's location: ``root`` if given, else ``$SIGMA9_DATA_ROOT``, else ``data``; a directory, or a URL
    (``s3://bucket/prefix``) kept as text."""
    chosen = root if root is not None else (os.environ.get(DATA_ROOT_ENV) or DEFAULT_DATA_ROOT)
    return _location(chosen)


def _location(location: str | Path) -> Path | str:
    from sigma9_runtime.lake.object_lake import is_lake_url

    return str(location) if is_lake_url(str(location)) else Path(location)


def open_lake(location: str | Path | None = None, **templates: str) -> LakeLayout:
    """The layout of the lake at ``location`` (default :func:`resolve_data_root`'s): a directory, or a lake in
    object storage (``s3://bucket/prefix``, optionally pinned ``#v=N``), read through its local mirror of one
    version (:mod:`sigma9_runtime.lake.object_lake`). ``templates`` override the layout's paths."""
    chosen = resolve_data_root(location)
    if isinstance(chosen, str):
        from sigma9_runtime.lake.object_lake import mirror_lake

        root, pinned = mirror_lake(chosen)
        return LakeLayout(root, source=pinned, **templates)
    return LakeLayout(chosen, **templates)


def check_ticker(ticker: str) -> str:
    """Refuse tickers that are not plain symbols (they become file names)."""
    if not TICKER_PATTERN.match(ticker):
        raise ValueError(f"invalid ticker {ticker!r}: expected upper-case letters, digits, '.' or '-'")
    return ticker


def run_config_templates(config: object) -> dict[str, str]:
    """The path templates a BacktestRunConfig's ``data`` section sets (daily path, bar templates)."""
    data = config.data  # type: ignore[attr-defined]
    templates = {"daily_path": data.daily.path, "bar_1m_template": data.intraday.bar_1m.path_glob}
    if data.intraday.bar_1s is not None:
        templates["bar_1s_template"] = data.intraday.bar_1s.path_glob
    return templates


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{ticker\}|\{date\})", template)
    pattern = ""
    for part in parts:
        if part == "{ticker}":
            pattern += r"(?P<ticker>[A-Z][A-Z0-9.\-]*)"
        elif part == "{date}":
            pattern += r"(?P<date>\d{4}-\d{2}-\d{2})"
        else:
            pattern += re.escape(part)
    return re.compile(f"^{pattern}$")


@dataclass(frozen=True)
class LakeLayout:
    """Paths of one lake. Templates are relative to ``root`` and may use ``{ticker}`` and ``{date}``.

    Examples
    --------
    >>> layout = LakeLayout(Path("data"))
    >>> layout.bars("1m", "ABCD")
    PosixPath('data/1m/ABCD.parquet')
    """

    root: Path
    daily_path: str = "daily/all_daily.parquet"
    bar_1m_template: str = "1m/{ticker}.parquet"
    bar_1s_template: str = "1s/{ticker}.parquet"
    trades_template: str = "trades/{ticker}/{date}.parquet"
    splits_path: str = "reference/splits.parquet"
    events_path: str = "ground_truth/events.parquet"
    hard_negatives_path: str = "ground_truth/hard_negatives.parquet"
    reports_dir: str = "reports"
    meta_path: str = "lake.json"
    source: str | None = None
    """The pinned object-store location (``s3://b/p#v=12``) ``root`` mirrors; None for a lake on disk."""

    @classmethod
    def from_run_config(cls, config: object) -> LakeLayout:
        """Layout honouring a BacktestRunConfig's ``data`` section (root, daily path, bar templates)."""
        return open_lake(config.data.parquet_root, **run_config_templates(config))  # type: ignore[attr-defined]

    @property
    def location(self) -> str:
        """Where this lake is, as worker tasks carry it (:func:`open_lake` reopens it): the pinned URL of a lake
        in object storage, else the root directory."""
        return self.source if self.source is not None else str(self.root)

    def owned_entries(self) -> list[str]:
        """The top-level entries the layout owns (``1m``, ``trades``, ``lake.json``, ...): the lake's own files are
        under them; other entries under the root (experiments, derived caches, lock files) are not the lake's."""
        return sorted({Path(template).parts[0] for template in self.templates().values()})

    def templates(self) -> dict[str, str]:
        """The layout's path templates, as keyword arguments of :func:`open_lake` or :class:`LakeLayout`."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("root", "source")}

    # --- paths ----------------------------------------------------------------------------------

    @property
    def daily(self) -> Path:
        """Daily bars table."""
        return self.root / self.daily_path

    def bars(self, kind: BarKind, ticker: str) -> Path:
        """Bar file of ``ticker`` (``kind`` ``1s`` or ``1m``)."""
        return self.root / self._bar_template(kind).format(ticker=check_ticker(ticker))

    def trades(self, ticker: str, day: dt.date) -> Path:
        """Trades file of ``ticker`` on ``day``."""
        return self.root / self.trades_template.format(ticker=check_ticker(ticker), date=day.isoformat())

    @property
    def splits(self) -> Path:
        """Splits reference table."""
        return self.root / self.splits_path

    @property
    def events(self) -> Path:
        """Ground-truth events (synthetic lakes)."""
        return self.root / self.events_path

    @property
    def hard_negatives(self) -> Path:
        """Ground-truth hard negatives (synthetic lakes)."""
        return self.root / self.hard_negatives_path

    @property
    def reports(self) -> Path:
        """Directory of generation/import reports."""
        return self.root / self.reports_dir

    @property
    def meta(self) -> Path:
        """Lake description file."""
        return self.root / self.meta_path

    def _bar_template(self, kind: BarKind) -> str:
        if kind == "1m":
            return self.bar_1m_template
        if kind == "1s":
            return self.bar_1s_template
        raise ValueError(f"unknown bar kind {kind!r}: expected '1s' or '1m'")

    # --- listings -------------------------------------------------------------------------------

    def _matches(self, template: str) -> list[re.Match[str]]:
        regex = _template_regex(template)
        glob = template.replace("{ticker}", "*").replace("{date}", "*")
        found = []
        for path in self.root.glob(glob):
            if path.name.startswith(TEMP_PREFIX):
                continue
            match = regex.match(path.relative_to(self.root).as_posix())
            if match:
                found.append(match)
        return found

    def bar_tickers(self, kind: BarKind) -> list[str]:
        """Tickers with a bar file of ``kind``."""
        return sorted({m["ticker"] for m in self._matches(self._bar_template(kind))})

    def trade_tickers(self) -> list[str]:
        """Tickers with at least one trades file."""
        return sorted({m["ticker"] for m in self._matches(self.trades_template)})

    def trade_files(self, ticker: str | None = None, day: dt.date | None = None) -> list[tuple[str, dt.date, Path]]:
        """(ticker, date, path) of trades files, optionally for one ticker and/or one day."""
        template = self.trades_template
        if ticker is not None:
            template = template.replace("{ticker}", check_ticker(ticker))
        if day is not None:
            template = template.replace("{date}", day.isoformat())
        out = []
        for m in self._matches(template):
            groups = m.groupdict()
            t = groups.get("ticker") or ticker
            d = dt.date.fromisoformat(groups["date"]) if groups.get("date") else day
            out.append((t, d, self.root / m.group(0)))
        return sorted(out, key=lambda row: (row[0], row[1]))  # type: ignore[arg-type,return-value]

    def trade_dates(self) -> list[dt.date]:
        """Trading days with at least one trades file."""
        return sorted({day for _, day, _ in self.trade_files()})
