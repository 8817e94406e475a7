"""Tests of the lake package; a bar-table helper shared by its modules."""

import pyarrow as pa

from sigma9_runtime.lake.tables import BARS_SCHEMA


def bars_table(ts: list[int], close: float, ticker: str = "ABC") -> pa.Table:
    """Bars of ``ticker`` at ``ts``, every price ``close``, volume 1."""
    n = len(ts)
    return pa.table(
        {
            "ticker": [ticker] * n,
            "ts": ts,
            "open": [close] * n,
            "high": [close] * n,
            "low": [close] * n,
            "close": [close] * n,
            "volume": [1.0] * n,
            "vwap": [close] * n,
            "transactions": [1] * n,
        },
        schema=BARS_SCHEMA,
    )
