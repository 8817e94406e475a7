"""OnlineFeatureBuilder: batch path equals the per-event path, bad events are counted and harmless."""

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigma9_runtime.calendar import NANOS_PER_SECOND, session_bounds
from sigma9_runtime.features.baselines import MINUTES_PER_DAY
from sigma9_runtime.features.kernels import clv_signed_volume
from sigma9_runtime.features.normalization import NormParams
from sigma9_runtime.features.online import SMALL_BATCH, OnlineFeatureBuilder
from sigma9_runtime.features.plan import FeaturePlan
from sigma9_runtime.features.warmup import Warmup
from sigma9_runtime.feeds.events import AggBatch, AggEvent, TradeBatch, TradeEvent
from tests.stubs import feature_spec, minute_bar_feature_spec

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
    builder: OnlineFeatureBuilder, events: list, batch: bool, seconds: int = 120, unit: int = NANOS_PER_SECOND
) -> list[np.ndarray]:  # type: ignore[type-arg]
    """Step ``builder`` every ``unit`` for ``seconds`` units, fed the events delivered by each step (one by one,
    or as trade, ``A`` and ``AM`` batches)."""
    frames = []
    position = 0
    for step in range(1, seconds + 1):
        t = START + step * unit
        chunk = []
        while position < len(events) and _time(events[position]) <= t:
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
    assert np.array_equal(columnar._last_ts, small._last_ts) and np.array_equal(columnar._last_sign, small._last_sign)


def test_one_batch_longer_than_the_ring_equals_event_by_event_ingest() -> None:
    # Units 'size' seconds apart share a ring column: the older one's trades must not leak into the newer.
    events, _ = _stream(5, seconds=400)
    trades = [e for e in events if isinstance(e, TradeEvent)]
    one, many = _builder(), _builder()
    accepted = sum(one.on_trade(trade) for trade in trades)
    assert many.on_trades(TradeBatch.from_events(trades)) == accepted
    end = START + 400 * NANOS_PER_SECOND
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
    accepted = sum(builder.on_frame(frame) for frame in frames)
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
