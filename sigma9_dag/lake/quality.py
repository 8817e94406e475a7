"""The lake's data-quality report (``sigma9 lake check``) and its split decisions (``sigma9 lake splits``).

:func:`split_decisions` lists, from the one previous-close implementation
(:func:`sigma9_runtime.lake.closes.close_table`), every recorded split that adjusted a previous close and every
overnight move the split guard judged, with its evidence and verdict; a person confirms suspects into the splits
table with ``sigma9 lake import splits`` (the CSV ``sigma9 lake splits --suspects --out F.csv`` writes is one).

:func:`check_lake` gathers, per lake: coverage gaps per ticker (trading days inside a ticker's daily span without
a daily bar; days of intraday data without a daily bar), split suspects and applied splits, the ticker-days of
intraday data without a previous close (by reason), and, given a FeatureSpec, the symbol-days without enough
history for it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sigma9_dag.lake.coverage import LakeCoverage, lake_coverage
from sigma9_runtime.calendar import trading_days
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.lake.closes import CLOSE_STATUSES, close_table
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import read_daily, read_splits

DECISION_COLUMNS: tuple[str, ...] = (
    "ticker",
    "execution_date",
    "split_from",
    "split_to",
    "verdict",
    "prev_date",
    "prev_close",
    "price_ratio",
    "share_volume_ratio",
    "dollar_volume_ratio",
    "prior_move",
    "reason",
)
"""Columns of :func:`split_decisions`; the first four are the splits table's (``sigma9 lake import splits``)."""
VERDICTS = ("recorded", "suspect", "cleared")
SAMPLES = 5
"""Ticker-days listed per finding (the JSON report and the table alike)."""


def _split_sides(ratio: str) -> tuple[float, float]:
    """(split_from, split_to) of a ratio text: ``1:N`` (reverse) -> (N, 1); ``N:1`` (forward) -> (1, N)."""
    left, right = (float(x) for x in ratio.split(":"))
    return right, left


def split_decisions(layout: LakeLayout, verdicts: tuple[str, ...] = VERDICTS) -> pd.DataFrame:
    """Recorded splits that adjusted a previous close, and every overnight move the split guard judged (suspect
    or cleared), one row each (columns :data:`DECISION_COLUMNS`, ordered by date then ticker)."""
    if not layout.daily.exists():
        return pd.DataFrame(columns=list(DECISION_COLUMNS))
    table = close_table(read_daily(layout), read_splits(layout))
    rows: list[dict[str, Any]] = []
    for i in range(len(table)):
        recorded = table.split_factor[i] != 1.0 and table.status[i] != "first_day"
        judged = table.split_ratio[i] != ""
        if not (recorded or judged):
            continue
        if table.status[i] == "split_suspect":
            verdict = "suspect"
            split_from, split_to = _split_sides(table.split_ratio[i])
        elif judged:
            verdict = "cleared"
            split_from, split_to = _split_sides(table.split_ratio[i])
        else:
            verdict = "recorded"
            factor = float(table.split_factor[i])
            split_from, split_to = (factor, 1.0) if factor >= 1 else (1.0, 1 / factor)
        if recorded and judged and verdict == "cleared":
            verdict = "recorded"  # the recorded split left a big move: listed under recorded, evidence kept
        if verdict not in verdicts:
            continue
        rows.append(
            {
                "ticker": table.ticker[i],
                "execution_date": table.date[i],
                "split_from": float(split_from),
                "split_to": float(split_to),
                "verdict": verdict,
                "prev_date": table.prev_date[i],
                "prev_close": float(table.prev_close[i]),
                "price_ratio": float(table.price_ratio[i]),
                "share_volume_ratio": float(table.share_volume_ratio[i]),
                "dollar_volume_ratio": float(table.dollar_volume_ratio[i]),
                "prior_move": float(table.prior_move[i]),
                "reason": table.split_reason[i] or f"recorded split x{table.split_factor[i]:g} applied",
            }
        )
    frame = pd.DataFrame(rows, columns=list(DECISION_COLUMNS))
    return frame.sort_values(["execution_date", "ticker"], kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class TickerGaps:
    """One ticker's coverage gaps."""

    ticker: str
    first: dt.date
    last: dt.date
    daily_missing: list[dt.date]
    """Trading days inside ``first..last`` (its daily bars' span) without a daily bar."""
    intraday_without_daily: list[dt.date]
    """Days with intraday data but no daily bar."""


@dataclass
class LakeCheck:
    """What :func:`check_lake` found (``render`` for people, ``to_dict`` for JSON)."""

    root: str
    span: str
    tickers: int
    ticker_days: int
    gaps: list[TickerGaps]
    decisions: pd.DataFrame
    no_prev_close: dict[str, int]
    no_prev_close_samples: list[tuple[str, dt.date, str]]
    intraday_days: int
    history: Any | None = None
    notes: list[str] = field(default_factory=list)

    def _decisions(self, verdict: str) -> pd.DataFrame:
        return self.decisions[self.decisions["verdict"] == verdict]

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""

        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            out = []
            for row in frame.to_dict("records"):
                out.append({k: json_value(v) for k, v in row.items()})
            return out

        return {
            "root": self.root,
            "span": self.span,
            "tickers": self.tickers,
            "ticker_days": self.ticker_days,
            "coverage_gaps": [
                {
                    "ticker": g.ticker,
                    "first": g.first.isoformat(),
                    "last": g.last.isoformat(),
                    "daily_missing": len(g.daily_missing),
                    "daily_missing_days": [d.isoformat() for d in g.daily_missing[:SAMPLES]],
                    "intraday_without_daily": len(g.intraday_without_daily),
                    "intraday_without_daily_days": [d.isoformat() for d in g.intraday_without_daily[:SAMPLES]],
                }
                for g in self.gaps
            ],
            "splits_applied": records(self._decisions("recorded")),
            "split_suspects": records(self._decisions("suspect")),
            "splits_cleared": len(self._decisions("cleared")),
            "no_prev_close": {
                "intraday_ticker_days": self.intraday_days,
                "by_reason": self.no_prev_close,
                "samples": [
                    {"ticker": t, "date": d.isoformat(), "reason": r} for t, d, r in self.no_prev_close_samples
                ],
            },
            "history": self.history.to_json() if self.history is not None else None,
        }

    def render(self) -> str:
        """The report as text: one section per finding, figures first."""
        lines = [f"lake {self.root}: {self.tickers:,} tickers, {self.ticker_days:,} ticker-days, {self.span}"]
        missing = sum(len(g.daily_missing) for g in self.gaps)
        orphan = sum(len(g.intraday_without_daily) for g in self.gaps)
        lines.append(
            f"coverage gaps: {len(self.gaps):,} tickers; {missing:,} trading days missing inside daily spans, "
            f"{orphan:,} days of intraday data without a daily bar"
        )
        for g in sorted(self.gaps, key=lambda g: -(len(g.daily_missing) + len(g.intraday_without_daily)))[:SAMPLES]:
            lines.append(
                f"  {g.ticker:<8} {g.first}..{g.last}: {len(g.daily_missing)} daily missing"
                f"{_days(g.daily_missing)}, {len(g.intraday_without_daily)} intraday without daily"
                f"{_days(g.intraday_without_daily)}"
            )
        applied, suspects = self._decisions("recorded"), self._decisions("suspect")
        lines.append(
            f"splits: {len(applied):,} applied from the splits table, {len(suspects):,} suspects "
            f"(kept out of events until confirmed: sigma9 lake splits --suspects), "
            f"{len(self._decisions('cleared')):,} big moves cleared"
        )
        for row in suspects.head(SAMPLES).itertuples(index=False):
            lines.append(f"  {row.ticker:<8} {row.execution_date}: {row.reason}")
        total = sum(self.no_prev_close.values())
        why = ", ".join(f"{n:,} {r.replace('_', ' ')}" for r, n in self.no_prev_close.items() if n)
        lines.append(
            f"previous close: {self.intraday_days - total:,} of {self.intraday_days:,} ticker-days of intraday data "
            f"have one" + (f"; none for {why}" if why else "")
        )
        for ticker, day, reason in self.no_prev_close_samples:
            lines.append(f"  {ticker:<8} {day}: {reason.replace('_', ' ')}")
        if self.history is not None:
            lines.append(self.history.summary())
            lines += [f"  {line}" for line in self.history.worst(SAMPLES)]
        lines += self.notes
        return "\n".join(lines)


def _days(days: list[dt.date]) -> str:
    if not days:
        return ""
    more = f", +{len(days) - 3}" if len(days) > 3 else ""
    return " (" + ", ".join(d.isoformat() for d in days[:3]) + more + ")"


def json_value(value: Any) -> Any:
    """``value`` as JSON: dates in ISO format, non-finite floats as null."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


def coverage_gaps(coverage: LakeCoverage) -> list[TickerGaps]:
    """Per ticker with a gap: trading days inside its daily span without a daily bar, and days of intraday data
    without a daily bar."""
    frame = coverage.frame
    out: list[TickerGaps] = []
    intraday = frame["trades"] | frame["1s"] | frame["1m"]
    for ticker, rows in frame.groupby("ticker", sort=True):
        daily_days = sorted(rows.loc[rows["daily"], "date"])
        orphans = sorted(rows.loc[intraday[rows.index] & ~rows["daily"], "date"])
        missing: list[dt.date] = []
        if daily_days:
            held = set(daily_days)
            missing = [d for d in trading_days(daily_days[0], daily_days[-1]) if d not in held]
        if missing or orphans:
            held_days = daily_days + orphans
            out.append(TickerGaps(str(ticker), min(held_days), max(held_days), missing, orphans))
    return out


def check_lake(layout: LakeLayout, spec: FeatureSpec | None = None) -> LakeCheck:
    """The data-quality report of the lake (module docstring); with ``spec``, the history it needs as well."""
    coverage = lake_coverage(layout)
    frame = coverage.frame
    intraday = frame[frame["trades"] | frame["1s"] | frame["1m"]]
    reasons: Counter[str] = Counter()
    samples: list[tuple[str, dt.date, str]] = []
    if layout.daily.exists() and len(intraday):
        days = sorted(set(intraday["date"]))
        table = close_table(read_daily(layout), read_splits(layout), add_days=days)
        status = dict(zip(zip(table.ticker, table.date), table.status))
        for ticker, day in zip(intraday["ticker"], intraday["date"]):
            why = status.get((ticker, day), "first_day")
            if why != "ok":
                reasons[why] += 1
                if len(samples) < SAMPLES:
                    samples.append((ticker, day, why))
    else:
        reasons["first_day"] = len(intraday)
    history = None
    if spec is not None:
        from sigma9_dag.lake.history import history_sufficiency

        history = history_sufficiency(coverage, spec)
    return LakeCheck(
        root=layout.location,
        span=coverage.span(),
        tickers=int(frame["ticker"].nunique()),
        ticker_days=len(frame),
        gaps=coverage_gaps(coverage),
        decisions=split_decisions(layout),
        no_prev_close={r: reasons.get(r, 0) for r in CLOSE_STATUSES if r != "ok"},
        no_prev_close_samples=samples,
        intraday_days=len(intraday),
        history=history,
    )
