"""DuckDB over the lake: one view per table, for ad-hoc queries and universe queries of run configs.

Views (created only for tables the lake holds): ``daily``, ``bars_1m``, ``bars_1s``, ``trades``,
``splits``, ``events`` and ``hard_negatives`` (ground truth of synthetic lakes). Paths follow the
lake's :class:`~sigma9_runtime.lake.layout.LakeLayout`, so run-config templates are honoured.

Examples
--------
>>> con = connect(LakeLayout(Path("data")))  # doctest: +SKIP
>>> con.sql("SELECT ticker, count(*) FROM bars_1m GROUP BY ticker").show()  # doctest: +SKIP
"""

from __future__ import annotations

import duckdb

from sigma9_runtime.atomic import TEMP_PREFIX
from sigma9_runtime.errors import LakeError
from sigma9_runtime.lake.layout import LakeLayout


def _relative_glob(template: str) -> str:
    return template.replace("{ticker}", "*").replace("{date}", "*")


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def view_sources(layout: LakeLayout) -> dict[str, str]:
    """View name -> absolute Parquet path or glob, for the tables present in the lake."""
    relative = {
        "daily": layout.daily_path,
        "bars_1m": _relative_glob(layout.bar_1m_template),
        "bars_1s": _relative_glob(layout.bar_1s_template),
        "trades": _relative_glob(layout.trades_template),
        "splits": layout.splits_path,
        "events": layout.events_path,
        "hard_negatives": layout.hard_negatives_path,
    }
    return {
        name: (layout.root / pattern).as_posix()
        for name, pattern in relative.items()
        if any(p for p in layout.root.glob(pattern) if not p.name.startswith(TEMP_PREFIX))
    }


def connect(layout: LakeLayout, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with a view per lake table; raise :class:`LakeError` when the root has no lake."""
    if not layout.root.is_dir():
        raise LakeError(f"{layout.root}: no lake here (directory missing)")
    con = duckdb.connect(database)
    for name, pattern in view_sources(layout).items():
        con.execute(
            f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet({_sql_string(pattern)}, union_by_name = true)"
        )
    return con


def query_tickers(layout: LakeLayout, sql: str) -> list[str]:
    """Run a universe query (must return a ``ticker`` column) over the lake views."""
    con = connect(layout)
    try:
        result = con.execute(sql)
    except duckdb.Error as e:
        raise LakeError(f"universe query failed on {layout.root}: {e}") from e
    columns = [d[0] for d in result.description]
    if "ticker" not in columns:
        raise LakeError(f"universe query must return a 'ticker' column, got {', '.join(columns)}")
    index = columns.index("ticker")
    return sorted({row[index] for row in result.fetchall()})
