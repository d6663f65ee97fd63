"""The on-disk encoding of a horizon cube: quantised to 0.03 deg, predicted, and Huffman-coded in azimuth chunks.

A horizon map of the 240 m DEM (1536 x 1536 cells x 360 azimuths, int16 hundredths of a degree) is 1.7 GB raw.
Stored this way it takes about 0.26 GB (measured on the embedded LOLA map: see docs/horizons.md):

1. **Quantisation**: every value is rounded to the nearest multiple of :data:`QUANT_UNITS` (3 hundredths of a
   degree, so a step of :data:`QUANT_STEP_DEG` = 0.03 deg). The decoded value differs from the sweep's 0.01 deg
   value by at most one hundredth (:data:`QUANT_MAX_ERROR_DEG` = 0.01 deg; 0.015 deg from the exact elevation,
   against the sweep's own 99th-percentile error of about 0.007 deg and maximum of about 0.1 deg). Rounding to 3
   units costs no more worst-case error than rounding to 2 (a value is never more than one unit from a multiple
   of 3) and compresses better. ``NO_HORIZON`` (-9000) is a multiple of 3 and is kept exactly.
2. **Prediction** within each chunk of :data:`CHUNK_AZIMUTHS` azimuth planes: ``q[k, i, j]`` is predicted by
   ``q[k-1, i, j] + q[k, i, j-1] - q[k-1, i, j-1]`` (the previous azimuth plus the change along the row), the
   chunk's first plane by its left neighbour. The residual is the second difference: a difference along
   azimuth, then along columns, so decoding is two cumulative sums in integers (exact).
3. **Coding**: residuals as int8 bytes (the rare ones outside [-127, 127], about 3 in 1e5, are kept as
   exceptions with their positions), deflated with zlib's Huffman-only strategy: the residuals are nearly
   independent, so the per-symbol code is within a few per cent of their entropy and much faster than LZ77.

The encoded cube is a dict of plain arrays (the disk cache stores them in an ``.npz`` with its CRC checks). The
quantisation is lossy by design; the coding after it is lossless: ``decode(encode(h)) == quantise(h)``.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ilrs.core._jit import jit
from ilrs.core.arrays import Int16Array, IntArray

#: Quantisation step in stored units (hundredths of a degree) and in degrees.
QUANT_UNITS = 3
QUANT_STEP_DEG = 0.03
#: Largest difference between a decoded value and the 0.01 deg value it came from [deg].
QUANT_MAX_ERROR_DEG = 0.01
#: Azimuth planes per independently coded chunk (38 MB of residuals for the 1536 x 1536 map; a
#: chunk's first plane, predicted along its rows only, costs about 1.6 times the others).
CHUNK_AZIMUTHS = 16
#: Version of this layout, stored with every encoded cube.
CODEC_VERSION = 1
_ESCAPE = 127


def quantise(stored: np.ndarray, out: np.ndarray | None = None) -> Int16Array:
    """``stored`` (int16, 0.01 deg) rounded to the nearest multiple of :data:`QUANT_UNITS`, as int16, into
    ``out`` (``out=stored`` rounds in place: no second cube in memory)."""
    a = np.asarray(stored)
    if a.dtype != np.int16:
        raise ValueError(f"horizon cube must be int16 hundredths of a degree, not {a.dtype}")
    if out is None:
        out = np.empty_like(a)
    for k in range(a.shape[0]):  # plane by plane: no int32 copy of the whole cube
        out[k] = _quantise_plane(a[k])
    return out


def _quantise_plane(plane: np.ndarray) -> np.ndarray:
    # floor((v + 1) / 3) * 3 is the nearest multiple of 3 (no ties: 3 is odd), exact in int32
    v = plane.astype(np.int32)
    return (np.floor_divide(v + QUANT_UNITS // 2, QUANT_UNITS) * QUANT_UNITS).astype(np.int16)


@jit
def _residuals(q: Int16Array, r8: np.ndarray, exc_val: Int16Array) -> int:
    """Residuals of planes ``q`` into ``r8`` (flat; -128 where outside int8, the value then appended to
    ``exc_val``); returns how many exceptions were written, or -1 if a value is not a multiple of QUANT_UNITS."""
    n_k, rows, cols = q.shape
    n_exc = 0
    p = 0
    for k in range(n_k):
        for i in range(rows):
            left = 0  # u[k, i, j-1] - u[k-1, i, j-1] (0 before the row)
            for j in range(cols):
                # QUANT_UNITS is a compile-time constant here: a multiply and shift, not a division
                u = q[k, i, j] // QUANT_UNITS
                if u * QUANT_UNITS != q[k, i, j]:
                    return -1
                up = q[k - 1, i, j] // QUANT_UNITS if k > 0 else 0
                d = u - up
                r = d - left
                left = d
                if r >= _ESCAPE or r <= -_ESCAPE:
                    r8[p] = -128
                    if n_exc < exc_val.shape[0]:
                        exc_val[n_exc] = r
                    n_exc += 1
                else:
                    r8[p] = r
                p += 1
    return n_exc


@jit
def _reconstruct(r8: np.ndarray, exc_idx: IntArray, exc_val: Int16Array, out: Int16Array) -> int:
    """Invert :func:`_residuals` into ``out`` (shape of the chunk); returns the exceptions used."""
    n_k, rows, cols = out.shape
    e = 0
    p = 0
    for k in range(n_k):
        for i in range(rows):
            left = 0
            for j in range(cols):
                r = int(r8[p])
                if e < exc_idx.shape[0] and exc_idx[e] == p:
                    r = int(exc_val[e])
                    e += 1
                d = r + left
                left = d
                up = out[k - 1, i, j] // QUANT_UNITS if k > 0 else 0
                out[k, i, j] = (up + d) * QUANT_UNITS
                p += 1
    return e


def _encode_chunk(q: np.ndarray) -> tuple[bytes, np.ndarray, np.ndarray]:
    """(deflated int8 residuals, flat positions and values of the residuals outside int8) of planes ``q``."""
    q = np.ascontiguousarray(q)
    r8 = np.empty(q.size, dtype=np.int8)
    exc_val = np.empty(q.size // 64 + 1024, dtype=np.int16)
    n_exc = _residuals(q, r8, exc_val)
    if n_exc < 0:
        raise ValueError("horizon cube is not quantised: pass it through quantise() first")
    if n_exc > exc_val.size:  # a cube of noise: the kernel stopped recording exceptions at the buffer's end
        raise ValueError("horizon cube too irregular to encode")
    exc = np.flatnonzero(r8 == -128)
    comp = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_HUFFMAN_ONLY)
    blob = comp.compress(r8.data) + comp.flush()
    return blob, exc.astype(np.int64), exc_val[:n_exc].copy()


def encode(q: np.ndarray, workers: int = 2) -> dict[str, np.ndarray]:
    """Encode a quantised cube (:func:`quantise`'s output, shape (n_az, rows, cols)) into plain arrays."""
    q = np.asarray(q)
    if q.ndim != 3 or q.dtype != np.int16:
        raise ValueError(f"horizon cube must be int16 of shape (n_az, rows, cols), not {q.dtype} {q.shape}")
    starts = list(range(0, q.shape[0], CHUNK_AZIMUTHS))
    with ThreadPoolExecutor(max(1, workers)) as pool:  # zlib and numpy release the GIL
        parts = list(pool.map(lambda k0: _encode_chunk(q[k0 : k0 + CHUNK_AZIMUTHS]), starts))
    blobs = [p[0] for p in parts]
    offsets = np.zeros(len(parts) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(b) for b in blobs])
    exc_offsets = np.zeros(len(parts) + 1, dtype=np.int64)
    exc_offsets[1:] = np.cumsum([p[1].size for p in parts])
    return {
        "codec_version": np.array(CODEC_VERSION, dtype=np.int64),
        "shape": np.array(q.shape, dtype=np.int64),
        "quant_units": np.array(QUANT_UNITS, dtype=np.int64),
        "quant_step_deg": np.array(QUANT_STEP_DEG),
        "quant_max_error_deg": np.array(QUANT_MAX_ERROR_DEG),
        "chunk_azimuths": np.array(CHUNK_AZIMUTHS, dtype=np.int64),
        "codes": np.frombuffer(b"".join(blobs), dtype=np.uint8),
        "code_offsets": offsets,
        "exc_index": np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int64),
        "exc_value": np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, np.int16),
        "exc_offsets": exc_offsets,
    }


def is_encoded(arrays: Mapping[str, np.ndarray]) -> bool:
    """True if ``arrays`` hold an encoded cube of this codec's version."""
    return "codes" in arrays and int(arrays.get("codec_version", -1)) == CODEC_VERSION


def decode(arrays: Mapping[str, np.ndarray], workers: int = 2) -> Int16Array:
    """The quantised cube (int16, 0.01 deg units) from :func:`encode`'s arrays; ValueError if they disagree."""
    if not is_encoded(arrays):
        raise ValueError(f"not an encoded horizon cube of codec version {CODEC_VERSION}")
    n_az, rows, cols = (int(v) for v in arrays["shape"])
    if int(arrays["quant_units"]) != QUANT_UNITS:
        raise ValueError(f"encoded horizon cube: quantisation step {int(arrays['quant_units'])}, not {QUANT_UNITS}")
    chunk = int(arrays["chunk_azimuths"])
    codes = arrays["codes"]
    off = arrays["code_offsets"]
    exc_off = arrays["exc_offsets"]
    out = np.empty((n_az, rows, cols), dtype=np.int16)
    starts = list(range(0, n_az, chunk))
    if len(off) != len(starts) + 1 or len(exc_off) != len(starts) + 1:
        raise ValueError("encoded horizon cube: chunk table does not match its shape")

    def one(c: int) -> None:
        k0 = starts[c]
        k1 = min(n_az, k0 + chunk)
        raw = zlib.decompress(codes[off[c] : off[c + 1]].tobytes())
        n = (k1 - k0) * rows * cols
        if len(raw) != n:
            raise ValueError(f"encoded horizon cube: chunk {c} holds {len(raw)} residuals, not {n}")
        idx = np.ascontiguousarray(arrays["exc_index"][exc_off[c] : exc_off[c + 1]])
        val = np.ascontiguousarray(arrays["exc_value"][exc_off[c] : exc_off[c + 1]])
        used = _reconstruct(np.frombuffer(raw, dtype=np.int8), idx, val, out[k0:k1])
        if used != idx.size:
            raise ValueError(f"encoded horizon cube: chunk {c} has exceptions at positions it does not code")

    with ThreadPoolExecutor(max(1, workers)) as pool:
        list(pool.map(one, range(len(starts))))
    return out
