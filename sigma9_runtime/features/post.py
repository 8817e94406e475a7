"""After the kernels: missing values and trading halts, online (step by step) and offline (per day).

Order for every row: raw value -> normalization (:mod:`~sigma9_runtime.features.normalization`)
-> missing policy -> halt policy.

**Missing policy** (``normalization.missing.policy``):

* ``keep_nan_and_flag``: NaN stays; the flag column ``<key>:missing`` is 1.0 where the value is NaN.
* ``forward_fill``: a NaN takes the symbol's last finite value of the same day (NaN before the first).

**Halt policy** (``calendar.treat_halts_as``). A symbol is *halted* at step ``t`` when ``t`` is in
the regular session and the symbol had no eligible trade in the :data:`HALT_GAP_SECONDS` seconds
before ``t`` (a LULD pause or an exchange halt looks like this; so does a symbol that stopped
trading). Causal: it uses trades stamped before ``t`` only.

* ``gap``: nothing special; windows simply see no data.
* ``forward_fill``: while halted, the symbol's row repeats its last row from before the halt (NaN
  when the day has none).
* ``drop``: no row for a halted symbol at that step.

The online helpers (:class:`MissingFill`, :class:`HaltHold`) and the offline functions
(:func:`forward_fill_day`, :func:`hold_during_halts`) implement the same rules; the parity tests
prove them equal.
"""

from __future__ import annotations

import numpy as np

HALT_GAP_SECONDS = 300
"""Seconds without an eligible trade, in the regular session, after which a symbol counts as halted."""
NO_TRADE = np.iinfo(np.int64).min // 2


def is_halted(step_sec: int | np.ndarray, last_trade_sec: np.ndarray, regular: tuple[int, int]) -> np.ndarray:
    """Halted flags for a step (second index ``step_sec`` of the day's span) given each row's last
    eligible trade second strictly before the step (:data:`NO_TRADE` when none)."""
    in_regular = (step_sec > regular[0]) & (step_sec <= regular[1])
    return in_regular & (np.asarray(step_sec) - last_trade_sec > HALT_GAP_SECONDS)


def missing_flags(values: np.ndarray) -> np.ndarray:
    """``<key>:missing`` columns: 1.0 where a value is NaN."""
    return np.isnan(values).astype(np.float64)


# --- online -------------------------------------------------------------------------------------


class _RowMemory:
    """One remembered row per symbol (NaN until set), for policies that carry values over steps."""

    def __init__(self, width: int) -> None:
        self.last = np.full((0, width), np.nan)

    def resize(self, symbols: int) -> None:
        """Make room for ``symbols`` rows (new rows start empty)."""
        if symbols > self.last.shape[0]:
            grown = np.full((symbols, self.last.shape[1]), np.nan)
            grown[: self.last.shape[0]] = self.last
            self.last = grown

    def reset(self) -> None:
        """Start of a day: nothing to carry."""
        self.last[:] = np.nan


class MissingFill(_RowMemory):
    """``forward_fill`` of NaN values per symbol, one step at a time."""

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Fill NaN in ``values`` (all symbols, in order) and remember the result."""
        rows = values.shape[0]
        filled = np.where(np.isnan(values), self.last[:rows], values)
        self.last[:rows] = filled
        return filled


class HaltHold(_RowMemory):
    """``forward_fill`` of whole rows while a symbol is halted, one step at a time."""

    def apply(self, rows: np.ndarray, halted: np.ndarray) -> np.ndarray:
        """Rows with halted symbols replaced by their last row from before the halt."""
        count = rows.shape[0]
        out = np.where(halted[:, None], self.last[:count], rows)
        self.last[:count] = out
        return out


# --- offline (one symbol-day, rows = steps in time order) ---------------------------------------


def _last_index(mask: np.ndarray) -> np.ndarray:
    """Per row and column, the index of the last row ``<=`` it where ``mask`` holds (-1 if none)."""
    index = np.where(mask, np.arange(mask.shape[0])[:, None], -1)
    return np.maximum.accumulate(index, axis=0)


def forward_fill_day(values: np.ndarray) -> np.ndarray:
    """NaN values replaced by the last finite value above them in the same column."""
    source = _last_index(~np.isnan(values))
    filled = np.take_along_axis(values, np.maximum(source, 0), axis=0)
    return np.where(source >= 0, filled, np.nan)


def hold_during_halts(rows: np.ndarray, halted: np.ndarray) -> np.ndarray:
    """Rows at halted steps replaced by the last row of a non-halted step above them."""
    source = _last_index(~halted[:, None])[:, 0]
    held = rows[np.maximum(source, 0)]
    held[source < 0] = np.nan
    return np.where(halted[:, None], held, rows)
