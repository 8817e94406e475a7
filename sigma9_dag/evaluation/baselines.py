"""The two baselines every model is compared with, on the same candidates and days.

* ``seismograph_only``: the base heuristic's scores (column ``seismograph_score``) through the same
  :class:`~sigma9_runtime.gates.MLGate`, with one global threshold chosen by
  :func:`match_alert_count`: the lowest candidate score at which the heuristic raises **no more alerts
  than the model did** over the whole evaluation, so precision and lead time compare at (about) equal
  alert counts. A fixed threshold may be given instead.
* ``random_budget_matched``: :func:`random_alerts`, on each New York day as many alerts as the model
  raised that day, drawn uniformly from that day's tradeable candidates (the gate's tradeability checks)
  with the model's cooldown respected, seeded per (seed, day): the same candidates give the same alerts
  whatever their row order (candidates are ordered by time and symbol before the draw).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from sigma9_dag.evaluation.candidates import check_candidates, ny_dates
from sigma9_dag.evaluation.simulate import ALERT_COLUMNS, simulate_alerts
from sigma9_runtime.gates import MLGate

SEISMOGRAPH_COLUMN = "seismograph_score"


def match_alert_count(candidates: pd.DataFrame, target_alerts: int, gate: MLGate, *, score_column: str) -> float:
    """Lowest score (among the candidates') whose simulation raises at most ``target_alerts`` alerts.

    Bisection over the sorted distinct scores assumes the alert count falls as the threshold rises,
    which holds up to cooldown interactions; the result never exceeds the target. Above every score
    (no alerts) when the target is 0 or no score qualifies.
    """
    frame = check_candidates(candidates)
    scores = np.unique(frame[score_column].to_numpy(dtype=np.float64))
    scores = scores[np.isfinite(scores)]
    above_all = float(np.nextafter(scores[-1], np.inf)) if scores.size else 1.0
    if target_alerts <= 0 or not scores.size:
        return above_all

    def count(index: int) -> int:
        if index >= scores.size:
            return 0
        return len(simulate_alerts(frame, float(scores[index]), gate, score_column=score_column).alerts)

    lo, hi = 0, scores.size  # count(hi) == 0 <= target
    while lo < hi:
        mid = (lo + hi) // 2
        if count(mid) <= target_alerts:
            hi = mid
        else:
            lo = mid + 1
    return float(scores[lo]) if lo < scores.size else above_all


def random_alerts(candidates: pd.DataFrame, per_day: Mapping[object, int], gate: MLGate, seed: int) -> pd.DataFrame:
    """``per_day[day]`` random alerts on each New York day among the tradeable candidates, no two of a
    symbol closer than the gate's cooldown; columns of an alerts frame (``score`` and ``threshold`` NaN).
    Day keys are anything ``numpy.datetime64(key, "D")`` reads (``datetime.date``, ``"2025-01-06"``, ...)."""
    frame = check_candidates(candidates)
    zero = np.zeros(len(frame))
    tradeable = gate.screen(zero, zero, frame["dollar_volume_1m"], frame["spread_pct"]) < 0
    # Deterministic pool order (time, symbol, input order) so the draw does not depend on row order.
    pool = frame[tradeable].sort_values(["ts_ns", "symbol"], kind="stable")
    days = ny_dates(pool["ts_ns"].to_numpy())
    symbols = pool["symbol"].to_numpy()
    times = pool["ts_ns"].to_numpy()
    cooldown_ns = gate.config.symbol_cooldown_sec * 1_000_000_000
    chosen: list[int] = []
    wanted = {np.datetime64(day, "D"): int(count) for day, count in per_day.items()}  # dates, strings, ...
    for day in sorted(wanted):
        want = wanted[day]
        rows = np.flatnonzero(days == day)
        if want <= 0 or not rows.size:
            continue
        ordinal = int(day.astype(np.int64))
        rng = np.random.default_rng([seed, ordinal])
        taken: dict[str, list[int]] = {}
        picked = 0
        for row in rows[rng.permutation(rows.size)]:
            symbol, ts = symbols[row], int(times[row])
            if any(abs(ts - other) < cooldown_ns for other in taken.get(symbol, ())):
                continue
            taken.setdefault(symbol, []).append(ts)
            chosen.append(int(row))
            picked += 1
            if picked == want:
                break
    alerts = pool.iloc[sorted(chosen)]
    return pd.DataFrame(
        {
            "symbol": alerts["symbol"].to_numpy(),
            "ts_ns": alerts["ts_ns"].to_numpy(),
            "day": ny_dates(alerts["ts_ns"].to_numpy()),
            "score": np.nan,
            "threshold": np.nan,
            "cluster_id": alerts["cluster_id"].to_numpy(),
            "dollar_volume_1m": alerts["dollar_volume_1m"].to_numpy(),
            "spread_pct": alerts["spread_pct"].to_numpy(),
        },
        columns=list(ALERT_COLUMNS),
    )
