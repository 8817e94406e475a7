"""Symbol cooldown: a symbol that alerted at ``t`` may alert again from ``t + cooldown`` on.

Only alerts start a cooldown (a suppressed candidate does not), and the cooldown is pure elapsed time,
across session and day boundaries alike. Memory: one timestamp per symbol that ever alerted.
"""

from __future__ import annotations

from sigma9_runtime.units import NANOS_PER_SECOND


class SymbolCooldown:
    """Last alert time per symbol and whether a new alert is still inside the cooldown.

    Examples
    --------
    >>> cooldown = SymbolCooldown(180)
    >>> cooldown.record("ABCD", 0)
    >>> cooldown.blocks("ABCD", 179_999_999_999), cooldown.blocks("ABCD", 180_000_000_000)
    (True, False)
    """

    __slots__ = ("_cooldown_ns", "_last", "seconds")

    def __init__(self, seconds: int) -> None:
        if seconds < 1:
            raise ValueError(f"symbol cooldown must be >= 1 second, got {seconds}")
        self.seconds = int(seconds)
        self._cooldown_ns = self.seconds * NANOS_PER_SECOND
        self._last: dict[str, int] = {}

    def blocks(self, symbol: str, ts_ns: int) -> bool:
        """Whether ``symbol`` alerted less than the cooldown before ``ts_ns`` (or after it: time went back)."""
        last = self._last.get(symbol)
        return last is not None and ts_ns - last < self._cooldown_ns

    def record(self, symbol: str, ts_ns: int) -> None:
        """``symbol`` alerted at ``ts_ns``."""
        self._last[symbol] = ts_ns

    def last_alert(self, symbol: str) -> int | None:
        """Time of ``symbol``'s last alert, if any."""
        return self._last.get(symbol)

    def reset(self) -> None:
        """Forget every alert."""
        self._last.clear()
