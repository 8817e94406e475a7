"""Where a replay's frames come from: a lake day (as Massive would have sent it) or a WebSocket capture.

Both yield raw frames, the text a live container receives, so a replay runs the parser, the feature
builder and the strategy exactly as live.

* :func:`lake_day_feed` turns a day of the lake into Massive messages: every trade (``T``, ms
  timestamps; corrections are not streamed), every 1-second bar (``A``, delivered at the end of its
  second) and 1-minute bar (``AM``, at the end of its minute) of the channels asked for (a runtime
  subscribed to ``AM.*`` alone gets only ``AM``), all symbols merged by delivery time (ties: ``T``, ``A``,
  ``AM``); :func:`feed_frames` cuts it into one frame per step (every message
  delivered after the previous step and by this one). Reads the lake through
  :mod:`sigma9_runtime.lake.tables` (needs pyarrow).
* :func:`capture_frames` reads a Massive WebSocket capture: a text file (optionally gzip) of JSON lines,
  one raw frame per line, as ``sigma9 lake import massive-ws`` reads it.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sigma9_runtime.calendar import session_bounds
from sigma9_runtime.contracts.base import STREAM_CHANNELS
from sigma9_runtime.units import MINUTE_NS, SECOND_NS

_GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class DayFeed:
    """A lake day as Massive WebSocket messages (``T``, ``A``, ``AM``) in delivery order."""

    time: np.ndarray
    """Delivery time of each message, ns (trades: ts; bars: end of interval)."""
    messages: list[dict[str, object]]

    def __len__(self) -> int:
        return len(self.messages)


def trade_messages(table: Any) -> tuple[np.ndarray, list[dict[str, object]]]:
    """``T`` messages of the trades that a live feed delivers (corrections are not sent as trades)."""
    import pyarrow as pa

    keep = table.column("correction").to_numpy(zero_copy_only=False) == 0
    part = table.filter(pa.array(keep)).to_pydict()
    messages = [
        {"ev": "T", "sym": s, "x": x, "p": p, "s": z, "c": c, "t": t // 1_000_000, "q": q}
        for s, x, p, z, c, t, q in zip(
            part["ticker"],
            part["exchange"],
            part["price"],
            part["size"],
            part["conditions"],
            part["ts"],
            part["sequence"],
        )
    ]
    return np.asarray(part["ts"], dtype=np.int64), messages


def agg_messages(table: Any, ev: str, length_ns: int) -> tuple[np.ndarray, list[dict[str, object]]]:
    """``A``/``AM`` messages of lake bars, delivered at the end of their interval."""
    part = table.to_pydict()
    messages = []
    for i, symbol in enumerate(part["ticker"]):
        volume, count = part["volume"][i], part["transactions"][i]
        messages.append(
            {
                "ev": ev,
                "sym": symbol,
                "v": volume,
                "vw": part["vwap"][i],
                "o": part["open"][i],
                "c": part["close"][i],
                "h": part["high"][i],
                "l": part["low"][i],
                "a": part["vwap"][i],
                "z": volume / count if count else 0,
                "s": part["ts"][i] // 1_000_000,
                "e": (part["ts"][i] + length_ns) // 1_000_000,
            }
        )
    return np.asarray(part["ts"], dtype=np.int64) + length_ns, messages


def lake_day_feed(layout: Any, day: dt.date, tickers: list[str], channels: Iterable[str] = STREAM_CHANNELS) -> DayFeed:
    """Every message of ``channels`` (``T.*``, ``A.*``, ``AM.*``: what the runtime subscribes to) of ``day``
    for ``tickers``, merged by delivery time (ties: T, A, AM). A ticker without the day's table of a
    channel sends nothing on it."""
    from sigma9_runtime.lake.tables import read_bars, read_trades

    wanted = set(channels)
    bounds = session_bounds(day)
    times: list[np.ndarray] = []
    kinds: list[np.ndarray] = []
    messages: list[dict[str, object]] = []
    for ticker in tickers:
        parts: list[tuple[int, tuple[np.ndarray, list[dict[str, object]]]]] = []
        if "T.*" in wanted and layout.trades(ticker, day).exists():
            parts.append((0, trade_messages(read_trades(layout, ticker, day))))
        for rank, (bar_kind, ev, length) in enumerate((("1s", "A", SECOND_NS), ("1m", "AM", MINUTE_NS)), 1):
            if f"{ev}.*" in wanted and layout.bars(bar_kind, ticker).exists():
                bars = read_bars(layout, bar_kind, ticker, bounds.start, bounds.end)
                parts.append((rank, agg_messages(bars, ev, length)))
        for kind, (time, part) in parts:
            times.append(time)
            kinds.append(np.full(time.size, kind, dtype=np.int8))
            messages.extend(part)
    time = np.concatenate(times) if times else np.zeros(0, dtype=np.int64)
    kind = np.concatenate(kinds) if kinds else np.zeros(0, dtype=np.int8)
    order = np.lexsort((kind, time))
    return DayFeed(time[order], [messages[i] for i in order.tolist()])


def feed_frames(feed: DayFeed, steps_ns: np.ndarray) -> Iterator[tuple[int, str]]:
    """(step, raw JSON frame of every message delivered after the previous step and by this one)."""
    cuts = np.searchsorted(feed.time, steps_ns, side="right")
    start = 0
    for step, stop in zip(steps_ns.tolist(), cuts.tolist(), strict=True):
        yield step, json.dumps(feed.messages[start:stop])
        start = stop


def lake_frames(feed: DayFeed, cuts_ns: np.ndarray, *, tail: bool = True) -> Iterator[str]:
    """The frames of :func:`feed_frames` cut at ``cuts_ns`` without their steps, empty ones left out, then
    (with ``tail``) one frame of the messages delivered after the last cut (a replay source).

    Cut at every second of the day's grid, even when only some steps are scored, so no frame spans more
    than the feature builder's windows keep.
    """
    for _, frame in feed_frames(feed, cuts_ns):
        if frame != "[]":
            yield frame
    stop = int(np.searchsorted(feed.time, cuts_ns[-1], side="right")) if cuts_ns.size else 0
    if tail and stop < len(feed):
        yield json.dumps(feed.messages[stop:])


def capture_frames(path: str | Path) -> Iterator[bytes]:
    """The raw frames of a Massive WebSocket capture (JSON lines, optionally gzip), blank lines skipped."""
    path = Path(path)
    with open(path, "rb") as f:
        gz = f.read(2) == _GZIP_MAGIC
    opener = gzip.open if gz else open
    with opener(path, "rb") as f:  # type: ignore[operator]
        for line in f:
            line = line.strip()
            if line:
                yield line
