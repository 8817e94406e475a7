"""Benchmark of the feature engine (online builder and offline batch) on a small synthetic lake.

Usage: ``.venv/bin/python benchmarks/features.py [--tickers N --days D --symbols-step 5000 --workdir DIR]
[--json]``. The lake is generated in a temporary directory (removed afterwards) unless ``--workdir``
keeps it for the next run. One run prints every figure next to its target; nothing is asserted.
Measured:

1. online ingest of raw Massive WebSocket frames (``to_frame`` + ``OnlineFeatureBuilder.ingest``, ~1000 ``T``
   messages per frame), and the frame parser alone (``parse_frame_columnar``);
2. online ingest of typed events: ``on_trade`` per event and ``on_trades`` per 1000-trade batch;
3. time of one ``step(t)`` with 5,000 active symbols whose windows are full (p50 / p99);
4. memory per symbol (``memory_bytes()`` and tracemalloc growth) with 5,000 symbols;
5. offline rows/s of ``symbol_day_features`` against a straightforward pandas reference (per-second
   series + ``rolling`` windows), with a check that both give the same raw values.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import math
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sigma9_dag.features.offline import day_arrays, raw_features, symbol_day_features  # noqa: E402
from sigma9_dag.features.replay import trade_messages  # noqa: E402
from sigma9_dag.lake.synth import generate_synthetic_lake  # noqa: E402
from sigma9_runtime.calendar import local_to_ns  # noqa: E402
from sigma9_runtime.contracts.io import load_feature_spec  # noqa: E402
from sigma9_runtime.features.grid import day_grid  # noqa: E402
from sigma9_runtime.features.normalization import NormParams  # noqa: E402
from sigma9_runtime.features.online import OnlineFeatureBuilder  # noqa: E402
from sigma9_runtime.features.plan import FeaturePlan  # noqa: E402
from sigma9_runtime.features.warmup import Warmup, load_warmup  # noqa: E402
from sigma9_runtime.feeds.events import AggBatch, TradeBatch, TradeEvent  # noqa: E402
from sigma9_runtime.feeds.massive_ws import parse_frame_columnar  # noqa: E402
from sigma9_runtime.feeds.ticks import to_frame  # noqa: E402
from sigma9_runtime.lake.layout import LakeLayout  # noqa: E402
from sigma9_runtime.lake.tables import eligible_trades_mask, read_bars, read_trades  # noqa: E402
from sigma9_runtime.units import NANOS_PER_SECOND  # noqa: E402

SPEC_PATH = ROOT / "feature_specs" / "FS_2026-01-16_001.yaml"
SEED = 11
HISTORY_DAYS = 10
TARGET_FRAME_EVENTS = 1_000_000  # trade events/s/core through to_frame + ingest (issue 17)
TARGET_STEP_MS = 50.0  # per-step emission, 5,000 symbols
TARGET_OFFLINE_RATIO = 3.0  # engine rows/s over pandas rows/s (issue 17)


# --- lake ---------------------------------------------------------------------------------------


def ensure_lake(root: Path, tickers: int, days: int) -> tuple[LakeLayout, float | None]:
    """The synthetic lake at ``root`` (generated unless one with the same parameters is there)."""
    meta = root / "lake.json"
    if meta.exists():
        try:
            generator = json.loads(meta.read_text())["history"][-1]["generator"]
            same = (generator["tickers"], generator["days"], generator["seed"]) == (tickers, days, SEED)
        except (KeyError, IndexError, ValueError):
            same = False
        if same:
            return LakeLayout(root), None
    began = time.perf_counter()
    force = meta.exists() or (root / "daily").exists()
    generate_synthetic_lake(
        root, tickers=tickers, days=days, seed=SEED, history_days=HISTORY_DAYS, workers=2, force=force
    )
    return LakeLayout(root), time.perf_counter() - began


def day_trade_messages(layout: LakeLayout, day: dt.date, tickers: list[str]) -> list[dict[str, object]]:
    """Massive ``T`` messages of every delivered trade of ``day`` (all tickers), in time order."""
    table = pa.concat_tables([read_trades(layout, t, day) for t in tickers])
    order = np.argsort(table.column("ts").to_numpy(), kind="stable")
    return trade_messages(table.take(pa.array(order)))[1]


def chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def typed_trade(m: dict) -> TradeEvent:
    return TradeEvent(m["sym"], m["t"] * 1_000_000, m["p"], m["s"], tuple(m["c"]), m["x"], m["q"])


# --- 1 & 2: ingest ------------------------------------------------------------------------------


def bench_ingest(spec, symbols: list[str], feeds: list[tuple[dt.date, Warmup, list[dict]]], frame_size: int) -> dict:
    """Trades/s through each ingest path; ``feeds`` = (day, warm-up, T messages in time order)."""
    prepared = []
    for day, warmup, messages in feeds:
        frames = [json.dumps(c, separators=(",", ":")) for c in chunks(messages, frame_size)]
        # The feed clock a live loop has when a frame arrives: at its newest trade (none is from the future).
        clocks = [max(m["t"] for m in c) * 1_000_000 for c in chunks(messages, frame_size)]
        typed = chunks([typed_trade(m) for m in messages], frame_size)
        batches = [TradeBatch.from_events(c) for c in typed]
        prepared.append((day, warmup, frames, clocks, typed, batches))
    events = sum(len(c) for p in prepared for c in p[4])

    def run(kind: str) -> tuple[float, int]:
        builder = OnlineFeatureBuilder(spec, symbols)
        advance = builder.advance_clock
        elapsed, accepted = 0.0, 0
        for day, warmup, frames, clocks, typed, batches in prepared:
            builder.start_day(day, warmup)
            gc.collect()
            began = time.perf_counter()
            if kind == "frame":
                for clock, frame in zip(clocks, frames):
                    advance(clock)
                    accepted += builder.ingest(to_frame(frame))
            elif kind == "trade":
                on_trade = builder.on_trade
                for clock, chunk in zip(clocks, typed):
                    advance(clock)
                    for event in chunk:
                        accepted += on_trade(event)
            elif kind == "batch":
                for clock, batch in zip(clocks, batches):
                    advance(clock)
                    accepted += builder.on_trades(batch)
            elif kind == "parse":
                for frame in frames:
                    accepted += len(parse_frame_columnar(frame).trades)
            elif kind == "json":
                for frame in frames:
                    accepted += len(json.loads(frame))
            elapsed += time.perf_counter() - began
        return elapsed, accepted

    out: dict = {
        "events": events,
        "symbols": len(symbols),
        "frames": sum(len(p[2]) for p in prepared),
        "frame_bytes": sum(len(f) for p in prepared for f in p[2]),
    }
    for kind in ("json", "parse", "frame", "trade", "batch"):
        elapsed, accepted = run(kind)
        out[kind] = {"seconds": elapsed, "events_per_s": events / elapsed, "accepted": accepted}
    return out


def dense_messages(symbols: list[str], start_ns: int, seconds: int) -> list[dict]:
    """T messages of :class:`SecondFeed` over ``seconds`` seconds (every symbol trades every second)."""
    feed = SecondFeed(symbols, seed=5)
    messages = []
    for k in range(seconds):
        trades, _ = feed.second(start_ns + k * NANOS_PER_SECOND)
        messages += [
            {"ev": "T", "sym": s, "x": 4, "p": p, "s": int(z), "c": [], "t": t // 1_000_000, "q": q}
            for s, p, z, t, q in zip(
                trades.symbols.tolist(),
                trades.price.tolist(),
                trades.size.tolist(),
                trades.ts_ns.tolist(),
                trades.sequence.tolist(),
            )
        ]
    return messages


# --- 3 & 4: 5,000 symbols -----------------------------------------------------------------------


def synthetic_warmup(
    plan: FeaturePlan, day: dt.date, symbols: list[str], template: Warmup, sources: list[str]
) -> Warmup:
    """Baselines borrowed from lake tickers (cycled) and finite normalization parameters."""
    warmup = Warmup(day)
    for key in plan.baselines:
        arrays = [template.baseline(key, s) for s in sources]
        warmup.baselines[key] = {sym: arrays[i % len(arrays)] for i, sym in enumerate(symbols)}
    features = len(plan.features)
    params = NormParams(np.zeros(features), np.ones(features), np.full(features, -1e9), np.full(features, 1e9))
    warmup.norm = dict.fromkeys(symbols, params)
    return warmup


class SecondFeed:
    """Synthetic live data for many symbols: every symbol has a 1 s bar and 1-3 trades each second."""

    def __init__(self, symbols: list[str], seed: int = 3) -> None:
        self.symbols = np.array(symbols, dtype=object)
        self.rng = np.random.default_rng(seed)
        self.price = 5.0 + 20.0 * self.rng.random(len(symbols))
        self.seq = 0

    def second(self, start_ns: int) -> tuple[TradeBatch, AggBatch]:
        n = self.symbols.size
        rng = self.rng
        counts = rng.integers(1, 4, size=n)
        index = np.repeat(np.arange(n), counts)
        m = index.size
        offsets = np.sort(rng.integers(0, 1000, size=m)) * 1_000_000
        order = np.argsort(offsets, kind="stable")
        index = index[order]
        moves = 1.0 + 0.001 * rng.standard_normal(m)
        price = np.round(self.price[index] * moves, 4)
        size = rng.integers(1, 50, size=m).astype(np.float64) * 100
        ts = start_ns + offsets
        seq = self.seq + np.arange(m, dtype=np.int64)
        self.seq += m
        trades = TradeBatch(
            symbols=self.symbols[index],
            ts_ns=ts.astype(np.int64),
            price=price,
            size=size,
            sequence=seq,
            exchange=np.full(m, 4, dtype=np.int32),
            conditions=((),) * m,
            eligible=np.ones(m, dtype=bool),
        )
        high = np.full(n, -np.inf)
        low = np.full(n, np.inf)
        np.maximum.at(high, index, price)
        np.minimum.at(low, index, price)
        close = np.zeros(n)
        close[index] = price  # last write wins: trades are in time order
        volume = np.bincount(index, weights=size, minlength=n)
        open_ = self.price.copy()
        self.price = close
        bars = AggBatch(
            kind="A",
            symbols=self.symbols,
            start_ns=np.full(n, start_ns, dtype=np.int64),
            end_ns=np.full(n, start_ns + NANOS_PER_SECOND, dtype=np.int64),
            open=open_,
            high=np.maximum(high, open_),
            low=np.minimum(low, open_),
            close=close,
            volume=volume,
            vwap=(open_ + close) / 2,
            transactions=counts.astype(np.int64),
        )
        return trades, bars


def bench_steps(spec, day: dt.date, template: Warmup, sources: list[str], symbols_count: int, steps: int) -> dict:
    plan = FeaturePlan.from_spec(spec)
    symbols = [f"S{i:05d}" for i in range(symbols_count)]
    warmup = synthetic_warmup(plan, day, symbols, template, sources)
    grid = day_grid(spec, day)
    first_step = local_to_ns(day, dt.time(10, 0))
    index = int(np.searchsorted(grid.steps_ns, first_step))
    step_times = grid.steps_ns[index : index + steps]
    fill_seconds = plan.max_length["s"] + 5

    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    builder = OnlineFeatureBuilder(spec, symbols)
    builder.start_day(day, warmup)
    traced = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()

    feed = SecondFeed(symbols)
    fill_trades = 0
    began = time.perf_counter()
    for k in range(fill_seconds, 0, -1):
        second = int(step_times[0]) - k * NANOS_PER_SECOND
        trades, bars = feed.second(second)
        builder.advance_clock(second)  # where the steps before this second would leave the feed clock
        builder.on_trades(trades)
        builder.on_aggs(bars)
        fill_trades += len(trades)
    fill_elapsed = time.perf_counter() - began

    step_ms, trades_ms, bars_ms, trades_fed, bars_fed = [], [], [], 0, 0
    finite = 0.0
    for i, t in enumerate(step_times.tolist()):
        if i:
            trades, bars = feed.second(t - NANOS_PER_SECOND)
            began = time.perf_counter()
            builder.on_trades(trades)
            middle = time.perf_counter()
            builder.on_aggs(bars)
            trades_ms.append((middle - began) * 1e3)
            bars_ms.append((time.perf_counter() - middle) * 1e3)
            trades_fed += len(trades)
            bars_fed += len(bars)
        began = time.perf_counter()
        frame = builder.step(t)
        step_ms.append((time.perf_counter() - began) * 1e3)
        finite = np.isfinite(frame.values[:, : len(plan.features)]).mean(axis=0).min()
    memory = builder.memory_bytes()
    # Breakdown from the builder's private state (what memory_bytes() adds up).
    baseline_bytes = sum(a.nbytes for arrays in builder._baselines.values() for a in arrays)
    ring_bytes = sum(a.nbytes for ring in builder._rings.values() for a in ring.data.values())
    return {
        "symbols": symbols_count,
        "steps": len(step_ms),
        "window_fill_seconds": fill_seconds,
        "fill_seconds_elapsed": fill_elapsed,
        "fill_trades": fill_trades,
        "step_ms_p50": float(np.percentile(step_ms, 50)),
        "step_ms_p99": float(np.percentile(step_ms, 99)),
        "step_ms_mean": float(np.mean(step_ms)),
        "between_steps_on_trades_ms_p50": float(np.percentile(trades_ms, 50)) if trades_ms else math.nan,
        "between_steps_on_aggs_ms_p50": float(np.percentile(bars_ms, 50)) if bars_ms else math.nan,
        "between_steps_trades": trades_fed / max(len(trades_ms), 1),
        "between_steps_bars": bars_fed / max(len(bars_ms), 1),
        "last_step_min_finite_fraction": float(finite),
        "memory_bytes": memory,
        "memory_bytes_per_symbol": memory / symbols_count,
        "baseline_bytes_per_symbol": baseline_bytes / symbols_count,
        "ring_bytes_per_symbol": ring_bytes / symbols_count,
        "tracemalloc_bytes_per_symbol": traced / symbols_count,
        "dropped": dict(builder.dropped),
    }


# --- 5: offline vs pandas -----------------------------------------------------------------------


def pandas_raw(layout: LakeLayout, plan: FeaturePlan, warmup: Warmup, ticker: str, day: dt.date) -> np.ndarray:
    """The shipped spec's five raw features at every grid step, with pandas ``rolling`` windows.

    Written for this spec only (w15s / w60s windows on 1 s data), independent of the engine's kernels.
    """
    spec = plan.spec
    grid = day_grid(spec, day)
    seconds = grid.included.size
    index = pd.RangeIndex(seconds)
    # Trades -> per-second count, volume and tick-rule signed volume.
    table = read_trades(layout, ticker, day)
    eligible = eligible_trades_mask(table)
    trades = pd.DataFrame(
        {
            "ts": table.column("ts").to_numpy(),
            "seq": table.column("sequence").to_numpy(),
            "price": table.column("price").to_numpy(),
            "size": table.column("size").to_numpy(),
            "correction": table.column("correction").to_numpy(zero_copy_only=False),
            "eligible": eligible,
        }
    )
    trades["sec"] = (trades["ts"] - grid.start_ns) // NANOS_PER_SECOND
    inside = trades["sec"].between(0, seconds - 1)
    inside[inside] = grid.included[trades.loc[inside, "sec"].to_numpy()]
    trades = trades[inside & (trades["correction"] == 0)]
    duplicate = (trades["ts"] == trades["ts"].shift()) & (trades["seq"] >= 0) & (trades["seq"] <= trades["seq"].shift())
    trades = trades[~duplicate & trades["eligible"]]
    sign = np.sign(trades["price"].diff()).replace(0.0, np.nan).ffill().fillna(0.0)
    trades = trades.assign(count=1.0, signed=trades["size"] * sign)
    per_sec = trades.groupby("sec")[["count", "size", "signed"]].sum().reindex(index, fill_value=0.0)
    # 1 s bars -> per-second series (NaN where no bar).
    bars = read_bars(layout, "1s", ticker, grid.start_ns, grid.end_ns).to_pandas()
    offset = bars["ts"] - grid.start_ns
    bars["sec"] = offset // NANOS_PER_SECOND
    bars = bars[(offset % NANOS_PER_SECOND == 0) & bars["sec"].between(0, seconds - 1)]
    bars = bars[grid.included[bars["sec"].to_numpy()]]
    s = bars.set_index("sec")[["open", "high", "low", "close", "volume"]].reindex(index)
    present = s["close"].notna().astype(float)
    close_ff = s["close"].ffill()

    def rsum(x: pd.Series, n: int) -> pd.Series:
        return x.rolling(n, min_periods=1).sum()

    # Every step's window ends at second e (exclusive): rolling value at row e - 1.
    end = (grid.steps_ns - grid.start_ns) // NANOS_PER_SECOND - 1
    minute = grid.minute_of_day(grid.steps_ns)
    out = np.full((end.size, 5), np.nan)
    features = {f.key: f for f in plan.features}
    with np.errstate(divide="ignore", invalid="ignore"):
        # 1) zscore of the 15 s trade count against the time-of-day baseline.
        f = features["intensity.trade_count_z"]
        mean, std = (a[minute] for a in warmup.baseline(f.baselines[0], ticker))
        scale = 15 / 60
        x = rsum(per_sec["count"], 15).to_numpy()[end]
        out[:, 0] = np.where(std > 0, (x - mean * scale) / (std * scale), np.nan)
        # 2) 60 s bar volume over the median baseline volume of the minute.
        f = features["intensity.volume_rvol_tod"]
        (base,) = (a[minute] for a in warmup.baseline(f.baselines[0], ticker))
        x = rsum(s["volume"].fillna(0.0), 60).to_numpy()[end]
        out[:, 1] = np.where(base > 0, x / base, np.nan)
        # 3) least-squares slope of ln close over the bars present in 60 s, per minute
        #    (time and log price centred to keep the rolling sums well conditioned).
        k = pd.Series(np.arange(seconds, dtype=float) - seconds / 2)
        first = close_ff.dropna()
        y = (np.log(s["close"]) - (math.log(first.iloc[0]) if first.size else 0.0)).fillna(0.0)
        n = rsum(present, 60)
        sx, sy = rsum(present * k, 60), rsum(y, 60)
        sxx, sxy = rsum(present * k * k, 60), rsum(y * k, 60)
        den = n * sxx - sx * sx
        slope = ((n * sxy - sx * sy) / den * 60.0).where((n >= 2) & (den > 0))
        out[:, 2] = slope.to_numpy()[end]
        # 4) 15 s close return over 15 s tick-rule signed volume.
        ret = np.log(close_ff / close_ff.shift(15)).to_numpy()[end]
        signed = rsum(per_sec["signed"], 15).to_numpy()[end]
        out[:, 3] = np.where(signed != 0, ret / signed, np.nan)
        # 5) (max high - min low) over 60 s of bars, over the last close.
        high = s["high"].rolling(60, min_periods=1).max().to_numpy()[end]
        low = s["low"].rolling(60, min_periods=1).min().to_numpy()[end]
        ref = close_ff.to_numpy()[end]
        out[:, 4] = np.where(np.isfinite(high) & (ref > 0), (high - low) / ref, np.nan)
    return out


def pandas_features(layout: LakeLayout, plan: FeaturePlan, warmup: Warmup, ticker: str, day: dt.date) -> np.ndarray:
    """Raw features plus the spec's normalization (winsor clip, z-score, missing flags), like the engine's rows."""
    raw = pandas_raw(layout, plan, warmup, ticker, day)
    p = warmup.params(ticker, raw.shape[1])
    frame = pd.DataFrame(raw)
    clipped = frame.clip(lower=pd.Series(p.low), upper=pd.Series(p.high), axis=1)
    values = ((clipped - p.mean) / p.std).to_numpy()
    values[:, ~(p.std > 0)] = np.nan
    return np.concatenate([values, np.isnan(values).astype(float)], axis=1)


def bench_offline(spec, layout: LakeLayout, days: list[dt.date], tickers: list[str], rtol: float) -> dict:
    plan = FeaturePlan.from_spec(spec)
    warmups = {day: load_warmup(layout, plan, day, tickers) for day in days}
    pairs = [(t, d) for d in days for t in tickers]
    rows = 0
    gc.collect()
    began = time.perf_counter()
    for ticker, day in pairs:
        steps, _ = symbol_day_features(layout, plan, warmups[day], ticker, day)
        rows += steps.size
    engine = time.perf_counter() - began
    gc.collect()
    began = time.perf_counter()
    ref_rows = 0
    for ticker, day in pairs:
        ref_rows += pandas_features(layout, plan, warmups[day], ticker, day).shape[0]
    reference = time.perf_counter() - began
    # Agreement of raw values (outside timing).
    ours, theirs = [], []
    for ticker, day in pairs:
        arrays = day_arrays(layout, plan, ticker, day)
        ours.append(raw_features(plan, arrays, warmups[day], ticker, arrays.grid.steps_ns))
        theirs.append(pandas_raw(layout, plan, warmups[day], ticker, day))
    a, b = np.concatenate(ours), np.concatenate(theirs)
    both = np.isfinite(a) & np.isfinite(b)
    agreement = {}
    for i, f in enumerate(plan.features):
        x, y = a[both[:, i], i], b[both[:, i], i]
        scale = float(np.median(np.abs(x))) if x.size else 0.0
        agreement[f.key] = {
            "compared": int(x.size),
            "strict": float(np.isclose(x, y, rtol=rtol, atol=0.0).mean()) if x.size else math.nan,
            "with_floor": float(np.isclose(x, y, rtol=rtol, atol=rtol * scale).mean()) if x.size else math.nan,
            "floor": rtol * scale,
            "max_abs_diff": float(np.abs(x - y).max()) if x.size else math.nan,
            "finite_mismatch": int((np.isfinite(a[:, i]) != np.isfinite(b[:, i])).sum()),
        }
    return {
        "symbol_days": len(pairs),
        "rows": rows,
        "engine_seconds": engine,
        "engine_rows_per_s": rows / engine,
        "pandas_rows": ref_rows,
        "pandas_seconds": reference,
        "pandas_rows_per_s": ref_rows / reference,
        "ratio": (rows / engine) / (ref_rows / reference),
        "agreement": agreement,
    }


# --- report -------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


W = 46


def line(label: str, value: str, note: str = "") -> str:
    return f"   {label:<{W}} {value:>16}   {note}".rstrip()


def ingest_lines(r: dict, title: str, target: bool) -> list[str]:
    rate = r["frame"]["events_per_s"]
    note = f"target >= {TARGET_FRAME_EVENTS:,}/s/core  {verdict(rate >= TARGET_FRAME_EVENTS)}" if target else ""
    return [
        f"   {title}: {r['events']:,} trades, {r['symbols']:,} symbols, {r['frames']:,} frames "
        f"(~{r['frame_bytes'] / r['frames'] / 1024:,.0f} KiB each)",
        line("  json.loads alone (floor)", f"{r['json']['events_per_s']:,.0f}", "events/s"),
        line("  parse_frame_columnar alone", f"{r['parse']['events_per_s']:,.0f}", "events/s"),
        line("  to_frame + ingest (parse + ingest)", f"{rate:,.0f}", "events/s   " + note),
    ]


def typed_lines(r: dict, title: str, frame_size: int) -> list[str]:
    return [
        f"   {title}",
        line("  on_trade (one TradeEvent per call)", f"{r['trade']['events_per_s']:,.0f}", "events/s"),
        line(f"  on_trades (TradeBatch of {frame_size})", f"{r['batch']['events_per_s']:,.0f}", "events/s"),
        f"   {'  accepted (frame / on_trade / on_trades)':<{W}} "
        f"{r['frame']['accepted']:,} / {r['trade']['accepted']:,} / {r['batch']['accepted']:,}",
    ]


def render(r: dict) -> str:
    lake, dense, st, off = r["ingest_lake"], r["ingest_dense"], r["steps"], r["offline"]
    lines = [
        f"feature engine benchmark: spec {r['spec']}, lake {r['lake']['tickers']} tickers x {r['lake']['days']} days "
        f"(seed {SEED}), python {r['python']}, numpy {r['numpy']}, pandas {r['pandas']}",
        "",
        f"1. online ingest from raw Massive frames (~{r['frame_size']} T messages per frame; ingest only, no steps)",
        *ingest_lines(lake, f"lake replay, last {r['ingest_days']} days", True),
        *ingest_lines(dense, f"dense feed, {r['dense_seconds']} s of every symbol trading 1-3x per second", True),
        "",
        "2. online ingest from typed events",
        *typed_lines(lake, "lake replay", r["frame_size"]),
        *typed_lines(dense, "dense feed", r["frame_size"]),
        "",
        f"3. step(t) with {st['symbols']:,} active symbols, {st['steps']} consecutive steps from 10:00 "
        f"(windows full: {st['window_fill_seconds']} s of trades + 1 s bars fed first)",
        line(
            "step p50",
            f"{st['step_ms_p50']:.2f}",
            f"ms   target <= {TARGET_STEP_MS:.0f} ms  {verdict(st['step_ms_p50'] <= TARGET_STEP_MS)}",
        ),
        line(
            "step p99",
            f"{st['step_ms_p99']:.2f}",
            f"ms   target <= {TARGET_STEP_MS:.0f} ms  {verdict(st['step_ms_p99'] <= TARGET_STEP_MS)}",
        ),
        line("step mean", f"{st['step_ms_mean']:.2f}", "ms"),
        "   ingest between steps (not timed in step):",
        line(
            f"  on_trades, {st['between_steps_trades']:,.0f} trades, p50",
            f"{st['between_steps_on_trades_ms_p50']:.2f}",
            "ms",
        ),
        line(
            f"  on_aggs, {st['between_steps_bars']:,.0f} A bars, p50",
            f"{st['between_steps_on_aggs_ms_p50']:.2f}",
            "ms",
        ),
        line("smallest finite fraction of a raw feature", f"{st['last_step_min_finite_fraction']:.3f}", "(last step)"),
        "",
        f"4. memory with {st['symbols']:,} symbols",
        line(
            "memory_bytes() / symbol",
            f"{st['memory_bytes_per_symbol']:,.0f}",
            f"B   ({st['memory_bytes'] / 2**20:,.1f} MiB)",
        ),
        line("  of which time-of-day baselines", f"{st['baseline_bytes_per_symbol']:,.0f}", "B"),
        line("  of which ring buffers", f"{st['ring_bytes_per_symbol']:,.0f}", "B"),
        line("tracemalloc growth / symbol (builder + day)", f"{st['tracemalloc_bytes_per_symbol']:,.0f}", "B"),
        "",
        f"5. offline, {off['symbol_days']} symbol-days of the lake ({off['rows']:,} rows = grid steps x symbols)",
        line("symbol_day_features", f"{off['engine_rows_per_s']:,.0f}", f"rows/s   ({off['engine_seconds']:.2f} s)"),
        line(
            "pandas reference (rolling windows)",
            f"{off['pandas_rows_per_s']:,.0f}",
            f"rows/s   ({off['pandas_seconds']:.2f} s)",
        ),
        line(
            "engine / pandas",
            f"{off['ratio']:.2f}",
            f"x        target >= {TARGET_OFFLINE_RATIO:.0f}x  {verdict(off['ratio'] >= TARGET_OFFLINE_RATIO)}",
        ),
        f"   raw values, pandas reference vs engine raw_features (finite in both; rtol {r['rtol']:g};",
        "   'floor' adds an absolute tolerance of rtol x the feature's median |value|):",
        f"     {'feature':<32} {'compared':>10} {'strict':>10} {'floor':>10} {'max |diff|':>11} "
        f"{'finite-ness differs':>20}",
    ]
    strict = floor = True
    for key, a in off["agreement"].items():
        strict &= a["strict"] == 1.0 and a["finite_mismatch"] == 0
        floor &= a["with_floor"] == 1.0 and a["finite_mismatch"] == 0
        lines.append(
            f"     {key:<32} {a['compared']:>10,} {a['strict']:>10.6f} {a['with_floor']:>10.6f} "
            f"{a['max_abs_diff']:>11.3g} {a['finite_mismatch']:>20,}"
        )
    if strict:
        lines.append("   the pandas reference AGREES with the engine on every compared value")
    elif floor:
        lines.append(
            "   the pandas reference AGREES with the engine, given the absolute floor for values that are 0 up to"
            " rounding (slopes of flat windows); strictly relative agreement: see 'strict'"
        )
    else:
        lines.append("   the pandas reference DISAGREES with the engine on some values (see the table)")
    generated = r["lake"]["generated_s"]
    lines += [
        "",
        f"wall time {r['wall_seconds']:.1f} s"
        + (f" (lake generated in {generated:.1f} s)" if generated is not None else " (lake reused)"),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--tickers", type=int, default=8, help="tickers of the synthetic lake (default 8)")
    parser.add_argument("--days", type=int, default=8, help="intraday days of the lake, >= 6 (default 8)")
    parser.add_argument("--symbols-step", type=int, default=5000, help="active symbols for steps/memory (default 5000)")
    parser.add_argument("--steps", type=int, default=100, help="consecutive steps timed (default 100)")
    parser.add_argument("--frame-size", type=int, default=1000, help="T messages per frame / trades per batch (1000)")
    parser.add_argument("--ingest-days", type=int, default=8, help="last lake days replayed for ingest (default 8)")
    parser.add_argument("--dense-seconds", type=int, default=20, help="seconds of the dense feed (default 20)")
    parser.add_argument("--offline-days", type=int, default=3, help="last lake days compared offline (default 3)")
    parser.add_argument("--rtol", type=float, default=1e-6, help="relative tolerance of the agreement check (1e-6)")
    parser.add_argument("--workdir", type=Path, help="keep (and reuse) the lake under DIR instead of a temp dir")
    parser.add_argument("--json", action="store_true", help="print one JSON dict instead of text lines")
    args = parser.parse_args(argv)
    if args.days < 6:
        parser.error("--days must be >= 6 (time-of-day baselines need 5 earlier days with data)")

    wall = time.perf_counter()
    temp = None
    if args.workdir is None:
        workdir = temp = Path(tempfile.mkdtemp(prefix="sigma9-bench-features-"))
    else:
        workdir = args.workdir
        workdir.mkdir(parents=True, exist_ok=True)
    try:
        layout, generated = ensure_lake(workdir / "lake", args.tickers, args.days)
        spec = load_feature_spec(SPEC_PATH)
        plan = FeaturePlan.from_spec(spec)
        tickers = layout.trade_tickers()
        days = layout.trade_dates()
        last = days[-1]
        template = load_warmup(layout, plan, last, tickers)
        ingest_days = days[-args.ingest_days :]
        lake_feeds = [
            (day, load_warmup(layout, plan, day, tickers), day_trade_messages(layout, day, tickers))
            for day in ingest_days
        ]
        ingest_lake = bench_ingest(spec, tickers, lake_feeds, args.frame_size)
        del lake_feeds
        symbols = [f"S{i:05d}" for i in range(args.symbols_step)]
        dense = dense_messages(symbols, local_to_ns(last, dt.time(10, 0)), args.dense_seconds)
        dense_warmup = synthetic_warmup(plan, last, symbols, template, tickers)
        ingest_dense = bench_ingest(spec, symbols, [(last, dense_warmup, dense)], args.frame_size)
        del dense
        steps = bench_steps(spec, last, template, tickers, args.symbols_step, args.steps)
        offline = bench_offline(spec, layout, days[-args.offline_days :], tickers, args.rtol)
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
    result = {
        "spec": spec.id,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "lake": {"tickers": len(tickers), "days": len(days), "generated_s": generated},
        "frame_size": args.frame_size,
        "ingest_days": len(ingest_days),
        "dense_seconds": args.dense_seconds,
        "rtol": args.rtol,
        "ingest_lake": ingest_lake,
        "ingest_dense": ingest_dense,
        "steps": steps,
        "offline": offline,
        "targets": {
            "frame_events_per_s": TARGET_FRAME_EVENTS,
            "step_ms": TARGET_STEP_MS,
            "offline_ratio": TARGET_OFFLINE_RATIO,
        },
        "wall_seconds": time.perf_counter() - wall,
    }
    print(json.dumps(result, indent=2) if args.json else render(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
