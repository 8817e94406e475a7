"""Time units in nanoseconds, the one definition every module imports (timestamps are int64 ns UTC)."""

from __future__ import annotations

NANOS_PER_SECOND = 1_000_000_000
NANOS_PER_MINUTE = 60 * NANOS_PER_SECOND
SECOND_NS = NANOS_PER_SECOND
"""Alias of :data:`NANOS_PER_SECOND` (the length of a 1-second bar)."""
MINUTE_NS = NANOS_PER_MINUTE
"""Alias of :data:`NANOS_PER_MINUTE` (the length of a 1-minute bar)."""
