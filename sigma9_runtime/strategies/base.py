"""ScoringStrategy: the extension point behind Sigma9's unchanged call points.

The live container calls a strategy from three places (the design's invariants)::

    Massive WebSocket on_tick(T.*/A.*/AM.*) -> TickDispatcher.dispatch() -> strategy.on_tick(tick)
    RealtimeScanner, every 1 s               -> strategy.calculate_watchlist_score_detailed(symbol)
    IgnitionMonitor, every 1 s               -> strategy.calculate_ignition_score(symbol, snapshot)

and a replay, the lab's Nautilus backtest or the scanner of a whole watch list call the batch form
once per second of **event time**::

    strategy.score_step(t_ns) -> list[ScoredCandidate]   # every watched symbol, gated, in gate order

Every strategy shares one pipeline, implemented here once: the
:class:`~sigma9_runtime.features.online.OnlineFeatureBuilder` turns ticks into the FeatureSpec's
feature rows at each step, the plugin scores the rows (:meth:`ScoringStrategy.score_rows`, the only
thing a plugin writes), and the :class:`~sigma9_runtime.gates.MLGate` decides which scores become
alerts (threshold, tradeability from the last bars of the gate's bar stream, cooldown, daily budget) and
why the others were suppressed. A plugin is a subclass named by import path and built by
:func:`~sigma9_runtime.strategies.factory.create_strategy`.

Candidates end at the cross: a symbol that crossed its previous close x (1 + anchor) today (a
:class:`~sigma9_runtime.strategies.crossing.CrossTracker` watches the bars) is no pre-surge candidate any
more, as in the lab's validation; the ignition monitor's call is unaffected.

Tradeability and the cross read one bar stream, the spec's gate stream
(:func:`~sigma9_runtime.streams.gate_bar_kind`, :attr:`ScoringStrategy.bar_kind`): ``A`` (1-second bars)
when the FeatureSpec subscribes to them, else ``AM`` (1-minute bars), so a container subscribed to ``AM.*``
alone gates and ends its candidates on minute bars. Bars of the other stream still feed the features.
They see only the bars the feature builder admits
(:meth:`~sigma9_runtime.features.online.OnlineFeatureBuilder.admits_bars`): a bar with an absurd price or
volume, stamped beyond the feed's horizon or of a symbol that is not a ticker poisons neither the
tradeability bars nor the cross rule.

Determinism: nothing reads the wall clock; within a step candidates meet the gate in the lab's order
(score descending, NaN last, then symbol), so the same ticks and steps give the same alerts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import PositiveFloat, ValidationError

from sigma9_runtime.contracts.base import ContractModel
from sigma9_runtime.errors import PluginError
from sigma9_runtime.features.online import FeatureFrame, OnlineFeatureBuilder
from sigma9_runtime.feeds.events import AggBatch
from sigma9_runtime.feeds.massive_ws import ColumnarFrame
from sigma9_runtime.feeds.ticks import to_frame
from sigma9_runtime.gates import AFTER_CROSS, GateDecision, MLGate, TradeabilityInputs
from sigma9_runtime.gates.recent_bars import NAN_INPUTS, RecentBars
from sigma9_runtime.strategies.candidates import RowScores, ScoredCandidate, gate_order
from sigma9_runtime.strategies.crossing import DEFAULT_ANCHOR, CrossTracker
from sigma9_runtime.streams import BarStream, gate_bar_kind

if TYPE_CHECKING:
    from sigma9_runtime.features.warmup import Warmup
    from sigma9_runtime.inference.ml_inference import MLInference
    from sigma9_runtime.registry.reload import ArtifactReloader

log = logging.getLogger(__name__)


class StrategyParams(ContractModel):
    """Parameters every strategy accepts (a plugin's ``Params`` extends it)."""

    explain_top_k: int = 5
    """Contributions kept per explanation."""
    anchor: PositiveFloat | None = DEFAULT_ANCHOR
    """Candidates end when the symbol crosses previous close x (1 + anchor) (the artifact's
    ``dataset_ref.labeling.anchor_param`` wins when the strategy scores with one); None turns the rule off."""


class ScoringStrategy(ABC):
    """A scoring strategy behind Sigma9's call points (see the module docstring).

    Parameters
    ----------
    features
        The online feature builder (one per strategy; the container builds it from the FeatureSpec).
    gate
        The alert gate (from the FeatureSpec's ``runtime_gates``, optionally a run config's budget).
    params
        The plugin's parameters: a ``Params`` model or a mapping validated into one (``PluginError``
        naming the plugin and field when invalid).
    inference
        The artifact's inference, for plugins that score with one.
    reloader
        Checked at the safe point before every step for a newer verified artifact (hot reload).
    feature_log
        Receives the feature rows of every scored step (consistency log).

    Examples
    --------
    >>> strategy = create_strategy("seismograph", features=builder, gate=gate)  # doctest: +SKIP
    >>> strategy.start_day(day, warmup)                                          # doctest: +SKIP
    >>> strategy.on_tick(raw_frame)                                              # doctest: +SKIP
    >>> [c for c in strategy.score_step(t_ns) if c.alert]                        # doctest: +SKIP
    """

    name: ClassVar[str] = "strategy"
    """Short name (``seismograph``); the factory also accepts the import path."""
    Params: ClassVar[type[StrategyParams]] = StrategyParams
    """Parameter model of the plugin."""
    uses_artifact: ClassVar[bool] = False
    """Whether the plugin scores with an artifact when one is available."""

    def __init__(
        self,
        features: OnlineFeatureBuilder,
        gate: MLGate,
        *,
        params: StrategyParams | Mapping[str, Any] | None = None,
        inference: MLInference | None = None,
        reloader: ArtifactReloader | None = None,
        feature_log: Any = None,
    ) -> None:
        self.features = features
        self.spec = features.spec
        self.names: list[str] = list(features.names)
        self.gate = gate
        self.params = self.parse_params(params)
        self.inference = inference
        self.reloader = reloader
        self.feature_log = feature_log
        self.bar_kind: BarStream = gate_bar_kind(self.spec)
        """The bar stream tradeability and the cross read (``A`` or ``AM``)."""
        self.bars = RecentBars(self.bar_kind, max_symbols=features.max_symbols)
        self.crossing = CrossTracker(self.anchor, self.bar_kind)
        self.crossed_skipped = 0
        """Rows of symbols after their cross that a step left out (or the scanner's call suppressed)."""
        self.watchlist: set[str] | None = None
        self.frame: FeatureFrame | None = None
        self._rows: dict[str, int] = {}
        self._rank: dict[str, int] = {}
        self.check()

    # --- construction ---------------------------------------------------------------------------

    @classmethod
    def parse_params(cls, params: StrategyParams | Mapping[str, Any] | None) -> StrategyParams:
        """The plugin's ``Params`` from a model, a mapping (``run_config.strategy.params``) or None."""
        if isinstance(params, cls.Params):
            return params
        try:
            return cls.Params.model_validate(dict(params or {}))
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(params)"
            raise PluginError(f"strategy {cls.name!r}: params.{where}: {first['msg']}") from e

    @classmethod
    def needs_artifact(cls, params: StrategyParams) -> bool:
        """Whether the plugin cannot score without an artifact under ``params``."""
        return False

    def check(self) -> None:
        """Refuse a construction the plugin cannot run (PluginError); called by ``__init__``."""
        if self.needs_artifact(self.params) and self.inference is None:
            raise PluginError(f"strategy {self.name!r} scores with an artifact; none was given")

    # --- the plugin's part ----------------------------------------------------------------------

    @abstractmethod
    def score_rows(self, values: np.ndarray) -> RowScores:
        """Score feature rows ``[N, F]`` (columns ``self.names``) of one step."""

    def on_artifact(self, inference: MLInference) -> None:
        """A newer verified artifact replaces the current one (at a safe point, between steps)."""
        log.info("strategy %s now scores with artifact %s", self.name, inference.manifest.id)
        self.inference = inference

    @property
    def anchor(self) -> float | None:
        """The cross rule's anchor: None when the ``anchor`` param is None (rule off), else the artifact's
        ``labeling.anchor_param`` when there is an artifact, else the param."""
        if self.params.anchor is None:
            return None
        if self.inference is not None:
            return float(self.inference.manifest.dataset_ref.labeling.anchor_param)
        return self.params.anchor

    @property
    def artifact_id(self) -> str | None:
        """Id of the artifact in use (None without one)."""
        return None if self.inference is None else self.inference.manifest.id

    # --- days and watch list --------------------------------------------------------------------

    def start_day(
        self, day: dt.date, warmup: Warmup | None = None, previous_close: Mapping[str, float] | None = None
    ) -> None:
        """Begin ``day``: clear the feature windows, the bars, the crossings and the last frame (gate state
        stays: the budget is per New York date and the cooldown is elapsed time).

        ``previous_close`` (symbol -> the previous session's split-adjusted close) arms the cross rule:
        a symbol stops being a pre-surge candidate once it crossed ``previous_close x (1 + anchor)``.
        Symbols without one (or no mapping) are never excluded.
        """
        self.features.start_day(day, warmup)
        self.bars.reset()
        self.crossing = CrossTracker(self.anchor, self.bar_kind)
        self.crossing.start_day(day, previous_close)
        self.frame = None
        self._rows = {}

    def watch(self, symbols: Iterable[str] | None) -> None:
        """Score only ``symbols`` at each step (None: every symbol the builder knows); they are registered with
        the builder, so each must be a ticker and they count towards its ``max_symbols`` (``ValueError``)."""
        if symbols is None:
            self.watchlist = None
            return
        self.watchlist = set(symbols)
        self.features.add_symbols(sorted(self.watchlist))

    # --- call point 1: ticks --------------------------------------------------------------------

    def on_tick(self, tick: Any) -> int:
        """Ingest one tick: a raw Massive frame (``str``/``bytes``), decoded messages (a ``dict`` or a list of
        them), a :class:`TradeEvent`/:class:`AggEvent`, a :class:`TradeBatch`/:class:`AggBatch` or a parsed
        :class:`~sigma9_runtime.feeds.massive_ws.ColumnarFrame` (:func:`~sigma9_runtime.feeds.ticks.to_frame`
        makes one frame of each, then :meth:`ingest`).

        Returns the events that entered the feature windows. Never raises: what cannot be read is counted
        in ``features.dropped`` by reason.
        """
        try:
            return self.ingest(to_frame(tick))
        except Exception:  # the live loop must survive any tick; a bug shows in the log and the count
            log.exception("strategy %s: tick could not be ingested", self.name)
            self.features.dropped["dispatch_error"] += 1
            return 0

    def ingest(self, frame: ColumnarFrame) -> int:
        """Ingest one parsed frame: the bars of the gate's stream (:attr:`bar_kind`) the builder admits go to the
        tradeability bars and the cross rule, every event to the feature builder
        (:meth:`~sigma9_runtime.features.online.OnlineFeatureBuilder.ingest`, which counts the parser's drops)."""
        self._gate_bars(frame.seconds if self.bar_kind == "A" else frame.minutes)
        return self.features.ingest(frame)

    def _gate_bars(self, batch: AggBatch) -> None:
        """Bars of the gate's stream into the tradeability bars and the cross rule: those the builder admits."""
        if len(batch) == 0:
            return
        admitted = self.features.admits_bars(batch)
        if not admitted.all():
            batch = batch.take(admitted)
        self.bars.add_batch(batch)
        self.crossing.add_batch(batch)

    # --- steps ----------------------------------------------------------------------------------

    def advance(self, ts_ns: int) -> FeatureFrame:
        """The safe point and the feature step at ``ts_ns`` (a step of the day's grid).

        Hot reload happens here, before the step's rows are computed, never inside a step.
        """
        self._safe_point(ts_ns)
        frame = self.features.step(ts_ns)
        self.frame = frame
        self._rows = {symbol: i for i, symbol in enumerate(frame.symbols)}
        return frame

    def _safe_point(self, ts_ns: int) -> None:
        """Between steps: a newer verified artifact replaces the current one, and its anchor rules the cross
        from this step on."""
        if self.reloader is not None:
            replacement = self.reloader.poll(ts_ns)
            if replacement is not None:
                self.on_artifact(replacement)
        anchor = self.anchor
        if anchor != self.crossing.anchor:  # a newer artifact's anchor, from this step on
            self.crossing.set_anchor(anchor, ts_ns)

    def score_step(self, ts_ns: int, symbols: Iterable[str] | None = None) -> list[ScoredCandidate]:
        """Advance to ``ts_ns`` and score and gate every watched symbol, in the gate's order.

        Parameters
        ----------
        ts_ns
            A step of the day's grid (the scanner's 1-second tick of event time).
        symbols
            Symbols to score (default: the watch list, else every symbol with a row).
        """
        frame = self.advance(ts_ns)
        wanted = symbols if symbols is not None else self.watchlist
        if wanted is None:
            index = np.arange(len(frame.symbols))
        else:
            index = np.array(sorted(self._rows[s] for s in set(wanted) if s in self._rows), dtype=np.int64)
        chosen = [frame.symbols[i] for i in index.tolist()]
        values = frame.values[index] if index.size else np.empty((0, len(self.names)))
        if self.feature_log is not None:
            self.feature_log.record(ts_ns, chosen, values)
        if chosen and self.crossing.enabled:
            crossed = self.crossing.crossed_many(chosen, ts_ns)
            if crossed.any():  # candidates end at the cross (the lab's before_cross)
                self.crossed_skipped += int(crossed.sum())
                keep = ~crossed
                chosen = [symbol for symbol, k in zip(chosen, keep.tolist()) if k]
                values = values[keep]
        if not chosen:
            return []
        return self._gate_rows(ts_ns, chosen, self.score_rows(values))

    def pass_step(self, ts_ns: int) -> np.ndarray:
        """What :meth:`score_step` does at a step where the caller knows that no row reaches its threshold, without
        computing the rows: the safe point, the feed clock, the cross rule's exclusions (``crossed_skipped``) and
        the gate's ``below_threshold`` count. A backtest that scored the day ahead in batch calls it (every row
        below its threshold leaves the gate untouched: :meth:`_gate_rows`).

        Returns the row positions (into ``features.symbols``) that :meth:`score_step` would have scored: every
        known symbol not crossed. Only for a spec whose rows are every known symbol at every step
        (:meth:`passable`); ``ValueError`` otherwise.
        """
        if not self.passable():
            raise ValueError(f"strategy {self.name}: steps cannot be passed over (see ScoringStrategy.passable)")
        self._safe_point(ts_ns)
        self.features.pass_step(ts_ns)
        self.frame = None
        self._rows = {}
        symbols = self.features.symbols
        rows = np.arange(len(symbols))
        if rows.size and self.crossing.enabled:
            crossed = self.crossing.crossed_many(symbols, ts_ns)
            if crossed.any():
                self.crossed_skipped += int(crossed.sum())
                rows = rows[~crossed]
        if rows.size:
            self.gate.count_screened("below_threshold", int(rows.size))
        return rows

    def passable(self) -> bool:
        """Whether :meth:`pass_step` can stand for :meth:`score_step`: every known symbol has a row at every step
        (halts are gaps), missing values are not forward-filled (a step's rows carry nothing to the next:
        :meth:`~sigma9_runtime.features.online.OnlineFeatureBuilder.pass_step`), no watch list and no feature
        log."""
        return (
            self.spec.calendar.treat_halts_as == "gap"
            and self.features.steps_passable
            and self.watchlist is None
            and self.feature_log is None
        )

    def _gate_rows(self, ts_ns: int, chosen: list[str], scores: RowScores) -> list[ScoredCandidate]:
        """Candidates of one step in the lab's order (higher score first, NaN last, then symbol), gated.

        Equal to calling :meth:`_candidate` for each row in that order (a test proves it): rows below
        their threshold are suppressed without touching gate state (only counted), the tradeability
        inputs of the others are computed in one call, and only those go through the gate one by one.
        """
        score = scores.score
        threshold = scores.threshold
        n = len(chosen)
        rank = self._symbol_rank()
        order = gate_order(score, np.fromiter(map(rank.__getitem__, chosen), dtype=np.int64, count=n)).tolist()
        with np.errstate(invalid="ignore"):
            reached = score >= threshold
        reached_rows = np.flatnonzero(reached).tolist()
        inputs: dict[int, TradeabilityInputs] = {}
        if reached_rows:
            dollar, spread = self.bars.inputs_many([chosen[i] for i in reached_rows], ts_ns)
            inputs = {i: TradeabilityInputs(d, s) for i, d, s in zip(reached_rows, dollar.tolist(), spread.tolist())}
        self.gate.count_screened("below_threshold", n - len(reached_rows))
        ts = int(ts_ns)
        score_, base_, ml_, threshold_ = (
            score.tolist(),
            scores.base_score.tolist(),
            scores.ml_score.tolist(),
            threshold.tolist(),
        )
        clusters, name, artifact_id = scores.cluster_ids, self.name, scores.artifact_id
        out = []
        for i in order:
            symbol, s, t = chosen[i], score_[i], threshold_[i]
            tradeability = inputs.get(i)
            if tradeability is None:
                decision = GateDecision(symbol, ts, s, t, False, "below_threshold")
                tradeability, explanation = NAN_INPUTS, ()
            else:
                decision = self.gate.decide(symbol, ts, s, t, tradeability)
                explanation = tuple(scores.explain(i))
            out.append(
                ScoredCandidate(
                    symbol=symbol,
                    ts_ns=ts,
                    score=s,
                    base_score=base_[i],
                    ml_score=ml_[i],
                    cluster_id=clusters[i],
                    threshold=t,
                    explanation=explanation,
                    decision=decision,
                    tradeability=tradeability,
                    strategy=name,
                    artifact_id=artifact_id,
                )
            )
        return out

    def _symbol_rank(self) -> dict[str, int]:
        """Each known symbol's position in name order (recomputed when symbols were added)."""
        symbols = self.features.symbols
        if len(self._rank) != len(symbols):
            self._rank = {symbol: r for r, symbol in enumerate(sorted(symbols))}
        return self._rank

    def _candidate(
        self, symbol: str, ts_ns: int, scores: RowScores, i: int, row: np.ndarray, *, gate: bool, explain: bool = False
    ) -> ScoredCandidate:
        score = float(scores.score[i])
        threshold = float(scores.threshold[i])
        reached = score >= threshold
        inputs = self.bars.inputs(symbol, ts_ns) if reached else NAN_INPUTS
        decision = self.gate.decide(symbol, ts_ns, score, threshold, inputs) if gate else None
        explanation = scores.explain(i) if (reached or explain) else ()
        return ScoredCandidate(
            symbol=symbol,
            ts_ns=int(ts_ns),
            score=score,
            base_score=float(scores.base_score[i]),
            ml_score=float(scores.ml_score[i]),
            cluster_id=scores.cluster_ids[i],
            threshold=threshold,
            explanation=tuple(explanation),
            decision=decision,
            tradeability=inputs,
            strategy=self.name,
            artifact_id=scores.artifact_id,
        )

    # --- call point 2: the scanner --------------------------------------------------------------

    def calculate_watchlist_score_detailed(
        self, symbol: str, ts_ns: int | None = None, *, gate: bool = True
    ) -> ScoredCandidate:
        """The detailed score of ``symbol`` (score, base and ML scores, cluster, explanation, gate verdict).

        ``ts_ns`` advances the features to that step first (when it is not the last one); without it
        the last step's row is scored. A symbol without a row scores NaN (suppressed as
        ``below_threshold``). A symbol that crossed its anchor at or before the step is scored but not
        gated: its decision is suppressed as ``after_cross`` (counted in ``crossed_skipped``). With
        ``gate=False`` nothing is recorded against budget or cooldown.
        """
        if ts_ns is not None and (self.frame is None or self.frame.ts_ns != ts_ns):
            self.advance(ts_ns)
        if self.frame is None:
            raise RuntimeError("no step yet: call score_step()/advance() or pass ts_ns")
        at = self.frame.ts_ns
        i = self._rows.get(symbol)
        row = self.frame.values[i] if i is not None else np.full(len(self.names), np.nan)
        scores = self.score_rows(row.reshape(1, -1))
        if gate and self.crossing.crossed(symbol, at):
            self.crossed_skipped += 1
            candidate = self._candidate(symbol, at, scores, 0, row, gate=False, explain=True)
            decision = GateDecision(symbol, at, candidate.score, candidate.threshold, False, AFTER_CROSS)
            return dataclasses.replace(candidate, decision=decision)
        return self._candidate(symbol, at, scores, 0, row, gate=gate, explain=True)

    # --- call point 3: the ignition monitor -----------------------------------------------------

    def calculate_ignition_score(self, symbol: str, snapshot: Mapping[str, Any] | None = None) -> float:
        """The ungated score of ``symbol`` at the last step, in [0, 1] (NaN when it has no row).

        ``snapshot`` is the monitor's view of the symbol (price, change, ...); a ``ts_ns`` in it that
        is a later grid step advances the features first. Nothing is recorded against the gate.
        """
        ts_ns = None if snapshot is None else snapshot.get("ts_ns")
        if ts_ns is not None and (self.frame is None or int(ts_ns) > self.frame.ts_ns):
            self.advance(int(ts_ns))
        if self.frame is None or symbol not in self._rows:
            return math.nan
        row = self.frame.values[self._rows[symbol]]
        return float(self.score_rows(row.reshape(1, -1)).score[0])
