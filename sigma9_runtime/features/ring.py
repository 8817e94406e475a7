"""Per-symbol ring buffers of one resolution (seconds or minutes) for the online builder.

Column ``u % size`` holds unit ``u`` (a second or minute index of the day's span) for every
symbol; ``unit_of_col`` says which unit a column holds now. The first event of a newer unit
claims its column: the column's bar close is kept as the symbol's *carry* (the forward-filled
close of evicted units) and the column is cleared. An event for a unit older than its column's
is **late** and refused. Memory is ``symbols x size`` per series, fixed by the FeatureSpec's
longest window plus the feed's skew (:func:`sigma9_runtime.features.online.ring_sizes`): the columns are
shared by all symbols, so the builder refuses events beyond its horizon before they claim one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

EMPTY_UNIT = -(1 << 40)


class Ring:
    """Ring buffers of ``series`` (names like ``t.count`` or ``s.close``) over ``size`` units."""

    def __init__(self, group: str, series: frozenset[str], size: int, unit_seconds: int) -> None:
        self.group = group
        self.size = size
        self.unit_seconds = unit_seconds
        names = set(series)
        self.has_bars = any(name.startswith(f"{group}.") for name in names)
        if self.has_bars:
            names |= {f"{group}.present", f"{group}.close"}
        self.series = tuple(sorted(names))
        self.stack = np.zeros((len(self.series), 0, size))
        """Every series in one array (``series x symbols x size``); ``data`` holds views of its layers."""
        self.data = {name: self.stack[k] for k, name in enumerate(self.series)}
        self.carry = np.full(0, np.nan)
        self.carry_unit = np.full(0, EMPTY_UNIT, dtype=np.int64)
        self.unit_of_col = np.full(size, EMPTY_UNIT, dtype=np.int64)

    def resize(self, symbols: int) -> None:
        """Make room for ``symbols`` rows (new rows empty)."""
        old = self.carry.size
        if symbols <= old:
            return
        grown = np.zeros((len(self.series), symbols, self.size))
        grown[:, :old] = self.stack
        self.stack = grown
        self.data = {name: grown[k] for k, name in enumerate(self.series)}
        self.carry = np.r_[self.carry, np.full(symbols - old, np.nan)]
        self.carry_unit = np.r_[self.carry_unit, np.full(symbols - old, EMPTY_UNIT, dtype=np.int64)]

    def reset(self) -> None:
        """Start of a day: every column empty, nothing carried."""
        self.stack[:] = 0.0
        self.carry[:] = np.nan
        self.carry_unit[:] = EMPTY_UNIT
        self.unit_of_col[:] = EMPTY_UNIT

    def claim(self, unit: int) -> bool:
        """Make the column of ``unit`` hold it; False when the column already holds a newer unit (late)."""
        col = unit % self.size
        held = int(self.unit_of_col[col])
        if held == unit:
            return True
        if held > unit:
            return False
        if held != EMPTY_UNIT and self.has_bars:
            self._carry_from(np.array([col]), np.array([held], dtype=np.int64))
        self.stack[:, :, col] = 0.0
        self.unit_of_col[col] = unit
        return True

    def claim_many(self, units: np.ndarray) -> np.ndarray:
        """:meth:`claim` for each unit in order; returns the accepted (not late) mask.

        Claims go in ascending unit order, so only a column's holder before the call can make a
        unit late. When two units of the call share a column the older is accepted but evicted
        by the newer at once: writers keep only events whose column holds their unit afterwards
        (:meth:`holds`), which leaves the same state as claiming and writing event by event.
        """
        unique = np.unique(units)
        cols = unique % self.size
        held = self.unit_of_col[cols]
        late_units = unique[held > unique]
        fresh = held < unique
        if fresh.any():
            # Newest claiming unit per column (unique is ascending: the last one per column wins).
            claim_units, claim_cols, old = unique[fresh], cols[fresh], held[fresh]
            order = np.lexsort((claim_units, claim_cols))
            claim_units, claim_cols, old = claim_units[order], claim_cols[order], old[order]
            last = np.r_[claim_cols[1:] != claim_cols[:-1], True]
            claim_units, claim_cols, old = claim_units[last], claim_cols[last], old[last]
            evicted = old != EMPTY_UNIT
            if self.has_bars and evicted.any():
                self._carry_from(claim_cols[evicted], old[evicted])
            self.stack[:, :, claim_cols] = 0.0
            self.unit_of_col[claim_cols] = claim_units
        if late_units.size == 0:
            return np.ones(units.size, dtype=bool)
        return ~np.isin(units, late_units)

    def holds(self, units: np.ndarray) -> np.ndarray:
        """Whether each unit's column holds that unit now."""
        return self.unit_of_col[units % self.size] == units

    def _carry_from(self, cols: np.ndarray, held: np.ndarray) -> None:
        """Keep as carry the close of the newest present bar among columns about to be cleared."""
        present = self.data[f"{self.group}.present"][:, cols] > 0
        units = np.where(present, held[None, :], EMPTY_UNIT)
        newest = np.argmax(units, axis=1)
        rows = np.arange(units.shape[0])
        newest_unit = units[rows, newest]
        newer = newest_unit > self.carry_unit
        self.carry = np.where(newer, self.data[f"{self.group}.close"][:, cols][rows, newest], self.carry)
        self.carry_unit = np.where(newer, newest_unit, self.carry_unit)

    def gather(self, name: str, rows: int, units: np.ndarray) -> np.ndarray:
        """``rows x len(units)`` values of ``name`` at ``units`` (0 where a column holds another unit)."""
        cols = units % self.size
        block = self.data[name][:rows, cols]
        stale = self.unit_of_col[cols] != units
        if stale.any():
            block[:, stale] = 0.0
        return block

    def close_before(self, rows: int, first_unit: int) -> np.ndarray:
        """Forward-filled close at unit ``first_unit - 1``: the newest bar before it, held or evicted."""
        carry_unit = self.carry_unit[:rows]
        carry_ok = carry_unit < first_unit
        carry = np.where(carry_ok, self.carry[:rows], np.nan)
        held = self.unit_of_col
        usable = np.flatnonzero((held < first_unit) & (held != EMPTY_UNIT))
        if usable.size == 0:
            return carry
        units = np.where(self.data[f"{self.group}.present"][:rows, usable] > 0, held[usable], EMPTY_UNIT)
        newest = np.argmax(units, axis=1)
        row = np.arange(rows)
        newer = units[row, newest] > np.where(carry_ok, carry_unit, EMPTY_UNIT)
        return np.where(newer, self.data[f"{self.group}.close"][row, usable[newest]], carry)


class RingView:
    """:class:`~sigma9_runtime.features.kernels.WindowView` over a ring: all symbols, one step.

    Built between ingests (a step reads, never writes), so the columns of the window and which of them
    hold another unit are found once per view; blocks and the close before the window are cached.
    """

    def __init__(self, rings: dict[str, Ring], group: str, rows: int, end_unit: int, length: int) -> None:
        self.rows = rows
        self.length = length
        ring = rings[group]
        self.unit_seconds = ring.unit_seconds
        self._rings = rings
        self._ring = ring
        self._units = np.arange(end_unit - length, end_unit, dtype=np.int64)
        self._cols = self._units % ring.size
        stale = ring.unit_of_col[self._cols] != self._units
        self._stale = stale if stale.any() else None
        self._blocks: dict[str, np.ndarray] = {}
        self._close_before: dict[str, np.ndarray] = {}

    def block(self, series: str) -> np.ndarray:
        """``rows x length`` block (cached per step); as :meth:`Ring.gather` reads it."""
        block = self._blocks.get(series)
        if block is None:
            if not self._blocks:  # the first read gathers every series of the ring in one go
                ring = self._ring
                every = np.take(ring.stack[:, : self.rows], self._cols, axis=2)  # a C-contiguous copy
                if self._stale is not None:
                    every[:, :, self._stale] = 0.0
                for name, values in zip(ring.series, every):
                    self._blocks[name] = values
            block = self._blocks.get(series)
            if block is None:
                block = self._blocks[series] = np.zeros((self.rows, self.length))
        return block

    def derived(self, name: str, fn: Callable[..., np.ndarray], *series: str) -> np.ndarray:
        """Block of ``fn`` applied to the series' blocks (cached per step)."""
        block = self._blocks.get(name)
        if block is None:
            block = self._blocks[name] = fn(*(self.block(s) for s in series))
        return block

    def close_before(self, group: str) -> np.ndarray:
        """Forward-filled close just before the window (cached per step)."""
        close = self._close_before.get(group)
        if close is None:
            close = self._close_before[group] = self._rings[group].close_before(self.rows, int(self._units[0]))
        return close
