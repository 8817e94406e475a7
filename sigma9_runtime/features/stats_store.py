"""The feature-stats store: per symbol and day, the statistics normalization pools (needs pyarrow).

Layout under the lake root (keyed by the FeatureSpec's schema hash, so another spec never reads
them): ``derived/feature_stats/<hash>/{ticker}.parquet`` with one row per trading day: ``date`` and
per feature (lists in feature order) ``count``, ``total``, ``total_sq``, ``q_low``, ``q_high``
(:class:`~sigma9_runtime.features.normalization.DailyStats`). The lab fills it
(``sigma9 features stats``); the online warm-up and the offline batch read it through
:meth:`FeatureStatsStore.params_for`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from sigma9_runtime.features.normalization import DailyStats, NormParams, combine_stats
from sigma9_runtime.features.plan import FeaturePlan
from sigma9_runtime.schema_hash import schema_hash

STAT_FIELDS = ("count", "total", "total_sq", "q_low", "q_high")


class FeatureStatsStore:
    """Daily feature statistics of one FeatureSpec in one lake."""

    def __init__(self, layout: object, plan: FeaturePlan) -> None:
        self.plan = plan
        digest = schema_hash(plan.spec).removeprefix("sha256:")[:16]
        self.root: Path = Path(layout.root) / "derived" / "feature_stats" / digest  # type: ignore[attr-defined]

    def path(self, ticker: str) -> Path:
        """Stats file of ``ticker``."""
        return self.root / f"{ticker}.parquet"

    def read(self, ticker: str) -> dict[dt.date, DailyStats]:
        """Every stored day of ``ticker`` (empty when none)."""
        import pyarrow.parquet as pq

        path = self.path(ticker)
        if not path.exists():
            return {}
        table = pq.read_table(path)
        columns = {name: table.column(name).to_pylist() for name in ("date", *STAT_FIELDS)}
        return {
            day: DailyStats(*(np.array(columns[name][i], dtype=np.float64) for name in STAT_FIELDS))
            for i, day in enumerate(columns["date"])
        }

    def write(self, ticker: str, days: dict[dt.date, DailyStats]) -> None:
        """Merge ``days`` into ``ticker``'s file (atomic replace)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        from sigma9_runtime.atomic import atomic_path

        merged = {**self.read(ticker), **days}
        ordered = sorted(merged)
        table = pa.table(
            {
                "date": pa.array(ordered, pa.date32()),
                **{
                    name: pa.array([getattr(merged[d], name).tolist() for d in ordered], pa.list_(pa.float64()))
                    for name in STAT_FIELDS
                },
            }
        )
        self.root.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.path(ticker)) as tmp:
            pq.write_table(table, tmp)

    def _previous(self, stats: dict[dt.date, DailyStats], day: dt.date) -> list[DailyStats]:
        normalization = self.plan.spec.normalization
        earlier = [d for d in sorted(stats) if d < day and np.any(stats[d].count > 0)]
        if normalization.lookback is not None:
            earlier = earlier[-normalization.lookback.days :]
        return [stats[d] for d in earlier]

    def params_for(
        self, day: dt.date, symbols: list[str], held: Mapping[str, dict[dt.date, DailyStats]] | None = None
    ) -> dict[str, NormParams]:
        """Normalization parameters of ``day`` per symbol, from earlier days only.

        ``per_symbol_rolling``: each symbol's last ``lookback`` days with statistics (``held``: symbols whose
        stored days were read already, :meth:`read`, as a batch over many days of one symbol passes).
        ``global``: the same parameters for every symbol, pooled over every stored symbol's last
        ``lookback`` days (all earlier days without a lookback).
        """
        features = len(self.plan.features)
        if self.plan.spec.normalization.mode == "global":
            pooled: list[DailyStats] = []
            tickers = sorted(p.stem for p in self.root.glob("*.parquet")) if self.root.exists() else []
            for ticker in tickers:
                pooled.extend(self._previous(self.read(ticker), day))
            params = combine_stats(pooled, features)
            return {symbol: params for symbol in symbols}
        held = held or {}
        return {
            symbol: combine_stats(self._previous(held[symbol] if symbol in held else self.read(symbol), day), features)
            for symbol in symbols
        }
