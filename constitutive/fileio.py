"""Safe writing of output files: never over an existing file unless asked, never over an input, always atomic.

Every writer of the package goes through this module (it imports nothing else from the package, so it sits in the
lowest layer):

* :func:`check_writable` refuses an existing ``path`` unless ``overwrite=True`` (:class:`OutputExistsError`, a
  ``FileExistsError`` whose message says how to allow it) and a ``path`` that is a folder;
* :func:`check_not_input` refuses a ``path`` that is one of a command's inputs (same resolved path, or the same file
  by :func:`os.path.samefile`), even with ``overwrite=True`` (:class:`OverwritesInputError`);
* :func:`atomic_write_text` / :func:`atomic_write_bytes` / :func:`atomic_path` write to a temporary file in the
  destination folder and :func:`os.replace` it onto ``path`` only when the writer finished, so an interrupted or
  failed write leaves the previous file intact (and no partial file).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

__all__ = [
    "OutputExistsError",
    "OverwritesInputError",
    "atomic_open",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_not_input",
    "check_writable",
]


class OutputExistsError(FileExistsError):
    """An output file exists and the caller did not allow overwriting it."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(f"{path} exists; pass overwrite=True (command line: --force) to replace it")
        self.path = Path(path)


class OverwritesInputError(ValueError):
    """An output path names one of the inputs of the same run (refused even with ``overwrite=True``)."""


def check_writable(path: str | Path, *, overwrite: bool = False) -> Path:
    """``Path(path)`` after checking it may be written: not an existing folder, and not an existing file unless
    ``overwrite``. Raises :class:`IsADirectoryError` or :class:`OutputExistsError`."""
    p = Path(path)
    if str(path) == "" or p.name == "":
        raise ValueError(f"output path {str(path)!r} names no file")
    if p.is_dir():
        raise IsADirectoryError(f"output path {p} is a folder, not a file")
    if not overwrite and (p.exists() or p.is_symlink()):
        raise OutputExistsError(p)
    return p


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _same(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:  # pragma: no cover - unreadable entries cannot be compared: not the same
        return False


def check_not_input(path: str | Path, inputs: Iterable[str | Path | None]) -> Path:
    """``Path(path)`` after checking it is none of ``inputs`` (``None`` entries are skipped); raises
    :class:`OverwritesInputError` naming the input otherwise. Paths compare resolved, and by
    :func:`os.path.samefile` when both exist (hard links, symlinks)."""
    p = Path(path)
    for item in inputs:
        if item is None:
            continue
        if _same(p, Path(item)):
            raise OverwritesInputError(f"output {p} is an input of this run ({item}); refusing to write over it")
    return p


@contextlib.contextmanager
def atomic_path(path: str | Path, *, overwrite: bool = False, mkdir: bool = True) -> Iterator[Path]:
    """Context manager yielding a temporary path next to ``path`` (same suffix, so writers that choose a format by
    suffix, like matplotlib's ``savefig``, behave the same); on a clean exit it replaces ``path`` atomically, on an
    exception it is removed and ``path`` is untouched. ``mkdir`` creates the destination folder."""
    p = check_writable(path, overwrite=overwrite)
    if mkdir:
        p.parent.mkdir(parents=True, exist_ok=True)
    elif not p.parent.is_dir():
        raise FileNotFoundError(f"output folder {p.parent} does not exist")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{p.name}.", suffix=f".tmp{p.suffix}", dir=p.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp makes the file private (0600): give it the mode a plain open() would (or the replaced file's)
    os.chmod(tmp, (p.stat().st_mode & 0o7777) if p.exists() else 0o666 & ~_umask())
    try:
        yield tmp
        if not overwrite and p.exists():  # appeared while writing: still refuse
            raise OutputExistsError(p)
        os.replace(tmp, p)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_open(
    path: str | Path, mode: str = "w", *, overwrite: bool = False, mkdir: bool = True, **kwargs: Any
) -> Iterator[IO[Any]]:
    """``open`` a temporary file next to ``path`` (``mode`` ``"w"`` or ``"wb"``, ``kwargs`` to :func:`open`) and
    move it onto ``path`` when the block ends without an exception (see :func:`atomic_path`)."""
    if mode not in ("w", "wb", "wt"):
        raise ValueError(f"atomic_open writes a new file: mode 'w' or 'wb', not {mode!r}")
    with atomic_path(path, overwrite=overwrite, mkdir=mkdir) as tmp, open(tmp, mode, **kwargs) as fh:
        yield fh


def atomic_write_text(
    path: str | Path, text: str, *, overwrite: bool = False, encoding: str = "utf-8", mkdir: bool = True
) -> Path:
    """Write ``text`` to ``path`` atomically; refuses an existing file unless ``overwrite``. Returns the path.

    Parameters
    ----------
    path:
        The destination file.
    text:
        The content, written as is (no newline translation).
    overwrite:
        Replace an existing file (default ``False``: :class:`OutputExistsError`).
    encoding:
        Text encoding (default UTF-8).
    mkdir:
        Create the destination folder (default ``True``; else a missing folder raises ``FileNotFoundError``).
    """
    with atomic_open(path, "w", overwrite=overwrite, mkdir=mkdir, encoding=encoding, newline="") as fh:
        fh.write(text)
    return Path(path)


def atomic_write_bytes(path: str | Path, data: bytes, *, overwrite: bool = False, mkdir: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically; refuses an existing file unless ``overwrite``. Returns the path."""
    with atomic_open(path, "wb", overwrite=overwrite, mkdir=mkdir) as fh:
        fh.write(data)
    return Path(path)
