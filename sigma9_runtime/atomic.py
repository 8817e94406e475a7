"""Atomic file writes: write to a temporary file beside the target, fsync, then rename over it.

A reader never sees a half-written file: either the old content (or no file) or the new one.
Used for every lake file, manifest, payload and contract the project writes. A whole directory
(an artifact's payload) is written the same way: filled under a temporary name, then renamed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

TEMP_PREFIX = ".tmp-"
"""Prefix of in-flight temporary files; readers and listings ignore names starting with it."""


@contextlib.contextmanager
def atomic_path(target: str | Path, *, exclusive: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on clean exit rename it over ``target``.

    The caller writes the file at the yielded path (any library that takes a path works).
    On an exception the temporary file is removed and ``target`` is left untouched. With
    ``exclusive=True`` an existing ``target`` is never replaced: the file is hard-linked into
    place, which fails with :class:`FileExistsError` even when another writer races this one.

    Examples
    --------
    >>> with atomic_path(tmp / "x.parquet") as tmp_file:  # doctest: +SKIP
    ...     table.to_parquet(tmp_file)
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{target.name}.", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    # mkstemp creates 0600; give the file the mode a plain open() would (0666 minus the umask).
    os.chmod(tmp, 0o666 & ~_current_umask())
    try:
        yield tmp
        _fsync_file(tmp)
        if exclusive:
            os.link(tmp, target)
            tmp.unlink()
        else:
            os.replace(tmp, target)
        fsync_dir(target.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def atomic_write_bytes(target: str | Path, data: bytes, *, exclusive: bool = False) -> None:
    """Write ``data`` to ``target`` atomically (never replacing an existing file when ``exclusive``)."""
    with atomic_path(target, exclusive=exclusive) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: str | Path, text: str, *, exclusive: bool = False) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically (never replacing an existing file when ``exclusive``)."""
    atomic_write_bytes(target, text.encode("utf-8"), exclusive=exclusive)


@contextlib.contextmanager
def atomic_directory(target: str | Path) -> Iterator[Path]:
    """Yield a temporary directory beside ``target``; on clean exit rename it to ``target``.

    The caller fills the yielded directory; its files are fsynced and the directory appears
    under its final name in one rename, complete. On an exception the temporary directory is
    removed. An existing ``target`` is never replaced (:class:`FileExistsError`).

    Examples
    --------
    >>> with atomic_directory(store / "payloads" / "ART_x") as tmp_dir:  # doctest: +SKIP
    ...     (tmp_dir / "scorer.onnx").write_bytes(model_bytes)
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() or target.is_symlink():
        raise FileExistsError(f"{target} already exists")
    tmp = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{target.name}.", dir=target.parent))
    os.chmod(tmp, 0o777 & ~_current_umask())
    try:
        yield tmp
        for child in tmp.rglob("*"):
            if child.is_file():
                _fsync_file(child)
        fsync_dir(tmp)
        # rename(2) would silently replace an empty directory created meanwhile; check once more.
        if target.exists() or target.is_symlink():
            raise FileExistsError(f"{target} already exists")
        os.rename(tmp, target)
        fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _current_umask() -> int:
    try:  # Linux: read it without changing it (os.umask can only be read by setting it)
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def fsync_dir(path: Path) -> None:
    """Persist renames into ``path`` (a directory); a no-op where directories cannot be opened."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
