"""The only place numba is configured.

``ILRS_NO_JIT=1`` runs every kernel as plain Python (for debugging and for coverage).
"""

from __future__ import annotations

import os

import numba

NO_JIT = os.environ.get("ILRS_NO_JIT", "") not in ("", "0")


def jit(*args, parallel: bool = False, **kwargs):
    """``numba.njit`` with the project's defaults (cache on disk, fastmath off for reproducibility)."""
    options = {"cache": True, "nogil": True, "parallel": parallel, "error_model": "numpy"}
    options.update(kwargs)

    def wrap(func):
        if NO_JIT:
            return func
        return numba.njit(**options)(func)

    if args and callable(args[0]):
        return wrap(args[0])
    return wrap


prange = range if NO_JIT else numba.prange


def threads() -> int:
    """Worker threads numba's parallel loops use (1 without JIT)."""
    return 1 if NO_JIT else numba.get_num_threads()
