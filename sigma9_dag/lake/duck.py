"""DuckDB over the lake: one view per table, for ad-hoc queries and universe queries of run configs.

Table views (created only for tables the lake holds): ``daily``, ``bars_1m``, ``bars_1s``, ``trades``,
``splits``, and a synthetic lake's ground truth ``truth_events`` and ``truth_hard_negatives``. Paths follow
the lake's :class:`~sigma9_runtime.lake.layout.LakeLayout`, so run-config templates are honoured.

Derived views, computed from the lake and created only when asked for (a query naming them, as a word):

* ``events``: the events found in the lake at the finest resolution it holds
  (:func:`~sigma9_dag.lake.events.event_table`: ticker, date, prev_close, prev_date, t0_ns, t0_ny,
  t0_resolution, max_gain, flags); computing them reads the whole lake, so they are cached under
  ``<root>/derived/events/`` (:func:`~sigma9_dag.lake.events.lake_events`);
* ``coverage``: which tables hold each (ticker, date): ticker, date and the booleans ``trades``, ``"1s"``,
  ``"1m"``, ``daily`` (:func:`~sigma9_dag.lake.coverage.lake_coverage`; quote the names starting with a digit).

Examples
--------
>>> con = connect(LakeLayout(Path("data")))  # doctest: +SKIP
>>> con.sql("SELECT ticker, count(*) FROM bars_1m GROUP BY ticker").show()  # doctest: +SKIP
>>> con = connect(layout, sql="SELECT t0_resolution, count(*) FROM events GROUP BY 1")  # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pyarrow as pa

from sigma9_runtime.atomic import TEMP_PREFIX
from sigma9_runtime.errors import LakeError
from sigma9_runtime.lake.layout import LakeLayout

DERIVED_VIEWS: tuple[str, ...] = ("events", "coverage")
"""Views computed from the lake (not a table's files), created only when wanted."""
COVERAGE_SCHEMA = pa.schema(
    [
        pa.field("ticker", pa.string()),
        pa.field("date", pa.date32()),
        pa.field("trades", pa.bool_()),
        pa.field("1s", pa.bool_()),
        pa.field("1m", pa.bool_()),
        pa.field("daily", pa.bool_()),
    ]
)


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
        "truth_events": layout.events_path,
        "truth_hard_negatives": layout.hard_negatives_path,
    }
    return {
        name: (layout.root / pattern).as_posix()
        for name, pattern in relative.items()
        if any(p for p in layout.root.glob(pattern) if not p.name.startswith(TEMP_PREFIX))
    }


def wanted_views(sql: str) -> set[str]:
    """The derived views (:data:`DERIVED_VIEWS`) ``sql`` names, as whole words (case-insensitive)."""
    return {name for name in DERIVED_VIEWS if re.search(rf"(?<![\w$]){name}(?![\w$])", sql, re.IGNORECASE)}


def connect(
    layout: LakeLayout,
    database: str = ":memory:",
    *,
    sql: str | None = None,
    derived: Iterable[str] = (),
    workers: int = 1,
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with a view per lake table; raise :class:`LakeError` when the root has no lake.

    Parameters
    ----------
    layout
        The lake.
    database
        DuckDB database (default in memory).
    sql
        The query about to run: the derived views it names (:func:`wanted_views`) are created.
    derived
        Derived views to create regardless of ``sql`` (names of :data:`DERIVED_VIEWS`).
    workers
        Worker processes when the events must be computed (not cached yet).
    """
    if not layout.root.is_dir():
        raise LakeError(f"{layout.root}: no lake here (directory missing)")
    wanted = set(derived) | (wanted_views(sql) if sql else set())
    unknown = wanted - set(DERIVED_VIEWS)
    if unknown:
        raise LakeError(f"unknown derived view {', '.join(sorted(unknown))}: expected {', '.join(DERIVED_VIEWS)}")
    con = duckdb.connect(database)
    for name, pattern in view_sources(layout).items():
        con.execute(
            f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet({_sql_string(pattern)}, union_by_name = true)"
        )
    if "events" in wanted:
        from sigma9_dag.lake.events import event_arrow, lake_events

        con.register("events", event_arrow(lake_events(layout, workers=workers).events))
    if "coverage" in wanted:
        from sigma9_dag.lake.coverage import lake_coverage

        frame = lake_coverage(layout).frame
        con.register("coverage", pa.Table.from_pandas(frame, schema=COVERAGE_SCHEMA, preserve_index=False))
    return con


def check_read_only_select(sql: str) -> None:
    """Raise :class:`LakeError` unless ``sql`` is exactly one SELECT statement (no COPY, ATTACH, INSTALL/LOAD,
    SET, PRAGMA, DDL or DML; several statements are refused too)."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as e:
        raise LakeError(f"universe query does not parse: {e}") from e
    kinds = [s.type.name for s in statements]
    if kinds != ["SELECT"]:
        got = ", ".join(kinds) or "nothing"
        raise LakeError(f"universe query must be one read-only SELECT over the lake's views, got {got}")


def sandbox(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    """Confine ``con`` to reading the lake at ``root``: file access elsewhere, extensions and configuration changes
    are refused from now on (the views already created keep working)."""
    con.execute(f"SET allowed_directories = [{_sql_string(root.resolve().as_posix() + '/')}]")
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def query_tickers(layout: LakeLayout, sql: str) -> list[str]:
    """Run a universe query (must return a ``ticker`` column) over the lake views (derived ones included).

    The query must be one read-only SELECT (:func:`check_read_only_select`), checked before anything runs, and runs
    in a connection that reads nothing outside the lake (:func:`sandbox`): file functions elsewhere, COPY, ATTACH
    and extensions are refused.
    """
    check_read_only_select(sql)
    con = connect(layout, sql=sql)
    try:
        sandbox(con, layout.root)
        result = con.execute(sql)
    except duckdb.Error as e:
        raise LakeError(f"universe query failed on {layout.root}: {e}") from e
    columns = [d[0] for d in result.description]
    if "ticker" not in columns:
        raise LakeError(f"universe query must return a 'ticker' column, got {', '.join(columns)}")
    index = columns.index("ticker")
    return sorted({row[index] for row in result.fetchall()})
