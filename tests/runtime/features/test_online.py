"""OnlineFeatureBuilder: batch path equals the per-event path, bad events are counted and harmless; a hostile
live feed (events from the future, absurd values, junk symbols) moves no state and stays bounded."""

import dataclasses
import datetime as dt
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigma9_runtime import bounds
from sigma9_runtime.calendar import local_to_ns, session_bounds
from sigma9_runtime.contracts.io import load_feature_spec
from sigma9_runtime.features import online
from sigma9_runtime.features.baselines import MINUTES_PER_DAY
from sigma9_runtime.features.kernels import clv_signed_volume
from sigma9_runtime.features.normalization import NormParams
from sigma9_runtime.features.online import DEFAULT_MAX_SKEW_SECONDS, SMALL_BATCH, OnlineFeatureBuilder, is_ticker
from sigma9_runtime.features.plan import FeaturePlan
from sigma9_runtime.features.warmup import Warmup
from sigma9_runtime.feeds.events import AggBatch, AggEvent, TradeBatch, TradeEvent
from sigma9_runtime.feeds.ticks import to_frame
from sigma9_runtime.units import NANOS_PER_SECOND
from tests.stubs import ROOT, demo_feature_spec, feature_spec, minute_bar_feature_spec

DAY = dt.date(2025, 3, 4)
SYMBOLS = ["AAA", "BBB", "CCC"]
START = session_bounds(DAY).regular[0]
SPEC = feature_spec(**{"calendar.sessions": ["regular"]})


def _warmup(spec=SPEC) -> Warmup:  # type: ignore[no-untyped-def]
    plan = FeaturePlan.from_spec(spec)
    features = len(plan.features)
    warmup = Warmup(DAY)
    for key in plan.baselines:
        arrays = (np.full(MINUTES_PER_DAY, 30.0), np.full(MINUTES_PER_DAY, 12.0))
        warmup.baselines[key] = {s: arrays[: 2 if key.stat == "mean_std" else 1] for s in SYMBOLS}
    params = NormParams(np.zeros(features), np.full(features, 2.0), np.full(features, -50.0), np.full(features, 50.0))
    warmup.norm = dict.fromkeys(SYMBOLS, params)
    return warmup


def _builder(spec=SPEC) -> OnlineFeatureBuilder:  # type: ignore[no-untyped-def]
    builder = OnlineFeatureBuilder(spec, SYMBOLS)
    builder.start_day(DAY, _warmup(spec))
    return builder


def _stream(seed: int, seconds: int = 120) -> tuple[list[TradeEvent | AggEvent], list[bool]]:
    """A time-ordered stream with planted bad events; returns (events, is_bad)."""
    rng = np.random.default_rng(seed)
    events: list[TradeEvent | AggEvent] = []
    bad: list[bool] = []
    price = {s: 10.0 + i for i, s in enumerate(SYMBOLS)}
    sequence = dict.fromkeys(SYMBOLS, 100)
    last: dict[str, TradeEvent] = {}
    for second in range(seconds):
        base = START + second * NANOS_PER_SECOND
        for symbol in SYMBOLS:
            for _ in range(int(rng.poisson(1.5))):
                price[symbol] = round(price[symbol] * (1 + rng.normal(0, 0.002)), 2)
                sequence[symbol] += int(rng.integers(1, 5))
                ts = base + int(rng.integers(0, NANOS_PER_SECOND))
                ts = max(ts, last[symbol].ts_ns) if symbol in last else ts
                conditions = (2,) if rng.random() < 0.05 else (37,) if rng.random() < 0.2 else ()
                event = TradeEvent(
                    symbol, ts, price[symbol], float(rng.integers(1, 5) * 100), conditions, 4, sequence[symbol]
                )
                events.append(event)
                bad.append(False)
                last[symbol] = event
                draw = rng.random()
                if draw < 0.04:  # a re-sent trade
                    events.append(event)
                    bad.append(True)
                elif draw < 0.08:  # an older trade arriving late
                    events.append(TradeEvent(symbol, ts - 5 * NANOS_PER_SECOND, price[symbol], 100.0, (), 4, 1))
                    bad.append(True)
                elif draw < 0.11:
                    broken = [np.nan, -1.0, 0.0][int(rng.integers(0, 3))]
                    events.append(TradeEvent(symbol, ts, broken, 100.0, (), 4, sequence[symbol] + 1))
                    bad.append(True)
                elif draw < 0.14:
                    broken = [np.inf, -100.0, 0.0][int(rng.integers(0, 3))]
                    events.append(TradeEvent(symbol, ts, price[symbol], broken, (), 4, sequence[symbol] + 1))
                    bad.append(True)
            if rng.random() < 0.6 and second > 0:
                start = base - NANOS_PER_SECOND
                o, c = price[symbol], round(price[symbol] * (1 + rng.normal(0, 0.001)), 2)
                h, l = max(o, c) + 0.01, min(o, c) - 0.01
                events.append(AggEvent("A", symbol, start, base, o, h, l, c, 500.0, (o + c) / 2, 3))
                bad.append(False)
                if rng.random() < 0.1:
                    events.append(AggEvent("A", symbol, start, base, o, l, h, c, 500.0, o, 3))  # high < low
                    bad.append(True)
    return events, bad


def _run(
    builder: OnlineFeatureBuilder,
    events: list,  # type: ignore[type-arg]
    batch: bool,
    seconds: int = 120,
    unit: int = NANOS_PER_SECOND,
    delivered: list[int] | None = None,
) -> list[np.ndarray]:
    """Step ``builder`` every ``unit`` for ``seconds`` units, fed the events delivered by each step (one by one,
    or as trade, ``A`` and ``AM`` batches); an event is delivered at its time unless ``delivered`` says when."""
    times = delivered if delivered is not None else [_time(e) for e in events]
    frames = []
    position = 0
    for step in range(1, seconds + 1):
        t = START + step * unit
        chunk = []
        while position < len(events) and times[position] <= t:
            chunk.append(events[position])
            position += 1
        if batch:
            builder.on_trades(TradeBatch.from_events(e for e in chunk if isinstance(e, TradeEvent)))
            aggs = [e for e in chunk if isinstance(e, AggEvent)]
            builder.on_aggs(AggBatch.from_events("A", aggs))
            builder.on_aggs(AggBatch.from_events("AM", aggs))
        else:
            for event in chunk:
                builder.on_event(event)
        frames.append(builder.step(t).values.copy())
    return frames


def _time(event: TradeEvent | AggEvent) -> int:
    return event.ts_ns if isinstance(event, TradeEvent) else event.end_ns


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("small_batch", [0, SMALL_BATCH], ids=["columnar", "small-batches-one-by-one"])
@settings(max_examples=12)
@given(st.integers(0, 10_000))
def test_batch_path_equals_per_event_path_on_random_streams(small_batch: int, seed: int) -> None:
    events, _ = _stream(seed)
    one, many = _builder(), _builder()
    many.small_batch = small_batch
    assert _same(_run(one, events, batch=False), _run(many, events, batch=True))
    assert +one.dropped == +many.dropped
    assert +one.ignored == +many.ignored


@settings(max_examples=12)
@given(st.integers(0, 10_000))
def test_small_batches_taken_one_by_one_equal_the_columnar_path_counters_included(seed: int) -> None:
    events, _ = _stream(seed)
    columnar, small = _builder(), _builder()
    columnar.small_batch = 0
    assert _same(_run(columnar, events, batch=True), _run(small, events, batch=True))
    # the same reasons are present (some with a zero count), not only the same non-zero counts
    assert dict(columnar.dropped) == dict(small.dropped) and dict(columnar.ignored) == dict(small.ignored)
    assert np.array_equal(columnar._trades.last_ts, small._trades.last_ts)
    assert np.array_equal(columnar._trades.last_sign, small._trades.last_sign)


def test_one_batch_longer_than_the_ring_equals_event_by_event_ingest() -> None:
    # Units 'size' seconds apart share a ring column: the older one's trades must not leak into the newer.
    events, _ = _stream(5, seconds=400)
    trades = [e for e in events if isinstance(e, TradeEvent)]
    one, many = _builder(), _builder()
    end = START + 400 * NANOS_PER_SECOND
    for builder in (one, many):  # the feed is at the batch's end: no trade of it is from the future
        builder.advance_clock(end - NANOS_PER_SECOND)
    accepted = sum(one.on_trade(trade) for trade in trades)
    assert many.on_trades(TradeBatch.from_events(trades)) == accepted
    assert one.dropped["future_timestamp"] == 0 and trades[-1].ts_ns - trades[0].ts_ns > 300 * NANOS_PER_SECOND
    assert np.array_equal(one.step(end).values, many.step(end).values, equal_nan=True)
    assert +one.dropped == +many.dropped


def test_bad_events_are_counted_and_leave_the_features_unchanged() -> None:
    events, bad = _stream(3)
    noisy, clean = _builder(), _builder()
    with_bad = _run(noisy, events, batch=False)
    without = _run(clean, [e for e, b in zip(events, bad, strict=True) if not b], batch=False)
    assert _same(with_bad, without)
    dropped = +noisy.dropped
    assert {"duplicate_sequence", "out_of_order", "bad_price", "bad_size"} <= set(dropped)
    assert sum(dropped.values()) == sum(bad)
    finite = np.isfinite(np.array(with_bad)[:, :, :5])
    assert finite.mean() > 0.3  # the stream really produces values


def test_raw_frames_never_raise_and_count_what_they_drop() -> None:
    builder = _builder()
    t = START + 2 * NANOS_PER_SECOND
    good = {"ev": "T", "sym": "AAA", "x": 4, "p": 10.0, "s": 100, "c": [], "t": (t - 500_000_000) // 1_000_000, "q": 7}
    frames = [
        "not json",
        b"\xff\xfe",
        '{"ev": "T"}',
        '[{"ev": "XQ", "sym": "AAA"}]',
        '[{"ev": "T", "sym": "AAA", "p": "ten", "s": 1, "t": 1, "q": 1}]',
        '[{"ev": "status", "status": "connected"}]',
        "[" + ",".join([str(good).replace("'", '"').replace("[]", "[]")]) + "]",
    ]
    accepted = sum(builder.ingest(to_frame(frame)) for frame in frames)
    assert accepted == 1
    assert builder.dropped["malformed_json"] >= 2
    assert builder.dropped["unknown_ev"] == 1
    row = builder.step(t).row("AAA")
    assert row is not None


def test_events_before_start_day_are_refused_without_raising() -> None:
    builder = OnlineFeatureBuilder(SPEC, SYMBOLS)
    assert not builder.on_trade(TradeEvent("AAA", START + 5, 10.0, 100.0, (), 4, 1))
    assert builder.dropped["no_day"] == 1
    with pytest.raises(RuntimeError):
        builder.step(START + NANOS_PER_SECOND)


def test_step_refuses_times_off_the_grid() -> None:
    builder = _builder()
    with pytest.raises(ValueError, match="not an emission step"):
        builder.step(START + NANOS_PER_SECOND // 2)
    with pytest.raises(ValueError, match="not an emission step"):
        builder.step(START - 60 * NANOS_PER_SECOND)  # pre session is not in this spec


def test_memory_stays_bounded_over_a_long_stream() -> None:
    builder = _builder()
    events, _ = _stream(5, seconds=60)
    _run(builder, events, batch=True, seconds=60)
    before = builder.memory_bytes()
    late_events, _ = _stream(6, seconds=600)
    _run(builder, [e for e in late_events if _time(e) > START + 60 * NANOS_PER_SECOND], batch=True, seconds=600)
    assert builder.memory_bytes() == before


def test_unknown_symbols_join_on_their_first_event() -> None:
    builder = _builder()
    assert builder.on_trade(TradeEvent("NEWS", START + 10, 5.0, 100.0, (), 4, 1))
    frame = builder.step(START + NANOS_PER_SECOND)
    assert frame.symbols[-1] == "NEWS"
    assert np.isnan(frame.row("NEWS")[:5]).all()  # no baselines or normalization for it yet


def test_halt_policies_hold_or_drop_rows_of_a_symbol_without_trades() -> None:
    events, _ = _stream(8, seconds=400)
    # AAA stops trading after 30 s: from second 331 on it counts as halted (300 s without a trade).
    events = [e for e in events if not (e.symbol == "AAA" and _time(e) > START + 30 * NANOS_PER_SECOND)]
    held = _builder(feature_spec(**{"calendar.sessions": ["regular"], "calendar.treat_halts_as": "forward_fill"}))
    dropped = _builder(feature_spec(**{"calendar.sessions": ["regular"], "calendar.treat_halts_as": "drop"}))
    rows_held = _run(held, events, batch=True, seconds=400)
    last_trade = max(_time(e) for e in events if e.symbol == "AAA" and isinstance(e, TradeEvent))
    halted_from = (last_trade - START) // NANOS_PER_SECOND + 301
    assert np.array_equal(rows_held[halted_from][0], rows_held[-1][0], equal_nan=True)
    frame = None
    for second in range(1, 401):
        t = START + second * NANOS_PER_SECOND
        for e in events:
            if t - NANOS_PER_SECOND < _time(e) <= t:
                dropped.on_event(e)
        frame = dropped.step(t)
    assert frame is not None and "AAA" not in frame.symbols and "BBB" in frame.symbols


# --- a spec over 1-minute bars alone ---------------------------------------------------------------

MINUTE = 60 * NANOS_PER_SECOND
MINUTE_SPEC = minute_bar_feature_spec(**{"calendar.sessions": ["regular"]})


def _minute_stream(seed: int, minutes: int = 90) -> tuple[list[TradeEvent | AggEvent], list[bool]]:
    """``AM`` bars (some flat, some minutes without one) with planted bad ones, plus trades and ``A`` bars the
    spec does not read; returns (events in delivery order, is_bad)."""
    rng = np.random.default_rng(seed)
    stream: list[tuple[TradeEvent | AggEvent, bool]] = []
    price = {s: 5.0 + i for i, s in enumerate(SYMBOLS)}
    for minute in range(minutes):
        start = START + minute * MINUTE
        for symbol in SYMBOLS:
            p = price[symbol]
            stream.append((TradeEvent(symbol, start + 5, p, 100.0, (), 4, minute + 1), False))
            stream.append((AggEvent("A", symbol, start, start + NANOS_PER_SECOND, p, p, p, p, 100.0, p, 1), False))
            if rng.random() < 0.2:
                continue  # no bar this minute
            o = p
            c = price[symbol] = round(o * (1 + rng.normal(0, 0.004)), 2)
            if rng.random() < 0.1:  # a flat bar: high == low, no signed volume
                o = h = l = c
            else:
                h = max(o, c) + round(float(rng.uniform(0, 0.05)), 2)
                l = min(o, c) - round(float(rng.uniform(0, 0.05)), 2)
            volume = float(rng.integers(0, 50) * 100)
            bar = AggEvent("AM", symbol, start, start + MINUTE, o, h, l, c, volume, (h + l) / 2, int(volume // 150))
            stream.append((bar, False))
            draw = rng.random()
            if draw < 0.05:  # re-sent
                stream.append((bar, True))
            elif draw < 0.1:  # high < low
                stream.append((AggEvent("AM", symbol, start, start + MINUTE, o, l, h, c, volume, o, 3), True))
            elif draw < 0.15:  # a negative trade count
                stream.append((AggEvent("AM", symbol, start, start + MINUTE, o, h, l, c, volume, o, -4), True))
    stream.sort(key=lambda pair: _time(pair[0]))  # stable: a bad copy stays after its bar
    return [e for e, _ in stream], [b for _, b in stream]


def _run_minutes(builder: OnlineFeatureBuilder, events: list, batch: bool, minutes: int = 90) -> list[np.ndarray]:  # type: ignore[type-arg]
    return _run(builder, events, batch, seconds=minutes, unit=MINUTE)


@settings(max_examples=10)
@given(st.integers(0, 10_000))
def test_minute_bar_batches_equal_the_per_event_path_for_transactions_and_signed_volume(seed: int) -> None:
    events, _ = _minute_stream(seed)
    one, many = _builder(MINUTE_SPEC), _builder(MINUTE_SPEC)
    assert _same(_run_minutes(one, events, batch=False), _run_minutes(many, events, batch=True))
    assert +one.dropped == +many.dropped and +one.ignored == +many.ignored
    ring_one, ring_many = one._rings["m"], many._rings["m"]
    for series in ("m.transactions", "m.signed_volume"):
        assert np.array_equal(ring_one.data[series], ring_many.data[series])


def test_minute_bars_write_their_trade_count_and_close_location_signed_volume() -> None:
    builder = _builder(MINUTE_SPEC)
    bar = AggEvent("AM", "BBB", START, START + MINUTE, 10.0, 10.5, 10.0, 10.4, 1000.0, 10.2, 37)
    flat = AggEvent("AM", "CCC", START, START + MINUTE, 10.0, 10.0, 10.0, 10.0, 800.0, 10.0, 5)
    assert builder.on_agg(bar) and builder.on_agg(flat)
    ring = builder._rings["m"]
    rows = [builder.symbols.index(s) for s in ("BBB", "CCC")]
    assert ring.data["m.transactions"][rows, 0].tolist() == [37.0, 5.0]
    assert ring.data["m.signed_volume"][rows, 0].tolist() == [float(clv_signed_volume(10.5, 10.0, 10.4, 1000.0)), 0.0]
    refused = AggEvent("AM", "AAA", START, START + MINUTE, 10.0, 10.5, 10.0, 10.4, 1000.0, 10.2, -1)
    assert not builder.on_agg(refused) and builder.dropped["bad_size"] == 1


def test_a_minute_bar_builder_counts_trades_and_second_bars_as_unused() -> None:
    events, bad = _minute_stream(4, minutes=30)
    builder = _builder(MINUTE_SPEC)
    frames = _run_minutes(builder, events, batch=True, minutes=30)
    unused = sum(not isinstance(e, AggEvent) or e.kind == "A" for e in events)
    assert builder.ignored["unused_stream"] == unused
    assert sum(builder.dropped.values()) == sum(bad)
    clean = _builder(MINUTE_SPEC)
    good = [e for e, b in zip(events, bad, strict=True) if not b and isinstance(e, AggEvent) and e.kind == "AM"]
    assert _same(frames, _run_minutes(clean, good, batch=False, minutes=30))  # trades changed nothing
    ratio = MINUTE_SPEC.features.index(next(f for f in MINUTE_SPEC.features if f.op == "ratio"))
    assert np.isfinite(np.array(frames)[15:, :, ratio]).mean() > 0.5  # the bar-signed ratio has values


# --- a hostile live feed ---------------------------------------------------------------------------

FAR = 6 * 3600 * NANOS_PER_SECOND
"""Six hours: a trade of 09:31 restamped 15:31, the probe's 'stamped 15:59, delivered 09:35'."""


def _hostile(event: TradeEvent | AggEvent, draw: int) -> TradeEvent | AggEvent:
    """A bad copy of a good event: from the future (of its symbol or a new one), beyond the bounds, or of a
    junk symbol."""
    if isinstance(event, TradeEvent):
        copies = [
            dataclasses.replace(event, ts_ns=event.ts_ns + FAR),
            dataclasses.replace(event, symbol="NEWS", ts_ns=event.ts_ns + FAR),
            dataclasses.replace(event, price=1e308),
            dataclasses.replace(event, price=bounds.MAX_PRICE * 1.5),
            dataclasses.replace(event, size=1e308),
            dataclasses.replace(event, size=bounds.MAX_TRADE_SIZE * 2),
            dataclasses.replace(event, symbol="x" * 17),
            dataclasses.replace(event, symbol="aaa"),
        ]
    else:
        copies = [
            dataclasses.replace(event, start_ns=event.start_ns + FAR, end_ns=event.end_ns + FAR),
            dataclasses.replace(event, symbol="NEWS", start_ns=event.start_ns + FAR, end_ns=event.end_ns + FAR),
            dataclasses.replace(event, end_ns=event.end_ns + FAR),  # a bar ending in the future is not complete
            dataclasses.replace(event, high=1e308),
            dataclasses.replace(event, vwap=bounds.MAX_PRICE * 2),
            dataclasses.replace(event, volume=1e308),
            dataclasses.replace(event, volume=bounds.MAX_BAR_VOLUME * 2),
            dataclasses.replace(event, symbol="BAD SYMBOL"),
        ]
    return copies[draw % len(copies)]


def _hostile_stream(seed: int, seconds: int = 120) -> tuple[list[TradeEvent | AggEvent], list[bool], list[int]]:
    """:func:`_stream` with a hostile copy after some good events, delivered with it; returns (events, is_bad,
    delivery times)."""
    events, bad = _stream(seed, seconds)
    rng = np.random.default_rng(seed + 1)
    out: list[TradeEvent | AggEvent] = []
    out_bad: list[bool] = []
    delivered: list[int] = []
    for event, is_bad in zip(events, bad, strict=True):
        out.append(event)
        out_bad.append(is_bad)
        delivered.append(_time(event))
        if not is_bad and rng.random() < 0.15:
            out.append(_hostile(event, int(rng.integers(0, 8))))
            out_bad.append(True)
            delivered.append(_time(event))
    return out, out_bad, delivered


@pytest.mark.parametrize("small_batch", [0, SMALL_BATCH], ids=["columnar", "small-batches-one-by-one"])
@settings(max_examples=6)
@given(st.integers(0, 10_000))
def test_batch_path_equals_per_event_path_on_hostile_streams(small_batch: int, seed: int) -> None:
    events, _, delivered = _hostile_stream(seed)
    one, many = _builder(), _builder()
    many.small_batch = small_batch
    frames = _run(one, events, batch=False, delivered=delivered)
    assert _same(frames, _run(many, events, batch=True, delivered=delivered))
    assert +one.dropped == +many.dropped and +one.ignored == +many.ignored
    assert one.symbols == many.symbols == SYMBOLS


@settings(max_examples=6)
@given(st.integers(0, 10_000))
def test_small_batches_equal_the_columnar_path_on_hostile_streams_counters_included(seed: int) -> None:
    events, _, delivered = _hostile_stream(seed)
    columnar, small = _builder(), _builder()
    columnar.small_batch = 0
    assert _same(_run(columnar, events, True, delivered=delivered), _run(small, events, True, delivered=delivered))
    assert dict(columnar.dropped) == dict(small.dropped) and dict(columnar.ignored) == dict(small.ignored)


def test_hostile_events_are_counted_once_and_leave_the_features_unchanged() -> None:
    events, bad, delivered = _hostile_stream(3)
    noisy, clean = _builder(), _builder()
    with_bad = _run(noisy, events, batch=False, delivered=delivered)
    without = _run(clean, [e for e, b in zip(events, bad, strict=True) if not b], batch=False)
    assert _same(with_bad, without)  # rows included: no symbol was registered by a refused event
    dropped = +noisy.dropped
    assert {"future_timestamp", "bad_price", "bad_size", "bad_symbol", "out_of_order"} <= set(dropped)
    assert sum(dropped.values()) == sum(bad)
    assert "late" not in dropped


def _step_to(builder: OnlineFeatureBuilder, seconds: int) -> int:
    """Run the steps of the first ``seconds`` seconds (the feed clock follows); returns the last step."""
    for k in range(1, seconds + 1):
        builder.step(START + k * NANOS_PER_SECOND)
    return START + seconds * NANOS_PER_SECOND


def _ingest_trade(builder: OnlineFeatureBuilder, trade: TradeEvent, batch: bool) -> bool:
    if batch:
        return builder.on_trades(TradeBatch.from_events([trade])) == 1
    return builder.on_trade(trade)


@pytest.mark.parametrize("batch", [False, True], ids=["per-event", "columnar"])
def test_a_trade_stamped_hours_ahead_is_dropped_and_the_symbols_later_trades_enter(batch: bool) -> None:
    builder = _builder()
    builder.small_batch = 0
    clock = _step_to(builder, 300)  # 09:35
    stray = TradeEvent("AAA", local_to_ns(DAY, dt.time(15, 59)), 10.0, 100.0, (), 4, 10**6)
    assert not _ingest_trade(builder, stray, batch)
    assert builder.dropped["future_timestamp"] == 1 and builder.feed_clock_ns == clock
    entered = 0
    for k in range(120):
        t = clock + k * NANOS_PER_SECOND
        entered += _ingest_trade(builder, TradeEvent("AAA", t + 500_000_000, 10.0, 100.0, (), 4, k + 1), batch)
        builder.step(t + NANOS_PER_SECOND)
    assert entered == 120 and builder.dropped["out_of_order"] == 0


def test_a_future_event_of_a_new_symbol_registers_nothing_and_makes_no_other_event_late() -> None:
    builder = _builder()
    clock = _step_to(builder, 60)
    at = local_to_ns(DAY, dt.time(15, 59))
    assert not builder.on_trade(TradeEvent("ZZZZ", at, 5.0, 100.0, (), 4, 1))
    assert not builder.on_agg(AggEvent("A", "ZZZZ", at, at + NANOS_PER_SECOND, 5.0, 5.0, 5.0, 5.0, 100.0, 5.0, 1))
    assert builder.dropped["future_timestamp"] == 2 and builder.symbols == SYMBOLS
    entered = 0
    for k in range(120):  # more than the ring's 70 columns: every column comes round
        t = clock + k * NANOS_PER_SECOND
        entered += builder.on_trade(TradeEvent("BBB", t + 1, 11.0, 100.0, (), 4, k + 1))
        entered += builder.on_agg(AggEvent("A", "BBB", t, t + NANOS_PER_SECOND, 11.0, 11.0, 11.0, 11.0, 100.0, 11.0, 1))
        builder.step(t + NANOS_PER_SECOND)
    assert entered == 240 and builder.dropped["late"] == 0


@pytest.mark.parametrize(("spec", "skew"), [(SPEC, 0), (SPEC, DEFAULT_MAX_SKEW_SECONDS), (SPEC, 45), (MINUTE_SPEC, 30)])
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_events_within_the_horizon_never_make_another_symbols_on_time_events_late(spec, skew, data) -> None:  # type: ignore[no-untyped-def]
    # X (AAA) sends trades and bars anywhere from long ago to the horizon, and beyond it; Y (BBB) sends its
    # trade and bar of each step on time, interleaved. Every one of Y's enters, whatever X did.
    builder = OnlineFeatureBuilder(spec, SYMBOLS, max_skew_seconds=skew)
    builder.start_day(DAY, _warmup(spec))
    step_s = builder.plan.emission_step
    kind, bar_ns = ("AM", 60 * NANOS_PER_SECOND) if spec is MINUTE_SPEC else ("A", NANOS_PER_SECOND)
    clock = START
    for k in range(1, 90 if step_s == 1 else 30):
        t = START + k * step_s * NANOS_PER_SECOND
        horizon = builder.horizon_ns
        assert horizon == t + skew * NANOS_PER_SECOND
        offsets = data.draw(st.lists(st.integers(-400, (horizon - clock) // NANOS_PER_SECOND + 5), max_size=6))
        x_events: list[TradeEvent | AggEvent] = []
        for offset in offsets:
            ts = clock + offset * NANOS_PER_SECOND
            start = ts - ts % bar_ns
            x_events.append(TradeEvent("AAA", ts, 10.0, 100.0, (), 4, 1))
            x_events.append(AggEvent(kind, "AAA", start, start + bar_ns, 10.0, 10.0, 10.0, 10.0, 100.0, 10.0, 1))
        y_events = [
            TradeEvent("BBB", clock + 1, 11.0, 100.0, (), 4, k),
            AggEvent(kind, "BBB", t - bar_ns, t, 11.0, 11.0, 11.0, 11.0, 100.0, 11.0, 1),
        ]
        order = data.draw(st.permutations(range(len(x_events) + len(y_events))))
        pooled = x_events + y_events
        for i in order:
            entered = builder.on_event(pooled[i])
            assert entered or pooled[i].symbol != "BBB" or (kind == "AM" and isinstance(pooled[i], TradeEvent))
        builder.step(t)
        clock = t


@pytest.mark.parametrize("batch", [False, True], ids=["per-event", "columnar"])
def test_prices_and_sizes_beyond_the_lake_bounds_are_dropped(batch: bool) -> None:
    builder = _builder()
    builder.small_batch = 0
    t = START + 500_000_000
    trades = [
        TradeEvent("AAA", t, 1e308, 100.0, (), 4, 1),
        TradeEvent("AAA", t, bounds.MAX_PRICE * 1.001, 100.0, (), 4, 2),
        TradeEvent("AAA", t, 10.0, 1e308, (), 4, 3),
        TradeEvent("AAA", t, 10.0, bounds.MAX_TRADE_SIZE * 1.001, (), 4, 4),
        TradeEvent("BBB", t, bounds.MAX_PRICE, bounds.MAX_TRADE_SIZE, (), 4, 5),  # the bounds themselves are fine
    ]
    bar = AggEvent("A", "CCC", START, START + NANOS_PER_SECOND, 10.0, 10.0, 10.0, 10.0, 100.0, 10.0, 1)
    bars = [
        dataclasses.replace(bar, open=1e308),
        dataclasses.replace(bar, high=1e308),
        dataclasses.replace(bar, low=bounds.MAX_PRICE * 1.001, high=bounds.MAX_PRICE * 1.002),
        dataclasses.replace(bar, close=1e308),
        dataclasses.replace(bar, vwap=1e308),
        dataclasses.replace(bar, volume=1e308),
        dataclasses.replace(bar, volume=bounds.MAX_BAR_VOLUME * 1.001),
        dataclasses.replace(bar, vwap=np.nan, volume=bounds.MAX_BAR_VOLUME),  # an unknown VWAP is no error
    ]
    if batch:
        entered = builder.on_trades(TradeBatch.from_events(trades)) + builder.on_aggs(AggBatch.from_events("A", bars))
    else:
        entered = sum(map(builder.on_event, [*trades, *bars]))
    assert entered == 2
    assert +builder.dropped == {"bad_price": 7, "bad_size": 4}


def _junk_batch(symbols: list[str], ts: int) -> TradeBatch:
    n = len(symbols)
    return TradeBatch(
        symbols=np.array(symbols, dtype=object),
        ts_ns=np.full(n, ts, dtype=np.int64),
        price=np.full(n, 10.0),
        size=np.full(n, 100.0),
        sequence=np.arange(n, dtype=np.int64),
        exchange=np.full(n, 4, dtype=np.int32),
        conditions=((),) * n,
        eligible=np.ones(n, dtype=bool),
    )


def test_fifty_thousand_junk_symbols_stop_at_the_cap_and_memory_stays_bounded() -> None:
    builder = OnlineFeatureBuilder(SPEC, SYMBOLS, max_symbols=100)
    builder.start_day(DAY, _warmup())
    junk = [f"J{i:05d}" for i in range(50_000)]
    builder.on_trades(_junk_batch(junk, START + 1))
    assert len(builder.symbols) == 100 and builder.symbols[3:] == junk[:97]
    assert builder.dropped["symbol_cap"] == 50_000 - 97
    full = OnlineFeatureBuilder(SPEC, SYMBOLS + junk[:97])
    assert builder.memory_bytes() == full.memory_bytes()  # no room kept beyond the cap
    frame = builder.step(START + NANOS_PER_SECOND)
    assert frame.values.shape[0] == 100


def test_the_symbol_cap_counts_the_same_one_by_one_and_in_columns() -> None:
    junk = [f"J{i % 40:03d}" for i in range(200)]  # forty new symbols, five events each, interleaved
    columnar, small = (OnlineFeatureBuilder(SPEC, SYMBOLS, max_symbols=20) for _ in range(2))
    for builder, small_batch in ((columnar, 0), (small, len(junk))):
        builder.start_day(DAY, _warmup())
        builder.small_batch = small_batch
        builder.on_trades(_junk_batch(junk, START + 1))
    assert columnar.symbols == small.symbols == SYMBOLS + [f"J{i:03d}" for i in range(17)]
    assert dict(columnar.dropped) == dict(small.dropped) and columnar.dropped["symbol_cap"] == 23 * 5


def test_a_symbol_that_is_no_ticker_is_dropped_without_registering_even_ten_megabytes_of_it() -> None:
    builder = _builder()
    huge = "A" * 10_000_000
    t = START + 1
    assert not builder.on_trade(TradeEvent(huge, t, 10.0, 100.0, (), 4, 1))
    message = {"ev": "T", "sym": huge, "x": 4, "p": 10.0, "s": 100, "t": t // 1_000_000, "q": 1}
    lower = {**message, "sym": "abc"}
    assert builder.ingest(to_frame(json.dumps([message, lower]))) == 0
    assert builder.dropped["bad_symbol"] == 3 and builder.symbols == SYMBOLS
    assert [is_ticker(s) for s in ("BRK.A", "BF-B", "A", "ABC\n", "", "1ABC", "A" * 17, None)] == [
        True,
        True,
        True,
        False,
        False,
        False,
        False,
        False,
    ]
    with pytest.raises(ValueError, match="'abc' is not a ticker"):
        builder.add_symbols(["abc"])
    with pytest.raises(ValueError, match="exceed max_symbols=3"):
        OnlineFeatureBuilder(SPEC, SYMBOLS, max_symbols=3).add_symbols(["DDD"])


def test_skew_and_cap_are_checked_at_construction() -> None:
    for kwargs in ({"max_skew_seconds": -1}, {"max_skew_seconds": 301}, {"max_symbols": 0}, {"max_skew_seconds": 1.5}):
        with pytest.raises(ValueError, match="OnlineFeatureBuilder: max_"):
            OnlineFeatureBuilder(SPEC, SYMBOLS, **kwargs)


def test_the_feed_clock_follows_steps_and_advances_and_never_goes_back() -> None:
    builder = _builder()
    second = NANOS_PER_SECOND
    assert builder.feed_clock_ns == START and builder.horizon_ns == START + (1 + DEFAULT_MAX_SKEW_SECONDS) * second
    builder.advance_clock(START + 30 * second + 1)  # not a step: the next step is START + 31 s
    assert builder.horizon_ns == START + (31 + DEFAULT_MAX_SKEW_SECONDS) * second
    builder.step(START + 10 * second)  # an earlier step (a scanner's late call) does not move it back
    assert builder.feed_clock_ns == START + 30 * second + 1
    builder.start_day(DAY, _warmup())
    assert builder.feed_clock_ns == START


SHIPPED_MEMORY = {
    "FS_2026-01-16_001": 39_272,
    "FS_2026-01-16_002": 79_616,
    "FS_2026-01-16_003": 62_264,
    "FS_2026-12-05_001": 81_416,
}
"""memory_bytes() per symbol of the shipped specs at the default skew (the builder's module docstring)."""


@pytest.mark.parametrize("spec_id", sorted(SHIPPED_MEMORY))
def test_memory_per_symbol_of_the_shipped_specs_is_what_the_builder_documents(spec_id: str) -> None:
    spec = load_feature_spec(ROOT / "feature_specs" / f"{spec_id}.yaml")
    per_symbol = SHIPPED_MEMORY[spec_id]
    builder = OnlineFeatureBuilder(spec, [f"S{i:03d}" for i in range(100)])
    assert builder.memory_bytes() == 100 * per_symbol
    assert f"``{spec_id}``  {per_symbol:,}" in (online.__doc__ or "")


def test_admitting_bars_in_columns_equals_admitting_them_one_by_one() -> None:
    builder = _builder()
    _step_to(builder, 60)
    events, _, _ = _hostile_stream(7)
    bars = [e for e in events if isinstance(e, AggEvent)]
    bars.append(dataclasses.replace(bars[0], start_ns=bars[0].start_ns + 1))  # off its second
    bars.append(dataclasses.replace(bars[0], transactions=-1))
    mask = builder.admits_bars(AggBatch.from_events("A", bars))
    assert mask.tolist() == [builder.admits_bar(bar) for bar in bars]
    assert mask.any() and not mask.all()
    assert not builder.dropped and not builder.ignored  # admitting counts nothing


@settings(max_examples=40)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A", "AM"]),
            st.sampled_from(["AAA", "BBB", "NEWB", "bad sym", "ZZZ1"]),
            st.integers(-90, 400),  # unit offset from the clock: before the session, late, colliding, future
            st.sampled_from([0, 0, 0, 1, 500_000_000]),  # misaligned starts
            st.sampled_from([10.0, 10.5, 0.0, float("nan"), 1e12]),
            st.sampled_from([100.0, 0.0, -5.0, float("nan")]),
            st.sampled_from([3, 0, -1]),
        ),
        max_size=40,
    ),
    st.integers(1, 3),
)
def test_bars_in_columns_equal_bars_one_by_one(bars, chunks: int) -> None:
    """on_aggs == on_agg per bar: windows, counters and registered symbols, whatever the batch holds (refused
    values, misaligned or future stamps, late units, duplicates, new and bad symbols, a symbol cap)."""
    clock = START + 60 * NANOS_PER_SECOND
    events = []
    for kind, symbol, offset, skew, price, volume, transactions in bars:
        unit = NANOS_PER_SECOND if kind == "A" else 60 * NANOS_PER_SECOND
        start = clock + offset * unit + skew
        high = price * 1.01 if price == price else price
        events.append(
            AggEvent(kind, symbol, start, start + unit, price, high, price, price, volume, price, transactions)
        )
    reference, columns = (OnlineFeatureBuilder(SPEC, SYMBOLS[:2], max_symbols=3) for _ in range(2))
    for builder in (reference, columns):
        builder.start_day(DAY, _warmup())
        builder.advance_clock(clock)
    entered = [0, 0]
    for part in np.array_split(np.arange(len(events)), chunks):
        for kind in ("A", "AM"):
            chosen = [events[k] for k in part.tolist() if events[k].kind == kind]
            entered[0] += sum(reference.on_agg(e) for e in chosen)
            entered[1] += columns.on_aggs(AggBatch.from_events(kind, chosen))
    assert entered[0] == entered[1]
    assert +reference.dropped == +columns.dropped and +reference.ignored == +columns.ignored
    assert reference.symbols == columns.symbols
    for group in ("s", "m"):
        assert np.array_equal(reference._rings[group].stack, columns._rings[group].stack, equal_nan=True)
        assert np.array_equal(reference._rings[group].unit_of_col, columns._rings[group].unit_of_col)


@pytest.mark.parametrize("every", [2, 7, 60])
def test_steps_passed_over_leave_every_later_step_as_stepping_every_second_does(every: int) -> None:
    """pass_step moves the clock and computes only the features held across steps (the spec's 1-minute-step
    window) that are due: the steps computed afterwards equal those of a builder that computed every step."""
    spec = demo_feature_spec(**{"calendar.sessions": ["regular"]})
    assert any(f.step_seconds > 1 for f in FeaturePlan.from_spec(spec).features)  # a held feature is in play
    events, _ = _stream(5, seconds=300)
    stepped, passed = _builder(spec), _builder(spec)
    position = 0
    compared = 0
    for step in range(1, 301):
        t = START + step * NANOS_PER_SECOND
        chunk = []
        while position < len(events) and _time(events[position]) <= t:
            chunk.append(events[position])
            position += 1
        for builder in (stepped, passed):
            for event in chunk:
                builder.on_event(event)
        expected = stepped.step(t)
        if step % every:
            passed.pass_step(t)
            assert passed.feed_clock_ns == t
            continue
        assert np.array_equal(passed.step(t).values, expected.values, equal_nan=True), step
        compared += 1
    assert compared == 300 // every


def test_a_spec_that_carries_values_forward_refuses_to_pass_a_step() -> None:
    spec = feature_spec(**{"calendar.sessions": ["regular"], "normalization.missing.policy": "forward_fill"})
    builder = _builder(spec)
    with pytest.raises(ValueError, match="cannot be passed over"):
        builder.pass_step(START + NANOS_PER_SECOND)
