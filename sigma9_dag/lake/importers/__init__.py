"""Importers of real market data into the lake (``sigma9 lake import``; see ``docs/importers.md``).

Each reads its files, quarantines and counts bad rows, completes bars and daily rows from trades
where the source has none, and writes everything in one transaction with a report:

- :func:`import_massive_flat`: Massive flat files (trades_v1, minute_aggs_v1, day_aggs_v1).
- :func:`import_massive_ws`: Massive WebSocket captures (JSON lines of raw frames).
- :func:`import_databento`: Databento DBN files (trades, ohlcv-1s, ohlcv-1m).
- :func:`import_splits`: Massive's splits reference (JSON body of the splits endpoint, or CSV) into the
  splits table.
"""

from sigma9_dag.lake.importers.common import ImportSummary
from sigma9_dag.lake.importers.databento import import_databento
from sigma9_dag.lake.importers.massive_flat import import_massive_flat
from sigma9_dag.lake.importers.massive_ws import import_massive_ws
from sigma9_dag.lake.importers.splits import import_splits

__all__ = ["ImportSummary", "import_databento", "import_massive_flat", "import_massive_ws", "import_splits"]
