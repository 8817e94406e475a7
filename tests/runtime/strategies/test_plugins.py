"""Both plugins behind the same call points; every gate suppression reason; the plugin factory."""

import datetime as dt
import math

import numpy as np
import pytest

from sigma9_runtime.container import RuntimeContainer
from sigma9_runtime.errors import PluginError
from sigma9_runtime.feeds.events import AggBatch, AggEvent
from sigma9_runtime.gates import REASONS
from sigma9_runtime.strategies import ScoredCandidate, ScoringStrategy, create_strategy, resolve_strategy
from sigma9_runtime.strategies.plugins.seismograph import SeismographStrategy
from sigma9_runtime.strategies.plugins.seismograph_ml import SeismographMLStrategy
from tests.stubs import RUNTIME_DAY, deliver, liquid_ticks, runtime_config

DAY = dt.date.fromisoformat(RUNTIME_DAY)


def _started(strategy: ScoringStrategy) -> int:
    strategy.start_day(DAY)
    return int(strategy.features.steps()[20_000])  # 09:33:20 New York


def _feed(strategy: ScoringStrategy, ticks: list) -> None:
    deliver(strategy, ticks)


def _seismograph(**changes) -> ScoringStrategy:
    params = {"threshold": 0.0, **changes.pop("params", {})}
    return RuntimeContainer(runtime_config(params=params, **changes)).strategy


def test_factory_resolves_short_names_and_import_paths_to_the_same_class() -> None:
    assert resolve_strategy("seismograph") is SeismographStrategy
    assert resolve_strategy("sigma9_runtime.strategies.plugins.seismograph:SeismographStrategy") is SeismographStrategy
    assert resolve_strategy("seismograph_ml") is SeismographMLStrategy


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("seismograph_xl", "unknown strategy plugin"),
        ("sigma9_runtime.nowhere:Strategy", "cannot import"),
        ("sigma9_runtime.strategies.plugins.seismograph:Missing", "has no 'Missing'"),
        ("sigma9_runtime.gates:MLGate", "is not a ScoringStrategy"),
    ],
)
def test_factory_refuses_unknown_plugins(reference: str, message: str) -> None:
    with pytest.raises(PluginError, match=message):
        resolve_strategy(reference)


def test_plugin_params_are_validated_and_errors_name_the_field() -> None:
    container = RuntimeContainer(runtime_config(params={"threshold": 2.0}))
    with pytest.raises(PluginError, match=r"'seismograph': params.threshold"):
        _ = container.strategy
    with pytest.raises(PluginError, match=r"params\.use_ml_overlay"):
        _ = RuntimeContainer(runtime_config(params={"use_ml_overlay": True})).strategy


def test_ml_plugin_refuses_to_run_without_an_artifact() -> None:
    container = RuntimeContainer(runtime_config(strategy="seismograph_ml"))
    with pytest.raises(PluginError, match="scores with an artifact"):
        _ = container.strategy
    features, gate = container.features, container.gate
    with pytest.raises(PluginError, match="none was given"):
        create_strategy("seismograph_ml", features=features, gate=gate)


def test_a_liquid_symbol_alerts_then_cools_down_and_the_budget_runs_out() -> None:
    strategy = _seismograph(max_alerts_per_day=2, symbol_cooldown_sec=60)
    t = _started(strategy)
    for symbol in ("AAA", "BBB", "CCC"):
        _feed(strategy, liquid_ticks(symbol, t))
    first = strategy.score_step(t)
    assert [c.symbol for c in first] == ["AAA", "BBB", "CCC"]  # equal scores: the lab's order is by symbol
    assert [c.alert for c in first] == [True, True, False]
    assert first[2].reason == "budget_exhausted"
    assert all(c.tradeability.dollar_volume_1m == pytest.approx(60 * 5_000 * 10.005, rel=1e-3) for c in first)
    again = strategy.score_step(t + 1_000_000_000)
    assert {c.reason for c in again} == {"cooldown", "budget_exhausted"}
    assert strategy.gate.suppressed["cooldown"] == 2 and strategy.gate.alerts == 2


def test_illiquid_and_wide_symbols_are_suppressed_with_their_reason() -> None:
    strategy = _seismograph()
    t = _started(strategy)
    _feed(strategy, liquid_ticks("THIN", t, volume=10.0))  # $6k a minute
    _feed(strategy, liquid_ticks("WIDE", t, price=0.2, volume=100_000.0))  # one cent on 20 cents: a ~10% bounce
    reasons = {c.symbol: c.reason for c in strategy.score_step(t)}
    assert reasons == {"THIN": "not_tradeable_dollar_volume", "WIDE": "not_tradeable_spread"}


def test_scores_below_threshold_are_suppressed_and_carry_no_explanation() -> None:
    strategy = _seismograph(params={"threshold": 1.0})
    t = _started(strategy)
    _feed(strategy, liquid_ticks("AAA", t))
    (candidate,) = strategy.score_step(t)
    assert candidate.reason == "below_threshold" and candidate.explanation == ()
    assert math.isnan(candidate.tradeability.dollar_volume_1m)
    assert set(strategy.gate.suppressed) == set(REASONS)


def test_both_plugins_answer_the_same_call_points(artifact_store) -> None:
    strategies = [
        _seismograph(),
        RuntimeContainer(runtime_config(strategy="seismograph_ml", artifacts=artifact_store)).strategy,
    ]
    for strategy in strategies:
        t = _started(strategy)
        _feed(strategy, liquid_ticks("AAA", t))
        assert strategy.on_tick("not json") == 0 and strategy.on_tick(object()) == 0
        (stepped,) = strategy.score_step(t)
        detailed = strategy.calculate_watchlist_score_detailed("AAA", gate=False)
        ignition = strategy.calculate_ignition_score("AAA", {"price": 10.0})
        assert isinstance(stepped, ScoredCandidate) and isinstance(detailed, ScoredCandidate)
        assert detailed.decision is None and detailed.score == stepped.score == ignition
        assert 0.0 <= ignition <= 1.0 and detailed.base_score == stepped.base_score
        assert math.isnan(strategy.calculate_ignition_score("NOPE"))
        record = detailed.to_record()
        assert record["strategy"] == strategy.name and record["symbol"] == "AAA"
    heuristic, ml = (s.calculate_watchlist_score_detailed("AAA", gate=False) for s in strategies)
    assert math.isnan(heuristic.ml_score) and heuristic.artifact_id is None
    assert np.isfinite(ml.ml_score) and ml.score == ml.ml_score and ml.artifact_id == "ART_2026-01-16_001"
    assert ml.base_score == pytest.approx(heuristic.base_score)
    assert ml.threshold == strategies[1].inference.threshold_for(ml.cluster_id)
    assert ml.explanation and all(isinstance(name, str) for name, _ in ml.explanation)


def test_ml_plugin_without_overlay_gates_the_base_score_and_reports_the_model(artifact_store) -> None:
    config = runtime_config(
        strategy="seismograph_ml", artifacts=artifact_store, params={"use_ml_overlay": False, "threshold": 0.0}
    )
    strategy = RuntimeContainer(config).strategy
    t = _started(strategy)
    _feed(strategy, liquid_ticks("AAA", t))
    (candidate,) = strategy.score_step(t)
    assert candidate.score == candidate.base_score and candidate.threshold == 0.0
    assert np.isfinite(candidate.ml_score) and candidate.alert


def test_scoring_is_deterministic() -> None:
    results = []
    for _ in range(2):
        strategy = _seismograph(max_alerts_per_day=1)
        t = _started(strategy)
        for symbol in ("CCC", "AAA", "BBB"):
            _feed(strategy, liquid_ticks(symbol, t, price=10.0 + len(symbol)))
        results.append([(c.symbol, c.score, c.reason) for c in strategy.score_step(t)])
    assert results[0] == results[1]
    assert [r[2] for r in results[0]] == [None, "budget_exhausted", "budget_exhausted"]


def _candidate_key(candidate: ScoredCandidate) -> str:
    return repr(  # repr: NaN equals NaN, and -0.0 differs from 0.0
        (
            candidate.symbol,
            candidate.ts_ns,
            candidate.score,
            candidate.base_score,
            candidate.ml_score,
            candidate.cluster_id,
            candidate.threshold,
            candidate.explanation,
            candidate.decision,
            tuple(candidate.tradeability),
            candidate.strategy,
            candidate.artifact_id,
        )
    )


def test_batched_gating_of_a_step_equals_gating_each_candidate_in_the_labs_order() -> None:
    from sigma9_runtime.strategies.candidates import RowScores

    rng = np.random.default_rng(7)
    fast, reference = (_seismograph(max_alerts_per_day=3, symbol_cooldown_sec=20) for _ in range(2))
    symbols = [f"S{k:02d}" for k in rng.permutation(24)]
    t = _started(fast)
    _started(reference)
    for strategy in (fast, reference):
        strategy.features.add_symbols(symbols)
    for symbol in symbols[:-3]:  # the last three have no bars: NaN tradeability
        seconds = int(rng.integers(3, 400))
        price, volume = float(rng.choice([0.2, 5.0, 40.0])), float(rng.choice([1.0, 500.0, 20_000.0]))
        noise = float(rng.choice([0.001, 0.02]))
        for k in range(seconds):
            close = price * (1 + noise * rng.normal())
            start, shares = t - (seconds - k) * 1_000_000_000, volume * rng.random() if k % 7 else 0.0
            for strategy in (fast, reference):
                strategy.bars.add(symbol, start, close, close, shares)
    for step in range(40):
        at = t + step * 1_000_000_000
        chosen = [s for s in symbols if rng.random() < 0.8]
        n = len(chosen)
        score = rng.choice([0.1, 0.5, 0.7, 0.9, np.nan, -0.0, 0.0], size=n) if step % 2 else rng.random(n)
        scores = RowScores(
            score=score,
            base_score=rng.random(n),
            ml_score=np.full(n, np.nan),
            threshold=rng.choice([0.0, 0.5, 0.8], size=n),
            cluster_ids=[None if k % 3 else f"C{k % 2:02d}" for k in range(n)],
            explain=lambda i: (("intensity.trade_count_z", float(i)),),
        )
        got = fast._gate_rows(at, chosen, scores)
        key = np.where(np.isnan(score), np.inf, -score)
        order = sorted(range(n), key=lambda i: (key[i], chosen[i]))
        want = [reference._candidate(chosen[i], at, scores, i, np.zeros(0), gate=True) for i in order]
        assert [_candidate_key(c) for c in got] == [_candidate_key(c) for c in want]
    assert fast.gate.suppressed == reference.gate.suppressed and fast.gate.alerts == reference.gate.alerts
    assert fast.gate.alerts > 0 and all(count > 0 for count in fast.gate.suppressed.values())


@pytest.mark.parametrize("as_frame", [False, True], ids=["typed-bars", "raw-frame"])
def test_bars_the_builder_refuses_poison_neither_the_tradeability_bars_nor_the_cross(as_frame: bool) -> None:
    clean, hostile = _seismograph(), _seismograph()
    t = 0
    for strategy in (clean, hostile):
        t = _started(strategy)
        strategy.start_day(DAY, None, {"AAA": 9.5})  # AAA crosses at 10.45; its ticks trade at 10.00-10.01
        _feed(strategy, liquid_ticks("AAA", t))
    second = 1_000_000_000
    at = int(hostile.features.steps()[-1000])  # late afternoon: hours ahead of the feed
    bars = [
        AggEvent("A", "AAA", at, at + second, 10.5, 10.5, 10.5, 10.5, 5_000.0, 10.5, 1),  # from the future
        AggEvent("A", "AAA", t - second, t, 10.0, 1e308, 10.0, 10.0, 5_000.0, 10.0, 1),  # an absurd high
        AggEvent("A", "AAA", t - second, t, 10.0, 10.0, 10.0, 10.0, 1e308, 10.0, 1),  # an absurd volume
        AggEvent("A", "aaa", t - second, t, 10.0, 10.5, 10.0, 10.0, 5_000.0, 10.0, 1),  # not a ticker
    ]
    if as_frame:
        hostile.on_tick(AggBatch.from_events("A", bars))
    else:
        for bar in bars:
            hostile.on_tick(bar)
    later = liquid_ticks("AAA", t + 60 * second, seconds=60)
    for strategy in (clean, hostile):
        _feed(strategy, later)
    end = t + 60 * second
    assert hostile.crossing.cross_ns("AAA") is None
    assert hostile.bars.inputs("AAA", end) == clean.bars.inputs("AAA", end)
    assert hostile.bars.skipped == clean.bars.skipped
    assert [c.to_record() for c in hostile.score_step(end)] == [c.to_record() for c in clean.score_step(end)]
