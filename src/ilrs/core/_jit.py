"""The only place numba is configured.

``ILRS_NO_JIT=1`` runs every kernel as plain Python (for debugging and for coverage).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar, cast, overload

import numba

NO_JIT = os.environ.get("ILRS_NO_JIT", "") not in ("", "0")

_F = TypeVar("_F", bound=Callable[..., Any])


@overload
def jit(func: _F, /) -> _F: ...
@overload
def jit(*, parallel: bool = False, **kwargs: Any) -> Callable[[_F], _F]: ...
def jit(*args: Any, parallel: bool = False, **kwargs: Any) -> Any:
    """``numba.njit`` with the project's defaults (cache on disk, fastmath off for reproducibility).

    Typed as returning the function itself: a numba dispatcher is called with the function's arguments and
    returns its result, and without JIT it is the function.
    """
    options: dict[str, Any] = {"cache": True, "nogil": True, "parallel": parallel, "error_model": "numpy"}
    options.update(kwargs)

    def wrap(func: _F) -> _F:
        if NO_JIT:
            return func
        return cast(_F, numba.njit(**options)(func))

    if args and callable(args[0]):
        return wrap(args[0])
    return wrap


prange = range if NO_JIT else numba.prange


def threads() -> int:
    """Worker threads numba's parallel loops use (1 without JIT)."""
    return 1 if NO_JIT else numba.get_num_threads()


def set_threads(n: int) -> None:
    """Use ``n`` threads in numba's parallel loops from now on in this thread (a Dask worker process running one
    task at a time per core sets 1, so that workers do not oversubscribe the cores)."""
    if not NO_JIT:
        numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))  # type: ignore[attr-defined]
