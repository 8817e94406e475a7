"""Consistency: the feature rows a runtime logged against the offline batch of the same day.

A runtime with a consistency log (:class:`~sigma9_runtime.features.consistency_log.FeatureLog`) records
every feature row it scored. :func:`feature_consistency` recomputes the same (symbol, step) rows
offline (:func:`~sigma9_dag.features.batch.features_at`, normalization from the feature-stats store)
over each logged symbol-day's span of steps and reports:

``mismatch ratio``  compared rows with at least one value differing (beyond ``tolerance``; NaN equals NaN)
``missing ratio``   offline rows in the span the log does not have (steps the runtime did not score)
``extra ratio``     logged rows the offline batch does not have (e.g. a step off the grid, a halted row)

A log of another FeatureSpec (schema hash in its metadata) is refused with :class:`SchemaMismatch`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sigma9_dag.features.batch import features_at
from sigma9_dag.features.compare import mismatches
from sigma9_dag.features.stats import ensure_day_stats
from sigma9_dag.lake.coverage import LakeCoverage, lake_coverage
from sigma9_runtime.calendar import session_date
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.features.consistency_log import read_feature_log
from sigma9_runtime.features.grid import day_grid
from sigma9_runtime.features.names import feature_names
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.schema_hash import require_schema_hash


@dataclass
class ConsistencyReport:
    """What :func:`feature_consistency` compared and found."""

    log: Path
    days: list[dt.date]
    symbols: int
    logged_rows: int = 0
    offline_rows: int = 0
    compared_rows: int = 0
    mismatched_rows: int = 0
    missing_rows: int = 0
    extra_rows: int = 0
    max_abs_diff: float = 0.0
    per_feature: dict[str, int] = field(default_factory=dict)

    @property
    def mismatch_ratio(self) -> float:
        return self.mismatched_rows / self.compared_rows if self.compared_rows else 0.0

    @property
    def missing_ratio(self) -> float:
        return self.missing_rows / self.offline_rows if self.offline_rows else 0.0

    @property
    def extra_ratio(self) -> float:
        return self.extra_rows / self.logged_rows if self.logged_rows else 0.0

    @property
    def consistent(self) -> bool:
        """Every logged row is an offline row with equal values, and none is missing."""
        return self.mismatched_rows == 0 and self.missing_rows == 0 and self.extra_rows == 0

    def render(self) -> str:
        """Human-readable lines."""
        days = ", ".join(str(d) for d in self.days) or "none"
        lines = [
            f"consistency of {self.log}: {days}, {self.symbols} symbols",
            f"logged rows       {self.logged_rows:,}",
            f"offline rows      {self.offline_rows:,}",
            f"compared rows     {self.compared_rows:,}",
            f"mismatch ratio    {self.mismatch_ratio:.4%} ({self.mismatched_rows:,} rows,"
            f" max abs diff {self.max_abs_diff:.3g})",
            f"missing ratio     {self.missing_ratio:.4%} ({self.missing_rows:,} rows)",
            f"extra ratio       {self.extra_ratio:.4%} ({self.extra_rows:,} rows)",
        ]
        lines += [f"  {name:<32} {count} mismatched rows" for name, count in self.per_feature.items() if count]
        lines.append("CONSISTENT" if self.consistent else "NOT CONSISTENT")
        return "\n".join(lines)


def feature_consistency(
    layout: LakeLayout,
    spec: FeatureSpec,
    log_path: str | Path,
    *,
    tolerance: float = 0.0,
    workers: int = 1,
    coverage: LakeCoverage | None = None,
) -> ConsistencyReport:
    """Compare a consistency log with the offline features of its days (see the module docstring)."""
    meta, table = read_feature_log(log_path)
    require_schema_hash(spec, meta["schema_hash"], subject=f"feature log {log_path}")
    names = feature_names(spec)
    symbols = np.asarray(table.column("symbol").to_pylist(), dtype=object)
    ts = table.column("ts_ns").to_numpy()
    values = np.column_stack([table.column(n).to_numpy() for n in names]) if len(ts) else np.empty((0, len(names)))
    days = np.array([session_date(int(t)) for t in ts], dtype=object)

    logged: dict[tuple[str, dt.date], np.ndarray] = {}
    for key in sorted(set(zip(symbols.tolist(), days.tolist()))):
        logged[key] = np.flatnonzero((symbols == key[0]) & (days == key[1]))
    requests: dict[str, dict[dt.date, np.ndarray]] = {}
    for (symbol, day), rows in logged.items():
        steps = day_grid(spec, day).steps_ns
        span = steps[(steps >= ts[rows].min()) & (steps <= ts[rows].max())]
        requests.setdefault(symbol, {})[day] = span
    all_days = sorted({d for per in requests.values() for d in per})
    coverage = coverage if coverage is not None else lake_coverage(layout)
    ensure_day_stats(layout, spec, sorted(requests), all_days, workers=workers, coverage=coverage)
    offline = features_at(layout, spec, requests, workers=workers, coverage=coverage)

    report = ConsistencyReport(Path(log_path), all_days, len(requests), logged_rows=len(ts))
    counts = np.zeros(len(names), dtype=np.int64)
    for (symbol, day), rows in logged.items():
        kept, expected = offline.get((symbol, day), (np.zeros(0, np.int64), np.empty((0, len(names)))))
        report.offline_rows += kept.size
        order = rows[np.argsort(ts[rows], kind="stable")]
        common, at_log, at_offline = np.intersect1d(ts[order], kept, return_indices=True)
        report.compared_rows += common.size
        report.extra_rows += order.size - common.size
        report.missing_rows += kept.size - common.size
        online, batch = values[order[at_log]], expected[at_offline]
        bad, largest = mismatches(online, batch, tolerance)
        counts += bad.sum(axis=0)
        report.mismatched_rows += int(bad.any(axis=1).sum())
        report.max_abs_diff = max(report.max_abs_diff, largest)
    report.per_feature = dict(zip(names, counts.tolist(), strict=True))
    return report
