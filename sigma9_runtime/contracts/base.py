"""Shared building blocks of the three contracts: the base model and constrained field types."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

Session = Literal["pre", "regular", "after"]
"""Trading sessions in America/New_York: pre 04:00-09:30, regular 09:30-16:00, after 16:00-20:00."""

StreamChannel = Literal["T.*", "A.*", "AM.*"]
"""Massive WebSocket channels: trades, 1-second aggregates, 1-minute aggregates."""

STREAM_CHANNELS: tuple[str, ...] = ("T.*", "A.*", "AM.*")

Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
"""A sha256 digest: exactly 64 lowercase hex digits."""

SchemaHash = Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")]
"""A FeatureSpec schema hash: ``sha256:`` followed by 64 lowercase hex digits."""

GitCommit = Annotated[str, StringConstraints(pattern=r"^([0-9a-f]{7,40}|unknown)$")]
"""An abbreviated or full git commit id, or ``unknown`` outside a repository."""

ContractId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=128)]
"""An id that is safe as a file name and partition key: letters, digits, ``_``, ``.``, ``-``."""


def prefixed_id(prefix: str) -> Any:
    """A :data:`ContractId` that starts with ``<prefix>_`` (``FS_``, ``ART_``, ``RUN_``)."""
    return Annotated[str, StringConstraints(pattern=rf"^{prefix}_[A-Za-z0-9_.-]+$", max_length=128)]


FeatureSpecId = prefixed_id("FS")
ArtifactId = prefixed_id("ART")
RunId = prefixed_id("RUN")


def _check_plain_name(name: str) -> str:
    if name in ("", ".", "..") or "/" in name or "\\" in name or "\x00" in name or ":" in name:
        raise ValueError(f"{name!r} is not a plain file name (no path separator, no '..', no drive or absolute path)")
    return name


PlainFileName = Annotated[str, AfterValidator(_check_plain_name)]
"""A file name with no directory part: no separator, not ``.`` or ``..``, not absolute."""

PluginRef = Annotated[
    str,
    StringConstraints(pattern=r"^([a-z_][a-z0-9_]*|[A-Za-z_][\w.]*:[A-Za-z_]\w*)$"),
]
"""A scoring plugin: a registered name (``seismograph``, ``seismograph_ml``) or an import path
``package.module:Class`` (resolved by the runtime's plugin factory)."""

Probability = Annotated[float, Field(ge=0.0, le=1.0)]

M = TypeVar("M", bound="ContractModel")


class ContractModel(BaseModel):
    """Base of every contract model: frozen, unknown keys refused, numbers finite (no NaN or infinity), field docs
    from attribute docstrings."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_default=True, use_attribute_docstrings=True, allow_inf_nan=False
    )


class FieldPathError(ValueError):
    """A cross-field validation error that knows which field (relative to its model) is wrong.

    Raised from ``model_validator``s so the loader can report the exact field path (and line)
    rather than the enclosing object.
    """

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        self.path = path
        super().__init__(message)


def require_unique(values: Iterable[Any], what: str, path: tuple[str | int, ...]) -> None:
    """Raise :class:`FieldPathError` at ``path[index]`` for the first repeated value."""
    seen: set[Any] = set()
    for index, value in enumerate(values):
        if value in seen:
            raise FieldPathError((*path, index), f"duplicate {what} {value!r}")
        seen.add(value)


def require_ordered(
    earlier: dt.date, later: dt.date, path: tuple[str | int, ...], earlier_name: str, later_name: str, strict: bool
) -> None:
    """Raise :class:`FieldPathError` unless ``earlier`` comes before ``later`` (or equals it when not strict)."""
    ok = earlier < later if strict else earlier <= later
    if not ok:
        relation = "before" if strict else "on or before"
        raise FieldPathError(path, f"{earlier_name} ({earlier}) must be {relation} {later_name} ({later})")


SUPPORTED_TIMEZONE = "America/New_York"
"""The one time zone the calendar (NYSE sessions and trading days) is defined in."""


def check_timezone(name: str) -> str:
    """Validate an IANA time zone name, and that it is the calendar's (:data:`SUPPORTED_TIMEZONE`): no code
    reads another, so another is refused rather than silently ignored."""
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(name)
    except Exception as e:  # ZoneInfoNotFoundError, ValueError, IsADirectoryError ('America'), ...
        raise ValueError(f"unknown IANA time zone {name!r}") from e
    if name != SUPPORTED_TIMEZONE:
        raise ValueError(f"only {SUPPORTED_TIMEZONE} is supported (the NYSE calendar), got {name!r}")
    return name


TimeZoneName = Annotated[str, AfterValidator(check_timezone)]
