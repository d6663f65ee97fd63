"""Array type aliases for annotations (numpy dtypes the kernels take; shapes are in the docstrings)."""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

#: float64 array of any shape
FloatArray: TypeAlias = npt.NDArray[np.float64]
#: float32 array (heights as the horizon sweep reads them)
Float32Array: TypeAlias = npt.NDArray[np.float32]
#: float32 or float64 array
AnyFloatArray: TypeAlias = npt.NDArray[np.floating[Any]]
#: int64 array (indices)
IntArray: TypeAlias = npt.NDArray[np.int64]
#: int32 array
Int32Array: TypeAlias = npt.NDArray[np.int32]
#: int16 array (stored horizons, 0.01 deg)
Int16Array: TypeAlias = npt.NDArray[np.int16]
#: signed integers of any width (int16 or int32 work buffers)
AnyIntArray: TypeAlias = npt.NDArray[np.signedinteger[Any]]
#: boolean array
BoolArray: TypeAlias = npt.NDArray[np.bool_]
#: a float or a float64 array: the geometry functions broadcast either
FloatOrArray: TypeAlias = float | npt.NDArray[np.float64]
