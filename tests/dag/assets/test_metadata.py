"""Metadata values as the UI shows them: numbers as numbers, tables with their columns, times in New York."""

import math

import dagster as dg
import numpy as np
import pandas as pd

from sigma9_dag.assets.metadata import number, ny_times, table


def test_numbers_stay_numbers_rounded_and_an_infinite_ratio_is_a_float() -> None:
    assert number(0.123456789) == dg.MetadataValue.float(0.1235)
    infinite = number(math.inf)
    assert isinstance(infinite, dg.FloatMetadataValue) and infinite.value == math.inf
    assert number(None, undefined="undefined (no planted labels)") == dg.MetadataValue.text(
        "undefined (no planted labels)"
    )
    assert number(math.nan) == dg.MetadataValue.text("undefined")


def test_a_table_keeps_the_first_rows_with_typed_columns() -> None:
    frame = pd.DataFrame(
        {
            "symbol": ["AAA", "BBB", "CCC"],
            "shares": np.array([10, 20, 30], np.int64),
            "net_return": [0.123456, np.nan, -0.5],
            "hit": [True, False, True],
        }
    )
    got = table(frame, rows=2)
    assert [(c.name, c.type) for c in got.schema.columns] == [
        ("symbol", "string"),
        ("shares", "int"),
        ("net_return", "float"),
        ("hit", "bool"),
    ]
    assert [r.data for r in got.records] == [
        {"symbol": "AAA", "shares": 10, "net_return": 0.1235, "hit": True},
        {"symbol": "BBB", "shares": 20, "net_return": None, "hit": False},
    ]


def test_times_read_in_new_york_under_est_and_edt_and_none_is_blank() -> None:
    ns = pd.Series(
        [1736519400 * 10**9, 1745934290 * 10**9, -1], dtype=np.int64
    )  # 2025-01-10 14:30Z, 2025-04-29 13:44:50Z
    assert ny_times(ns).tolist() == ["2025-01-10 09:30:00", "2025-04-29 09:44:50", ""]
