"""A disk cache for costly numpy products (horizon maps, environment series), keyed by their inputs' hash.

Each product is a dict of named arrays stored as one uncompressed ``.npz`` under ``root/namespace/key.npz``,
written atomically (temp file + fsync + rename) so an interrupted run never leaves a partial file. Reads map
the arrays from the file (``mmap``) after checking the zip CRC of every member; a file that fails any check is
deleted and recomputed, never returned.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import json
import logging
import math
import os
import re
import struct
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path, PurePath
from typing import Any

import numpy as np

from ilrs.errors import IlrsError
from ilrs.iotools.atomic import atomic_path

log = logging.getLogger(__name__)

#: Bumped when the key encoding or the file layout changes, which invalidates every older entry.
CACHE_FORMAT_VERSION = 1

_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}")
#: Names np.savez takes as its own arguments.
_RESERVED_ARRAY_NAMES = frozenset({"file", "allow_pickle"})

_file_hash_memo: dict[tuple[str, int, int, int, int], str] = {}
_file_hash_lock = threading.Lock()


class CorruptCacheFile(Exception):
    """A cache file that fails a structural or CRC check (internal: the cache deletes and recomputes it)."""


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, memoised in-process per (path, device, inode, size, mtime_ns)."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        raise IlrsError(
            "input file not found while computing a cache key", source=str(path), hint="check the path"
        ) from exc
    if not path.is_file():
        raise IlrsError(
            "a cache key can hash files only, not directories", source=str(path), hint="pass the files themselves"
        )
    memo_key = (os.path.realpath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    with _file_hash_lock:
        digest = _file_hash_memo.get(memo_key)
    if digest is None:
        with open(path, "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
        with _file_hash_lock:
            _file_hash_memo[memo_key] = digest
    return digest


def _canonical(value: Any, where: str) -> Any:
    """A JSON value that identifies ``value`` exactly; every kind is tagged so that no two kinds collide."""
    from ilrs.terrain.projection import PyprojProjection

    if value is None:
        return {"none": 0}
    if isinstance(value, bool | np.bool_):
        return {"bool": bool(value)}
    if isinstance(value, int | np.integer):
        return {"int": int(value)}
    if isinstance(value, float | np.floating):
        return {"float": float(value).hex()}  # exact; NaN and inf included
    if isinstance(value, str):
        return {"str": value}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"bytes": hashlib.sha256(value).hexdigest()}
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError(f"cache key part {where}: object arrays cannot be hashed")
        data = np.ascontiguousarray(value)
        return {
            "array": {
                "dtype": value.dtype.str,
                "shape": list(value.shape),
                # ndarray has the buffer protocol; numpy's stubs declare __buffer__ only for Python >= 3.12
                "sha256": hashlib.sha256(data.view(np.uint8).reshape(-1)).hexdigest(),  # type: ignore[arg-type]
            }
        }
    if isinstance(value, PurePath):
        return {"file": file_sha256(value)}
    if isinstance(value, list | tuple):
        return {"seq": [_canonical(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise TypeError(f"cache key part {where}: mapping keys must be strings")
        return {"map": {k: _canonical(v, f"{where}.{k}") for k, v in value.items()}}
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return {type(value).__name__: value.isoformat()}
    if isinstance(value, np.datetime64 | np.timedelta64):
        return {value.dtype.str: int(value.astype(np.int64))}
    if isinstance(value, enum.Enum):
        return {"enum": f"{type(value).__qualname__}.{value.name}"}
    if isinstance(value, PyprojProjection):
        return {"PyprojProjection": value.crs.to_wkt()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _canonical(getattr(value, f.name), f"{where}.{f.name}") for f in dataclasses.fields(value)}
        return {"dataclass": f"{type(value).__module__}.{type(value).__qualname__}", "fields": fields}
    raise TypeError(
        f"cache key part {where}: cannot hash a {type(value).__qualname__}; pass numbers, "
        "strings, arrays, paths, dataclasses or sequences and mappings of them"
    )


def _check_name(name: str, what: str) -> None:
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise ValueError(
            f"cache {what} {name!r} must be 1-200 characters of [A-Za-z0-9_.-], not starting with '.' or '-'"
        )


def _validated(result: Any) -> dict[str, np.ndarray]:
    if not isinstance(result, Mapping) or not result:
        raise TypeError(f"compute() must return a non-empty dict of arrays, not {type(result).__qualname__}")
    out: dict[str, np.ndarray] = {}
    for name, value in result.items():
        if not isinstance(name, str) or not name or "/" in name or name in _RESERVED_ARRAY_NAMES:
            raise ValueError(f"array name {name!r} cannot be stored in an .npz")
        array = np.asarray(value)
        if array.dtype.hasobject:
            raise TypeError(f"array {name!r} has dtype object, which the cache does not store (no pickles)")
        out[name] = array
    return out


def _read_npy_header(f, member: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(f)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(f)
    raise CorruptCacheFile(f"member {member}: npy format version {version} not mapped")


def load_npz_mmap(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Load an uncompressed ``.npz`` as read-only memory-mapped arrays, after checking every member's CRC.

    Raises :class:`CorruptCacheFile` for anything that is not a complete, uncompressed, pickle-free ``.npz``.
    """
    path = Path(path)
    out: dict[str, np.ndarray] = {}
    try:
        size = path.stat().st_size
        with zipfile.ZipFile(path) as zf, open(path, "rb") as f:
            infos = zf.infolist()
            if not infos:
                raise CorruptCacheFile("empty archive")
            for info in infos:
                if not info.filename.endswith(".npy") or info.compress_type != zipfile.ZIP_STORED:
                    raise CorruptCacheFile(f"member {info.filename} is not an uncompressed .npy")
                f.seek(info.header_offset)
                local = f.read(30)
                if len(local) != 30 or local[:4] != b"PK\x03\x04":
                    raise CorruptCacheFile(f"member {info.filename}: bad local header")
                name_len, extra_len = struct.unpack("<HH", local[26:30])
                start = info.header_offset + 30 + name_len + extra_len
                if start + info.file_size > size:
                    raise CorruptCacheFile(f"member {info.filename} runs past the end of the file")
                f.seek(start)
                shape, fortran, dtype = _read_npy_header(f, info.filename)
                header_len = f.tell() - start
                if dtype.hasobject:
                    raise CorruptCacheFile(f"member {info.filename} holds Python objects")
                nbytes = math.prod(shape) * dtype.itemsize
                if header_len + nbytes != info.file_size:
                    raise CorruptCacheFile(f"member {info.filename}: size does not match its header")
                raw = np.memmap(path, dtype=np.uint8, mode="r", offset=start, shape=(info.file_size,))
                if zlib.crc32(raw) != info.CRC:  # type: ignore[arg-type]  # a memmap is a buffer (see above)
                    raise CorruptCacheFile(f"member {info.filename}: CRC mismatch")
                array = raw[header_len:].view(dtype).reshape(shape, order="F" if fortran else "C")
                out[info.filename[:-4]] = array.view(np.ndarray)
    except CorruptCacheFile:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, struct.error) as exc:
        raise CorruptCacheFile(f"{type(exc).__name__}: {exc}") from exc
    return out


@contextmanager
def _compute_lock(lock_path: Path, what: str) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``lock_path`` (created if needed) for one entry's computation.

    Where ``fcntl`` is missing (Windows) or the lock file cannot be created (a read-only cache directory), the
    computation goes ahead unlocked: at worst two processes compute the same entry, as before the lock existed.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        log.debug("no lock for %s (%s): computing unlocked", what, exc)
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("waiting for another process that is computing %s", what)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


@dataclasses.dataclass(frozen=True)
class CacheEntry:
    """One cached product: its namespace and key, file, size [bytes] and last use (POSIX time [s])."""

    namespace: str
    key: str
    path: Path
    size: int
    last_used: float


class DiskCache:
    """Named arrays cached on disk under ``root/namespace/key.npz``.

    ``enabled=False`` computes every time and touches no file. ``hits`` and ``misses`` count lookups.
    Arrays returned from the cache (and the freshly computed ones) are read-only.
    """

    def __init__(self, root: str | os.PathLike[str], enabled: bool = True, max_bytes: int | None = None):
        self.root = Path(root)
        self.enabled = enabled
        #: a size cap: after each write the least recently used entries go until the cache fits (None: no cap)
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(**parts: Any) -> str:
        """Stable SHA-256 hex key of the parts (a canonical JSON of them; files hashed by content)."""
        canon = {"v": CACHE_FORMAT_VERSION, "parts": {k: _canonical(v, k) for k, v in parts.items()}}
        text = json.dumps(canon, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
        return hashlib.sha256(text.encode("ascii")).hexdigest()

    def path(self, namespace: str, key: str) -> Path:
        """Where the entry lives (whether or not it exists)."""
        _check_name(namespace, "namespace")
        _check_name(key, "key")
        return self.root / namespace / f"{key}.npz"

    def get_or_compute(
        self, namespace: str, key: str, compute: Callable[[], Mapping[str, np.ndarray]]
    ) -> dict[str, np.ndarray]:
        """The cached arrays for ``key``, or ``compute()``'s, which are stored for next time.

        Processes (and threads) sharing the cache compute an entry once: a miss takes an exclusive lock for the
        key (POSIX ``flock`` on ``namespace/.key.lock``, released by the system if the process dies) and looks
        again under it, so a second caller waits for the first one's entry and reads it instead of computing the
        same product twice on the same cores.
        """
        path = self.path(namespace, key)
        if not self.enabled:
            self.misses += 1
            return self._computed(compute)
        arrays = self._read(path)
        if arrays is not None:
            return arrays
        with _compute_lock(path.parent / f".{key}.lock", f"{namespace}/{key[:12]}"):
            arrays = self._read(path)  # another process may have written it while this one waited
            if arrays is not None:
                return arrays
            self.misses += 1
            arrays = self._computed(compute)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                with atomic_path(path) as tmp, open(tmp, "wb") as f:
                    np.savez(f, **arrays)  # type: ignore[arg-type]  # mypy matches **arrays to allow_pickle too
            except (OSError, IlrsError) as exc:
                log.warning("cannot write cache file %s (%s); continuing without caching", path, exc)
            else:
                if self.max_bytes is not None:
                    self.prune(max_bytes=self.max_bytes, keep=path)
        return arrays

    @staticmethod
    def _computed(compute: Callable[[], Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
        arrays = _validated(compute())
        for array in arrays.values():
            array.flags.writeable = False
        return arrays

    def _read(self, path: Path) -> dict[str, np.ndarray] | None:
        """The entry's arrays (a hit), or None when it is absent or corrupt (a corrupt file is deleted)."""
        if not path.exists():
            return None
        try:
            arrays = load_npz_mmap(path)
        except CorruptCacheFile as exc:
            log.warning("cache file %s is corrupt (%s); deleting it and recomputing", path, exc)
            with suppress(FileNotFoundError):
                path.unlink()
            return None
        self.hits += 1
        with suppress(OSError):  # the last use, for pruning the least recently used first
            os.utime(path)
        return arrays

    def entries(self, namespace: str | None = None) -> list[CacheEntry]:
        """The cached entries (of one namespace, or all), least recently used first."""
        if namespace is not None:
            _check_name(namespace, "namespace")
        out = []
        for d in sorted(self.root.iterdir()) if self.root.is_dir() else []:
            if not d.is_dir() or (namespace is not None and d.name != namespace):
                continue
            for p in d.glob("*.npz"):
                if p.name.startswith("."):
                    continue  # a writer's temporary file
                with suppress(FileNotFoundError):
                    st = p.stat()
                    out.append(CacheEntry(d.name, p.stem, p, st.st_size, st.st_mtime))
        return sorted(out, key=lambda e: (e.last_used, e.namespace, e.key))

    def prune(
        self,
        max_bytes: int | None = None,
        older_than_s: float | None = None,
        namespace: str | None = None,
        keep: Path | None = None,
        now: float | None = None,
    ) -> list[CacheEntry]:
        """Delete entries not used for ``older_than_s`` seconds, then the least recently used until the cache
        holds at most ``max_bytes`` (``keep``: an entry never deleted, e.g. the one just written). Returns the
        deleted entries. Temporary files of writers killed, and lock files unused, for more than a day go too."""
        now = time.time() if now is None else now
        entries = self.entries(namespace)
        total = sum(e.size for e in entries)
        removed = []
        for e in entries:
            old = older_than_s is not None and now - e.last_used > older_than_s
            over = max_bytes is not None and total > max_bytes
            if e.path == keep or not (old or over):
                continue
            with suppress(FileNotFoundError):
                e.path.unlink()
                removed.append(e)
                total -= e.size
        for d in [self.root / namespace] if namespace else (self.root.iterdir() if self.root.is_dir() else []):
            for t in [*d.glob(".*.tmp.npz"), *d.glob(".*.lock")] if d.is_dir() else ():
                with suppress(FileNotFoundError):
                    if now - t.stat().st_mtime > 86_400:
                        t.unlink()
        return removed

    def clear(self, namespace: str | None = None) -> int:
        """Delete the cached entries (of one namespace, or all); return how many entries were removed.

        Temporary files left by killed writers (``.*.tmp.npz``) and the entries' lock files are removed too, but
        not counted (a process still computing keeps its lock and writes its entry; one more waiting then computes
        the same entry again, harmlessly).
        """
        if namespace is not None:
            _check_name(namespace, "namespace")
            dirs = [self.root / namespace]
        else:
            dirs = [p for p in self.root.iterdir() if p.is_dir()] if self.root.is_dir() else []
        removed = 0
        for d in dirs:
            for p in d.glob("*.npz"):
                with suppress(FileNotFoundError):
                    p.unlink()
                    removed += not p.name.startswith(".")
            for p in d.glob(".*.lock"):
                with suppress(FileNotFoundError):
                    p.unlink()
        return removed
