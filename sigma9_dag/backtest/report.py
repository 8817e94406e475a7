"""The run's output directory: alerts, trades, equity curve, metrics, plots and the BacktestReport JSON.

Every file is written atomically (:mod:`sigma9_runtime.atomic`); nothing in them depends on the wall
clock, so the same config and data give byte-identical files. The BacktestReport schema is documented in
``docs/backtest.md``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sigma9_runtime.atomic import atomic_path, atomic_write_text

REPORT_KIND = "sigma9.backtest_report"
REPORT_VERSION = 1
FILES = {
    "alerts": "alerts.parquet",
    "baseline_alerts": "baseline_alerts.parquet",
    "trades": "trades.parquet",
    "equity_curve": "equity_curve.parquet",
    "metrics": "metrics.json",
    "report": "backtest_report.json",
    "equity_plot": "equity_curve.png",
    "metrics_plot": "metrics.png",
}


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` as Parquet (no pandas index), atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    table = table.replace_schema_metadata(None)  # pandas metadata holds nothing the readers need
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def write_json(document: Any, path: Path) -> None:
    """``document`` as indented JSON with sorted keys, atomically (NaN written as null)."""
    atomic_write_text(path, json.dumps(_plain(document), indent=2, sort_keys=True, allow_nan=False) + "\n")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not np.isfinite(value) else float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def equity_curve(trades: pd.DataFrame, starting_cash: float) -> pd.DataFrame:
    """Account value after each closed round trip: starting cash plus cumulative P&L after commissions."""
    closed = trades[trades["pnl"].notna()].sort_values(["exit_ts_ns", "alert"], kind="stable")
    return pd.DataFrame(
        {
            "ts_ns": closed["exit_ts_ns"].to_numpy(np.int64),
            "symbol": closed["symbol"].to_numpy(),
            "pnl": closed["pnl"].to_numpy(),
            "equity": starting_cash + np.cumsum(closed["pnl"].to_numpy()),
        }
    )


def plot_equity(curve: pd.DataFrame, starting_cash: float, path: Path, title: str) -> None:
    """The equity curve as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 3.5), dpi=100)
    x = pd.to_datetime(curve["ts_ns"].to_numpy(), utc=True).tz_convert("America/New_York").tz_localize(None)
    axes.step(
        np.r_[x[:1], x] if len(x) else [],
        np.r_[starting_cash, curve["equity"].to_numpy()] if len(x) else [],
        where="post",
    )
    axes.axhline(starting_cash, color="grey", linewidth=0.8)
    axes.set_title(title)
    axes.set_ylabel("USD")
    figure.autofmt_xdate()
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", metadata={"Software": None})
    plt.close(figure)


def plot_metrics(streams: dict[str, dict[str, Any]], path: Path) -> None:
    """Precision, actionable precision and utility of the model and its baselines side by side, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(streams)
    figure, axes = plt.subplots(1, 3, figsize=(12, 3.2), dpi=100)
    for ax, key, label in (
        (axes[0], "precision_at_budget", "precision at budget"),
        (axes[1], "actionable_precision_at_budget", "actionable precision at budget"),
        (axes[2], "utility_score", "utility (x notional / day)"),
    ):
        values = [streams[n].get(key) or 0.0 for n in names]
        ax.bar(range(len(names)), values, color=["tab:blue"] + ["tab:grey"] * (len(names) - 1))
        ax.set_xticks(range(len(names)), names, rotation=20, fontsize=8)
        ax.set_title(label)
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", metadata={"Software": None})
    plt.close(figure)
