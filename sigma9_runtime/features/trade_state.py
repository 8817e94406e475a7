"""Per-symbol trade state of the online builder: ordering (last timestamp and sequence), the tick rule's last
price and sign, and the last two distinct trade seconds (halt detection), with the per-event checks and their
columnar forms (each equal to the per-event one, proven by the builder's tests)."""

from __future__ import annotations

import numpy as np

from sigma9_runtime.features.kernels import tick_sign, tick_signs
from sigma9_runtime.features.post import NO_TRADE

OUT_OF_ORDER, DUPLICATE = "out_of_order", "duplicate_sequence"


class TradeState:
    """Arrays over the builder's symbol rows (grown with them, reset each day)."""

    def __init__(self) -> None:
        self.last_ts = np.zeros(0, dtype=np.int64)
        self.last_seq = np.zeros(0, dtype=np.int64)
        self.last_price = np.zeros(0)
        self.last_sign = np.zeros(0)
        self.trade_sec = np.zeros(0, dtype=np.int64)
        self.prev_trade_sec = np.zeros(0, dtype=np.int64)

    def _arrays(self) -> tuple[tuple[str, float | int], ...]:
        return (
            ("last_ts", NO_TRADE),
            ("last_seq", -1),
            ("last_price", np.nan),
            ("last_sign", 0.0),
            ("trade_sec", NO_TRADE),
            ("prev_trade_sec", NO_TRADE),
        )

    def grow(self, capacity: int, old: int) -> None:
        """Room for ``capacity`` symbols, the first ``old`` kept."""
        for name, fill in self._arrays():
            array = getattr(self, name)
            out = np.full(capacity, fill, dtype=array.dtype)
            out[:old] = array[:old]
            setattr(self, name, out)

    def reset(self) -> None:
        """A new day: no trade seen."""
        for name, fill in self._arrays():
            getattr(self, name)[:] = fill

    def nbytes(self) -> int:
        """Bytes of the ordering and tick-rule state."""
        return int(sum(a.nbytes for a in (self.last_ts, self.last_seq, self.last_price, self.last_sign)))

    # --- one trade ------------------------------------------------------------------------------

    def order_check(self, i: int, ts: int, seq: int) -> str | None:
        """Out of order or a re-sent duplicate for symbol row ``i`` (the reason), else None (state moved on)."""
        last_ts, last_seq = int(self.last_ts[i]), int(self.last_seq[i])
        if ts < last_ts:
            return OUT_OF_ORDER
        if ts == last_ts and 0 <= seq <= last_seq:
            return DUPLICATE
        if ts > last_ts or seq > last_seq:
            self.last_ts[i], self.last_seq[i] = ts, seq
        return None

    def enter(self, i: int, price: float, sec: int) -> float:
        """An entered trade of row ``i`` at second ``sec``: its tick-rule sign (state updated)."""
        sign = tick_sign(price, self.last_price[i], self.last_sign[i])
        self.last_price[i], self.last_sign[i] = price, sign
        if sec > self.trade_sec[i]:
            self.prev_trade_sec[i], self.trade_sec[i] = self.trade_sec[i], sec
        return sign

    def last_trade_before(self, rows: int, end_sec: int) -> np.ndarray:
        """Each row's last trade second before ``end_sec`` (halt detection at a step)."""
        return np.where(self.trade_sec[:rows] < end_sec, self.trade_sec[:rows], self.prev_trade_sec[:rows])

    # --- columns --------------------------------------------------------------------------------

    @staticmethod
    def _segments(index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Stable order by symbol, the first-of-symbol flags and segment numbers in that order."""
        order = np.argsort(index, kind="stable")
        idx = index[order]
        first = np.r_[True, idx[1:] != idx[:-1]]
        return order, first, np.cumsum(first) - 1

    def order_checks(self, index: np.ndarray, ts: np.ndarray, seq: np.ndarray) -> tuple[np.ndarray, int, int]:
        """Out-of-order and duplicate checks of a batch against each symbol's running (ts, seq) maximum:
        (accepted mask, out-of-order count, duplicate count).

        The running lexicographic maximum over *all* earlier trades equals the one over accepted
        trades (a refused trade is never above it), so it is a segmented cumulative maximum.
        """
        order, first, segment = self._segments(index)
        idx, t, q = index[order], ts[order], seq[order]
        owners = idx[first]
        pairs_ts = np.r_[self.last_ts[owners], t]
        pairs_seq = np.r_[self.last_seq[owners], q]
        ranking = np.lexsort((pairs_seq, pairs_ts))
        rank = np.empty(ranking.size, dtype=np.int64)
        rank[ranking] = np.arange(ranking.size)
        state_rank, trade_rank = rank[: owners.size], rank[owners.size :]
        offset = segment * (ranking.size + 1)
        running = np.maximum.accumulate(trade_rank + offset) - offset
        previous = np.maximum(np.where(first, -1, np.r_[-1, running[:-1]]), state_rank[segment])
        prev_ts, prev_seq = pairs_ts[ranking[previous]], pairs_seq[ranking[previous]]
        out_of_order = t < prev_ts
        duplicate = ~out_of_order & (t == prev_ts) & (q >= 0) & (q <= prev_seq)
        last = np.r_[np.flatnonzero(first)[1:] - 1, idx.size - 1]
        final = ranking[np.maximum(running[last], state_rank)]
        self.last_ts[owners], self.last_seq[owners] = pairs_ts[final], pairs_seq[final]
        accepted = np.empty(idx.size, dtype=bool)
        accepted[order] = ~(out_of_order | duplicate)
        return accepted, int(out_of_order.sum()), int(duplicate.sum())

    def tick_rule(self, index: np.ndarray, price: np.ndarray) -> np.ndarray:
        """Tick-rule signs of accepted eligible trades (arrival order), updating each symbol's state."""
        order, first, _ = self._segments(index)
        idx, p = index[order], price[order]
        signs = tick_signs(p, first, self.last_price[idx], self.last_sign[idx])
        last = np.r_[np.flatnonzero(first)[1:] - 1, idx.size - 1]
        self.last_price[idx[last]] = p[last]
        self.last_sign[idx[last]] = signs[last]
        out = np.empty_like(signs)
        out[order] = signs
        return out

    def update_trade_seconds(self, index: np.ndarray, units: np.ndarray) -> None:
        """Last and previous distinct trade seconds per symbol (units are non-decreasing per symbol)."""
        order, first, segment = self._segments(index)
        idx, u = index[order], units[order]
        starts = np.flatnonzero(first)
        owners = idx[starts]
        final = np.maximum.reduceat(u, starts)
        below = np.where(u < final[segment], u, NO_TRADE)
        candidate = np.maximum.reduceat(below, starts)
        stored, stored_prev = self.trade_sec[owners], self.prev_trade_sec[owners]
        raised = final > stored
        self.prev_trade_sec[owners] = np.where(raised, np.maximum(candidate, stored), stored_prev)
        self.trade_sec[owners] = np.maximum(final, stored)
