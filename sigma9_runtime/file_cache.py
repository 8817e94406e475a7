"""Parse a file once per version: a result (or the error) kept until the file's inode, size or mtime changes.

Files the project writes are replaced atomically (a new version is a new inode), so a poll that
re-lists a directory parses only what is new or changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")
E = TypeVar("E", bound=Exception)


class ParsedFiles(Generic[T, E]):
    """``parse(path)``'s result per file version; an ``error`` type it raises is kept (and re-raised) the same way."""

    def __init__(self, parse: Callable[[Path], T], error: type[E]) -> None:
        self._parse = parse
        self._error = error
        self._kept: dict[Path, tuple[tuple[int, int, int], T | E]] = {}

    def read(self, path: Path) -> T | E:
        """The parsed file, or the error its parse raised (of the ``error`` type; others propagate)."""
        status = path.stat()
        version = (status.st_ino, status.st_size, status.st_mtime_ns)
        key = path.resolve()
        kept = self._kept.get(key)
        if kept is None or kept[0] != version:
            try:
                result: T | E = self._parse(path)
            except self._error as e:
                result = e
            kept = self._kept[key] = (version, result)
        return kept[1]

    def get(self, path: Path) -> T:
        """The parsed file; its parse error raised again."""
        result = self.read(path)
        if isinstance(result, self._error):
            raise result.with_traceback(None)
        return result  # type: ignore[return-value]

    def keep_only(self, paths: Iterable[Path]) -> None:
        """Forget files not among ``paths`` (removed ones)."""
        present = {p.resolve() for p in paths}
        self._kept = {p: kept for p, kept in self._kept.items() if p in present}
