"""The Nautilus strategy that hosts a scoring plugin the way the live runtime does.

Trade ticks and bars arrive from the engine (delivered ``feed_ms`` after their event time); the strategy
buffers them and hands them to the runtime's :class:`~sigma9_runtime.features.online.OnlineFeatureBuilder`
one batch per second of the day's grid (what a replay's frame of that second holds). At every scored step
``t`` (a Nautilus timer firing at ``t + feed_ms``) it steps the builder at ``t``, scores the rows with the
plugin and runs the candidates through the runtime's :class:`~sigma9_runtime.gates.MLGate` in the
evaluation's processing order (score descending, then symbol). Nothing is computed a second way: features,
scores, tradeability and the gate are the runtime's, fed the same batches at the same steps as
``sigma9 replay``, so both raise the same alerts (``tests/dag/backtest/test_replay_equals_backtest.py``).

Each alert buys ``notional_usd`` worth of whole shares at market (sized at the last trade price) and sells
them at market ``horizon`` after the alert time (the evaluation's trade), or at the day's end when that
comes first. The venue is a hedging one, so every alert is its own position.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

import numpy as np
from nautilus_trader.model.enums import OrderSide, TimeInForce
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Quantity
from nautilus_trader.trading.strategy import Strategy

from sigma9_dag.backtest.data import BAR_SPECS, BarFields, bar_type, instrument_id
from sigma9_dag.backtest.prescore import DayScorer, DayScores
from sigma9_dag.backtest.records import HostState, TradeRecord
from sigma9_runtime.container import RuntimeContainer
from sigma9_runtime.feeds.events import AggBatch, TradeBatch
from sigma9_runtime.feeds.massive_ws import ColumnarFrame
from sigma9_runtime.lake.day_start import DayStart
from sigma9_runtime.replay.dispatcher import TickDispatcher
from sigma9_runtime.strategies.base import ScoringStrategy
from sigma9_runtime.strategies.candidates import ScoredCandidate, gate_order
from sigma9_runtime.streams import BAR_NS, BarStream
from sigma9_runtime.units import SECOND_NS

ACTIVE_NS = 60 * SECOND_NS
"""A symbol is active at a step when it traded in the last minute (without trade ticks: when a bar of the
gate's stream started in it); an inactive one is no baseline candidate."""

NO_STEPS = np.zeros(0, np.int64)
"""The host's dispatcher runs no steps of its own (the engine's timer does)."""

DOLLAR_VOLUME_NS = 60 * SECOND_NS
"""The gate's dollar volume sums the bars completed in the last minute (``gates.tradeability``): the
1-second bars stamped in it, or the last completed 1-minute bar."""


def idle_steps_skippable(plugin: ScoringStrategy) -> bool:
    """Whether skipping a step with no bar of the gate's stream completed in the last minute (any symbol)
    leaves every alert as it is (:meth:`ScoringHost._on_step`).

    At such a step every row has no dollar volume, so a gate that asks for some refuses all of them; the
    step changes nothing later only when the builder keeps no value across steps: every feature is
    evaluated at every emission step (a slower one holds its last value) and neither missing values nor
    halts are forward-filled. Otherwise every step is scored, as a replay does.
    """
    features = plugin.features
    plan = features.plan
    return (
        plugin.gate.config.min_dollar_volume_1m > 0
        and all(f.step_seconds == plan.emission_step for f in plan.features)
        and features.steps_passable
    )


class ScoringHost(Strategy):
    """Hosts one runtime :class:`~sigma9_runtime.strategies.base.ScoringStrategy` over the run's symbols.

    Parameters
    ----------
    runtime
        The runtime under test, assembled by the runtime's container (``make_runtime``): its strategy (builder,
        gate and plugin scores) and each day's warm-up and previous closes.
    symbols
        Symbols traded.
    trades, bars_1s, bars_1m
        Subscribe to trade ticks / 1-second / 1-minute bars (what the spec's live runtime subscribes to).
    notional_usd, horizon_ns, feed_latency_ns
        Trade size, holding time and data delay.
    candidate_every_s
        Record baseline candidates at every n-th scored step.
    day_scorer
        Scores each day ahead in batch (:mod:`~sigma9_dag.backtest.prescore`, with ``keep_every_s`` =
        ``candidate_every_s``): the runtime is then stepped online only where a row reaches its threshold and
        passes over the other steps, with the same alerts, trades and records. Ignored for a plugin whose steps
        cannot be passed over (:meth:`~sigma9_runtime.strategies.base.ScoringStrategy.passable`).
    """

    def __init__(
        self,
        *,
        runtime: RuntimeContainer,
        symbols: list[str],
        bars_1s: bool,
        bars_1m: bool,
        notional_usd: float,
        trades: bool = True,
        horizon_ns: int,
        feed_latency_ns: int,
        candidate_every_s: int = 1,
        day_scorer: DayScorer | None = None,
    ) -> None:
        super().__init__()
        self.runtime = runtime
        plugin = runtime.strategy
        self.plugin = plugin
        self.gate = plugin.gate
        self.symbols = list(symbols)
        self._index = {s: i for i, s in enumerate(self.symbols)}
        self.instruments = {s: instrument_id(s) for s in self.symbols}
        self._trades = trades
        self._bars_1s = bars_1s
        self._bars_1m = bars_1m
        self._gate_kind = plugin.bars.kind
        self._gate_bar_ns = BAR_NS[self._gate_kind]
        self.notional_usd = notional_usd
        self.horizon_ns = horizon_ns
        self.feed_ns = feed_latency_ns
        self.candidate_every_s = candidate_every_s
        self.record = HostState()
        self.dispatcher = TickDispatcher(plugin)
        """Ingests each batch as a replay's dispatcher does (one parse path, the feed clock moved to the grid
        second before the batch); it runs no steps: the host's timer scores them (:meth:`_on_step`)."""
        self.skip_idle = idle_steps_skippable(plugin)
        self._last_trade_ns = np.full(len(self.symbols), -(1 << 62), np.int64)  # or gate bar start, without ticks
        self._last_bar_ns = -(1 << 62)  # start of the latest bar of the gate's stream, any symbol
        self._steps = np.zeros(0, np.int64)
        self._next_step = 0
        self._cuts = np.zeros(0, np.int64)
        self._cut = (0, -1)  # (lowest, highest) delivery time of the buffer's batch
        self._last_price = np.full(len(self.symbols), np.nan)
        self._reset_buffers()
        self._bar_fields: dict[tuple[str, str], BarFields] = {}
        self._flatten_ns = 0
        self._by_client_id: dict[str, TradeRecord] = {}
        prescored = plugin.passable() and list(plugin.features.symbols) == self.symbols
        self.day_scorer = day_scorer if prescored else None
        self._day_scores: DayScores | None = None
        self._rank = np.argsort(np.argsort(np.array(self.symbols, dtype=object), kind="stable"))
        """Each symbol's position in name order (the gate's tie-break, :func:`gate_order`)."""

    # --- set-up ----------------------------------------------------------------------------------

    def _reset_buffers(self) -> None:
        self._t_sym: list[str] = []
        self._t_ts: list[int] = []
        self._t_px: list[float] = []
        self._t_sz: list[float] = []
        self._bars: dict[str, list[tuple]] = {"A": [], "AM": []}

    def on_start(self) -> None:
        for symbol in self.symbols:
            if self._trades:
                self.subscribe_trade_ticks(self.instruments[symbol])
            if self._bars_1s:
                self.subscribe_bars(bar_type(symbol, "1s"))
            if self._bars_1m:
                self.subscribe_bars(bar_type(symbol, "1m"))

    def begin_day(
        self,
        day: dt.date,
        steps_ns: np.ndarray,
        flatten_ns: int,
        bar_fields: Mapping[tuple[str, str], BarFields] | None = None,
    ) -> DayStart:
        """Start ``day``: fresh windows, the warm-up and the cross rule's previous closes from the runtime
        (symbols that crossed are no candidates), the VWAP and trade count of the day's bars (``bar_fields``,
        :attr:`DayData.bar_fields`), and a step timer that scores exactly ``steps_ns`` (whole seconds of the
        day's grid, ascending), each ``feed_ms`` after its time. Returns the day's start (its missing closes)."""
        self._bar_fields = dict(bar_fields or {})
        self._reset_buffers()
        start = self.runtime.day_start(day, self.symbols)
        self.dispatcher.start_day(day, start.warmup, steps_ns=NO_STEPS, previous_close=start.previous_close)
        self._flatten_ns = flatten_ns
        self._steps = np.asarray(steps_ns, dtype=np.int64)
        self._next_step = 0
        self._cuts = self.plugin.features.steps()
        self._cut = (0, -1)
        self._last_bar_ns = -(1 << 62)
        self._day_scores = self.day_scorer(day, self._steps) if self.day_scorer is not None else None
        if self._steps.size:
            # Every second from the first step to the last; seconds that are no step (another session,
            # a coarser emission step) are passed over in _on_step.
            self.clock.set_timer_ns(
                f"step-{day.isoformat()}",
                SECOND_NS,
                int(self._steps[0]) + self.feed_ns - SECOND_NS,
                int(self._steps[-1]) + self.feed_ns,
                self._on_step,
            )
        return start

    # --- data ------------------------------------------------------------------------------------

    def _batch(self, delivered_ns: int) -> None:
        """Hand the buffer to the plugin when an event belongs to a later second of the day's grid.

        The plugin gets the day in one batch per grid second (what was delivered after the previous
        second and by this one), scored or not, exactly as a replay's frames (``lake_frames``): a batch
        holds trades before bars, so one spanning more than the builder's windows would turn bars late.
        """
        low, high = self._cut
        if low < delivered_ns <= high:
            return
        self._flush()
        cuts = self._cuts
        i = int(np.searchsorted(cuts, delivered_ns, side="left"))
        self._cut = (
            int(cuts[i - 1]) if i > 0 else -(1 << 62),
            int(cuts[i]) if i < cuts.size else 1 << 62,
        )

    def on_trade_tick(self, tick) -> None:  # type: ignore[no-untyped-def]
        self._batch(tick.ts_event)
        self._t_sym.append(tick.instrument_id.symbol.value)
        self._t_ts.append(tick.ts_event)
        self._t_px.append(tick.price.as_double())
        self._t_sz.append(tick.size.as_double())

    def on_bar(self, bar) -> None:  # type: ignore[no-untyped-def]
        kind = "A" if bar.bar_type.spec.step == 1 and bar.bar_type.spec.timedelta.value == SECOND_NS else "AM"
        length = SECOND_NS if kind == "A" else BAR_SPECS["1m"][1]
        self._batch(bar.ts_event)  # a bar is delivered at its close
        self._bars[kind].append(
            (
                bar.bar_type.instrument_id.symbol.value,
                bar.ts_event - length,
                bar.ts_event,
                bar.open.as_double(),
                bar.high.as_double(),
                bar.low.as_double(),
                bar.close.as_double(),
                bar.volume.as_double(),
            )
        )

    def _flush(self) -> None:
        """Hand the buffered events to the plugin as one frame (trades, then 1 s and 1 m bars) through the
        dispatcher, which first moves the builder's feed clock to the grid second before the batch's (a replay's
        clock when it ingests that frame), also when steps in between were not scored, so no event counts as
        future."""
        n = len(self._t_ts)
        if not (n or self._bars["A"] or self._bars["AM"]):
            return
        trades = TradeBatch.empty()
        if n:
            symbols = np.array(self._t_sym, dtype=object)
            ts = np.array(self._t_ts, dtype=np.int64)
            price = np.array(self._t_px)
            trades = TradeBatch(
                symbols=symbols,
                ts_ns=ts,
                price=price,
                size=np.array(self._t_sz),
                sequence=np.full(n, -1, np.int64),
                exchange=np.zeros(n, np.int32),
                conditions=((),) * n,
                eligible=np.ones(n, bool),
            )
            index = np.array([self._index[s] for s in self._t_sym], dtype=np.int64)
            self._last_trade_ns[index] = ts  # ticks arrive in time order: the last write wins
            self._last_price[index] = price
            self.record.events += n
        bars = {kind: self._bar_batch(kind, rows) for kind, rows in self._bars.items()}
        if n or len(bars["A"]) or len(bars["AM"]):
            self.dispatcher.dispatch(ColumnarFrame(trades, bars["A"], bars["AM"]))
        self._reset_buffers()

    def _bar_batch(self, kind: BarStream, rows: list[tuple]) -> AggBatch:
        """The buffered bars of ``kind`` as a batch, with the lake's VWAP and trade count restored."""
        if not rows:
            return AggBatch.empty(kind)
        columns = list(zip(*rows))
        start = np.array(columns[1], np.int64)
        close = np.array(columns[6])
        if kind == self._gate_kind:
            self._last_bar_ns = max(self._last_bar_ns, int(start.max()))
            if not self._trades:  # no ticks: a gate bar is the symbol's last activity and price
                index = np.array([self._index[s] for s in columns[0]], dtype=np.int64)
                self._last_trade_ns[index] = start  # bars arrive in time order: the last write wins
                self._last_price[index] = close
        vwap, transactions = self._restored_fields(kind, columns[0], start, close)
        self.record.events += len(rows)
        return AggBatch(
            kind=kind,
            symbols=np.array(columns[0], dtype=object),
            start_ns=start,
            end_ns=np.array(columns[2], np.int64),
            open=np.array(columns[3]),
            high=np.array(columns[4]),
            low=np.array(columns[5]),
            close=close,
            volume=np.array(columns[7]),
            vwap=vwap,
            transactions=transactions,
        )

    def _restored_fields(
        self, kind: BarStream, symbols: tuple, start: np.ndarray, close: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """VWAP and trade count of each bar from the day's lake bars (close and 0 where there is none)."""
        vwap = close.copy()
        transactions = np.zeros(close.size, np.int64)
        names = np.array(symbols, dtype=object)
        for symbol in set(symbols):
            fields = self._bar_fields.get((kind, symbol))
            if fields is None:
                continue
            rows = np.flatnonzero(names == symbol)
            vwap[rows], transactions[rows] = fields.restore(start[rows], close[rows])
        return vwap, transactions

    # --- the step --------------------------------------------------------------------------------

    def _on_step(self, event) -> None:  # type: ignore[no-untyped-def]
        t = int(event.ts_event) - self.feed_ns
        steps = self._steps
        step = self._next_step
        if step >= steps.size or steps[step] != t:
            return  # not a scored step
        self._next_step += 1
        self._flush()
        if self.skip_idle and self._last_bar_ns < t - DOLLAR_VOLUME_NS - self._gate_bar_ns + SECOND_NS:
            # No bar of the gate's stream completed in the last minute: every row fails the gate's dollar
            # volume and the builder keeps nothing from this step (idle_steps_skippable), so no alert, now
            # or later, depends on it.
            self.record.idle_steps += 1
            return
        scores = self._day_scores
        if scores is not None and not scores.reached[step]:
            self._pass_step(t, step, scores)
            return
        candidates = self.plugin.score_step(t)
        if scores is not None:
            scores.check(step, candidates, self._index)
        record_ = self.record
        record_.steps += 1
        record_.rows += len(candidates)
        if self._records(t):
            self._record_candidates(t, candidates)
        for candidate in candidates:
            if candidate.alert:
                self._alert(candidate)

    def _records(self, t: int) -> bool:
        """Whether step ``t`` records baseline candidates."""
        return bool(self.candidate_every_s) and (t // SECOND_NS) % self.candidate_every_s == 0

    def _pass_step(self, t: int, step: int, scores: DayScores) -> None:
        """A step at which the batch found no row reaching its threshold: the runtime passes over it (no rows
        computed, the same counts) and the baseline candidates are the batch's rows, in the gate's order."""
        rows = self.plugin.pass_step(t)
        record_ = self.record
        record_.steps += 1
        record_.passed_steps += 1
        record_.rows += int(rows.size)
        kept = int(scores.kept[step])
        if not rows.size or kept < 0 or not self._records(t):
            return
        rows = rows[gate_order(scores.score[step, rows], self._rank[rows])]
        rows = rows[self._last_trade_ns[rows] >= t - ACTIVE_NS]
        if rows.size:
            self.record.candidates.append(
                (
                    rows.astype(np.int32),
                    np.full(rows.size, t, np.int64),
                    scores.score[step, rows],
                    scores.base_score[kept, rows],
                    scores.cluster_id[kept, rows],
                )
            )

    def _record_candidates(self, t: int, candidates: list[ScoredCandidate]) -> None:
        """Rows of symbols that traded in the last minute (the others cannot pass the gate); without trade
        ticks, of symbols with a gate bar stamped in the last minute."""
        if not candidates:
            return
        index = np.array([self._index[c.symbol] for c in candidates], dtype=np.int64)
        active = self._last_trade_ns[index] >= t - ACTIVE_NS
        if not active.any():
            return
        chosen = [c for c, a in zip(candidates, active.tolist()) if a]
        self.record.candidates.append(
            (
                index[active].astype(np.int32),
                np.full(len(chosen), t, np.int64),
                np.array([c.score for c in chosen]),
                np.array([c.base_score for c in chosen]),
                np.array([c.cluster_id for c in chosen], dtype=object),
            )
        )

    # --- orders ----------------------------------------------------------------------------------

    def _alert(self, candidate: ScoredCandidate) -> None:
        record_ = self.record
        symbol, t = candidate.symbol, candidate.ts_ns
        number = len(record_.alerts)
        record_.alerts.append(
            {
                "symbol": symbol,
                "ts_ns": t,
                "score": candidate.score,
                "threshold": candidate.threshold,
                "cluster_id": candidate.cluster_id,
                "dollar_volume_1m": candidate.tradeability.dollar_volume_1m,
                "spread_pct": candidate.tradeability.spread_pct,
            }
        )
        price = self._last_price[self._index[symbol]]
        shares = math.floor(self.notional_usd / price) if price > 0 else 0
        now = self.clock.timestamp_ns()
        record = TradeRecord(
            alert=number,
            symbol=symbol,
            alert_ts_ns=t,
            exit_due_ns=min(t + self.horizon_ns, self._flatten_ns),
            entry_order_ts_ns=now,
            shares=float(shares),
        )
        record_.trades.append(record)
        if shares < 1:
            return
        order = self.order_factory.market(
            self.instruments[symbol], OrderSide.BUY, Quantity(shares, 0), time_in_force=TimeInForce.GTC
        )
        record.entry_client_id = order.client_order_id.value
        self._by_client_id[record.entry_client_id] = record
        self.submit_order(order)
        self.clock.set_time_alert_ns(f"exit-{number}", max(record.exit_due_ns, now), self._on_exit)

    def _on_exit(self, event) -> None:  # type: ignore[no-untyped-def]
        record = self.record.trades[int(event.name.split("-", 1)[1])]
        if record.entry_ts_ns < 0:  # not filled yet: exit as soon as it is
            record.exit_due_ns = -1
            return
        self._send_exit(record)

    def _send_exit(self, record: TradeRecord) -> None:
        record.exit_order_ts_ns = self.clock.timestamp_ns()
        iid: InstrumentId = self.instruments[record.symbol]
        order = self.order_factory.market(
            iid, OrderSide.SELL, Quantity(record.shares, 0), time_in_force=TimeInForce.GTC
        )
        record.exit_client_id = order.client_order_id.value
        self._by_client_id[record.exit_client_id] = record
        self.submit_order(order, position_id=record.position_id)

    def on_order_filled(self, event) -> None:  # type: ignore[no-untyped-def]
        record = self._by_client_id.get(event.client_order_id.value)
        if record is None:
            return
        if event.client_order_id.value == record.entry_client_id:
            record.position_id = event.position_id
            record.entry_ts_ns = int(event.ts_event)
            record.entry_price = event.last_px.as_double()
            record.entry_commission = event.commission.as_double()
            if record.exit_due_ns == -1:
                self._send_exit(record)
        else:
            record.exit_ts_ns = int(event.ts_event)
            record.exit_price = event.last_px.as_double()
            record.exit_commission = event.commission.as_double()

    # --- end -------------------------------------------------------------------------------------

    def candidate_arrays(self) -> dict[str, np.ndarray]:
        """The recorded baseline candidates as columns (symbol, ts_ns, score, seismograph_score, cluster_id)."""
        return self.record.candidate_arrays(self.symbols)


class NoOpStrategy(Strategy):
    """Subscribes to the same data as :class:`ScoringHost` and does nothing (the benchmark's reference)."""

    def __init__(self, symbols: list[str], *, bars_1s: bool, bars_1m: bool, trades: bool = True) -> None:
        super().__init__()
        self.symbols = list(symbols)
        self._trades = trades
        self._bars_1s = bars_1s
        self._bars_1m = bars_1m

    def on_start(self) -> None:
        for symbol in self.symbols:
            if self._trades:
                self.subscribe_trade_ticks(instrument_id(symbol))
            if self._bars_1s:
                self.subscribe_bars(bar_type(symbol, "1s"))
            if self._bars_1m:
                self.subscribe_bars(bar_type(symbol, "1m"))

    def on_trade_tick(self, tick) -> None:  # type: ignore[no-untyped-def]
        pass

    def on_bar(self, bar) -> None:  # type: ignore[no-untyped-def]
        pass
