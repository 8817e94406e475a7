"""Asset metadata values shared by the lab's stages."""

import base64
import math

import dagster as dg


def number(value: float | None, *, undefined: str = "undefined") -> dg.MetadataValue:
    """A float, or text for a value that is undefined (None) or not finite (an infinite ratio)."""
    if value is None:
        return dg.MetadataValue.text(undefined)
    if not math.isfinite(value):
        return dg.MetadataValue.text("inf" if value > 0 else str(value))
    return dg.MetadataValue.float(float(value))


def image(png: bytes, title: str) -> dg.MetadataValue:
    """A PNG shown inline in the asset's metadata."""
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{base64.b64encode(png).decode()})")
