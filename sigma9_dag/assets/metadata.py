"""Asset metadata values shared by the lab's stages."""

import base64
import math

import dagster as dg
import pandas as pd

DIGITS = 4
"""Decimals a metric keeps in metadata (the stage's JSON summary keeps every digit)."""


def number(value: float | None, *, undefined: str = "undefined") -> dg.MetadataValue:
    """A float rounded to :data:`DIGITS` decimals, infinity kept as a float (an infinite ratio: the UI shows
    ``inf`` and plots it as a number); text saying why for an undefined value (None) or NaN."""
    if value is None or math.isnan(value):
        return dg.MetadataValue.text(undefined)
    return dg.MetadataValue.float(float(value) if math.isinf(value) else round(float(value), DIGITS))


def _column_type(values: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(values):
        return "bool"
    if pd.api.types.is_float_dtype(values):
        return "float"
    return "int" if pd.api.types.is_integer_dtype(values) else "string"


def ny_times(ns: pd.Series) -> pd.Series:
    """Epoch nanoseconds as New York wall-clock text (``2025-04-29 09:44:50``); empty for -1 (none)."""
    stamps = pd.to_datetime(ns.where(ns >= 0), utc=True).dt.tz_convert("America/New_York")
    return stamps.dt.strftime("%Y-%m-%d %H:%M:%S").fillna("")


def table(frame: pd.DataFrame, rows: int = 20) -> dg.MetadataValue:
    """The first ``rows`` rows of ``frame`` as a table the UI shows with its columns (floats rounded, times
    as text); the count of all rows belongs beside it in an int."""
    head = frame.head(rows)
    columns: list[dg.TableColumn] = []
    records: list[dg.TableRecord] = []
    for name, values in head.items():
        columns.append(dg.TableColumn(str(name), _column_type(values)))
    for row in head.itertuples(index=False):
        record: dict[str, str | int | float | bool | None] = {}
        for column, value in zip(columns, row, strict=True):
            if column.type == "float":
                record[column.name] = None if pd.isna(value) else round(float(value), DIGITS)
            elif column.type == "int":
                record[column.name] = int(value)
            elif column.type == "bool":
                record[column.name] = bool(value)
            else:
                record[column.name] = None if value is None else str(value)
        records.append(dg.TableRecord(record))
    return dg.MetadataValue.table(records, schema=dg.TableSchema(columns=columns))


def image(png: bytes, title: str) -> dg.MetadataValue:
    """A PNG in the asset's metadata, as Markdown holding the image (Dagster has no image metadata type: the
    UI shows it when the entry is opened)."""
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{base64.b64encode(png).decode()})")
