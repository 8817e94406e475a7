"""The one Dagster ``Definitions`` of the lab.

The lab's stages (dataset, discovery, validation, distill, backtest, export) are added here as
their issues land; until then the code location loads and serves an empty lab.
"""

import dagster as dg

defs = dg.Definitions(assets=[])
