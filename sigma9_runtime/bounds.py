"""Bounds of plausible market values, shared by the lake's importers and the live feed.

Anything outside is a data error, never a market (docs/importers.md and docs/reliability.md, "Bounds").
"""

from __future__ import annotations

MAX_PRICE = 1_000_000.0
"""Highest plausible price in USD: the dearest US share (BRK.A) has stayed below it; prices are also > 0."""
MAX_TRADE_SIZE = 1_000_000_000.0
"""Largest plausible trade print in shares (block prints reach tens of millions); sizes are also > 0."""
MAX_BAR_VOLUME = 100_000_000_000.0
"""Largest plausible bar or daily volume in shares: ten times the whole US market's daily volume."""
MAX_SYMBOLS = 20_000
"""Default cap on the symbols a live runtime tracks: the whole US equity universe is about 12,000 tickers.
Beyond it, events of new symbols are dropped (``symbol_cap``) so junk symbols cannot grow memory."""
