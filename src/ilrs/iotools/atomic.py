"""Atomic file writes: a temporary file in the target's directory, fsynced, then renamed over the target.

A reader of ``path`` sees either the old complete file or the new complete file, never a partial one, and an
exception (or a crash) during the write leaves the old file untouched. ``os.replace`` is atomic only within
one file system, which is why the temporary file lives in the target's own directory.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from ilrs.errors import IlrsError

#: Marker in the names of temporary files, so that leftovers of a killed process are recognisable.
TEMP_MARKER = ".tmp"


def temp_name(path: Path) -> Path:
    """A fresh hidden name next to ``path`` that keeps its suffixes (numpy and GDAL look at them)."""
    return path.with_name(f".{path.name}.{secrets.token_hex(8)}{TEMP_MARKER}{''.join(path.suffixes)}")


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not every platform can open a directory (Windows), which is harmless.
    with suppress(OSError):
        _fsync_path(directory)


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it is fsynced and renamed to ``path``.

    The temporary file exists (empty, permissions from the umask) when the block starts; the block may
    overwrite or recreate it. If the block raises, the temporary file is removed and ``path`` is untouched.
    An existing ``path`` keeps its permission bits.
    """
    path = Path(path)
    directory = path.parent
    if not directory.is_dir():
        raise IlrsError(
            "the directory to write into does not exist",
            source=str(directory),
            hint=f"create it before writing {path.name}",
        )
    if path.is_dir():
        raise IlrsError("cannot write a file over a directory", source=str(path), hint="choose a file name")
    while True:
        tmp = temp_name(path)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:  # pragma: no cover - 64 random bits
            continue
        except OSError as exc:
            raise IlrsError(
                f"cannot create a file here ({exc.strerror})",
                source=str(directory),
                hint="check that the directory is writable",
            ) from exc
        os.close(fd)
        break
    try:
        yield tmp
        if not tmp.is_file():
            raise FileNotFoundError(f"the temporary file {tmp} vanished before it could be renamed to {path}")
        with suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        _fsync_path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes | bytearray | memoryview) -> Path:
    """Write ``data`` to ``path`` atomically; return the path."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (no newline translation); return the path."""
    return atomic_write_bytes(path, text.encode(encoding))
