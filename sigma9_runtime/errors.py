"""The project's exception hierarchy.

Every error raised on purpose by Sigma9 code derives from :class:`Sigma9Error`, so a caller
(the CLI, a Dagster asset, the live container) can catch the whole family in one place and
still tell the kinds apart. Messages name the subject (file, field path, line, ticker, ...)
and what was expected.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class Sigma9Error(Exception):
    """Root of every error Sigma9 raises on purpose."""


class SpecError(Sigma9Error):
    """A contract file (FeatureSpec, ArtifactManifest, BacktestRunConfig) is invalid.

    Parameters
    ----------
    message
        What is wrong and what was expected.
    file
        The file being read, when there is one.
    field
        Dotted field path inside the document, e.g. ``feature_spec.features[1].window``.
    line
        1-based line in ``file`` where ``field`` sits, when known.
    more
        Further problems found in the same document (each already formatted).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        field: str | None = None,
        line: int | None = None,
        more: Sequence[str] = (),
    ) -> None:
        self.reason = message
        self.file = str(file) if file is not None else None
        self.field = field
        self.line = line
        self.more = tuple(more)
        super().__init__(self._format())

    def _format(self) -> str:
        where = ""
        if self.file:
            where = self.file if self.line is None else f"{self.file}:{self.line}"
            where += ": "
        subject = f"{self.field}: " if self.field else ""
        tail = f" (and {len(self.more)} more problem(s))" if self.more else ""
        return f"{where}{subject}{self.reason}{tail}"


class IntegrityError(Sigma9Error):
    """Stored bytes do not match what a manifest or index says (sha256, size, missing file)."""


class SchemaMismatch(Sigma9Error):
    """Two parties disagree on the FeatureSpec schema hash (lab vs manifest vs runtime)."""

    def __init__(self, message: str, *, expected: str, actual: str) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(f"{message}: expected {expected}, got {actual}")


class ArtifactError(Sigma9Error):
    """An artifact cannot be published or loaded (refused payload, bad layout, unknown plugin)."""


class _NamesFile:
    """Mixin: the message starts with the file concerned, also kept as ``.file``."""

    def __init__(self, message: str, *, file: str | Path) -> None:
        self.file = str(file)
        self.reason = message
        super().__init__(f"{self.file}: {message}")


class PayloadRefused(_NamesFile, ArtifactError):
    """A payload file the runtime will not load, whatever its digest says."""


class ForbiddenPayloadFile(PayloadRefused):
    """A payload file of a kind the runtime never loads: anything but ``.onnx`` and ``.json`` (pickles above all)."""


class UnsafePayloadName(PayloadRefused):
    """A payload name with a directory part (``/``, ``\\``, ``..``) or a path that leaves the artifact store."""


class UnlistedPayloadFile(PayloadRefused):
    """A file in a payload directory that the manifest does not list."""


class MissingArtifactFile(_NamesFile, IntegrityError):
    """A file the manifest names (payload file, spec snapshot, payload directory) does not exist."""


class DigestMismatch(_NamesFile, IntegrityError):
    """A payload file's sha256 differs from the manifest's."""

    def __init__(self, message: str, *, file: str | Path, expected: str, actual: str) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(f"{message}: expected sha256 {expected}, got {actual}", file=file)


class IncompatibleArtifact(_NamesFile, ArtifactError):
    """A sound artifact this runtime cannot run: streams not subscribed, unknown plugin, other feature names."""


class ParityError(ArtifactError):
    """An exported ONNX model does not reproduce the native model within the tolerance."""


class LakeError(Sigma9Error):
    """The market data lake cannot be read or written as asked (missing table, bad rows)."""


class LakeBusy(LakeError):
    """Another writer holds the lake's lock longer than this writer agreed to wait."""


class DataError(Sigma9Error):
    """Input market data is malformed (bad columns, unsorted rows, corrupt files)."""


class PluginError(Sigma9Error):
    """A plugin reference cannot be resolved to an implementation."""
