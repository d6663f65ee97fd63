"""Tables and documents: CSV of named columns and JSON of results, both written atomically.

CSV follows RFC 4180 (comma separator, fields with a comma, quote or line break quoted, quotes doubled), with
``\\n`` line ends. JSON is strict (RFC 8259): NaN and infinities become ``null``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any

import numpy as np

from ilrs.iotools.atomic import atomic_write_text

_NEEDS_QUOTES = frozenset(',"\r\n')


def _quote(field: str) -> str:
    if _NEEDS_QUOTES.isdisjoint(field):
        return field
    return '"' + field.replace('"', '""') + '"'


def _object_field(value: Any, na_rep: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return na_rep
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _column_strings_or_values(name: str, col: np.ndarray, float_format: str, na_rep: str) -> tuple[str, list]:
    """The %-conversion for one column and its values (as Python objects that conversion accepts)."""
    kind = col.dtype.kind
    if kind == "f":
        values = col.tolist()
        if na_rep != "nan" and np.isnan(col).any():
            strings = np.array([float_format % v for v in values], dtype=object)
            strings[np.isnan(col)] = na_rep
            return "%s", strings.tolist()
        return float_format, values
    if kind in "iu":
        return "%d", col.tolist()
    if kind == "b":
        return "%s", np.where(col, "true", "false").tolist()
    if kind == "M":
        strings = np.datetime_as_string(col, timezone="UTC").astype(object)
        strings[np.isnat(col)] = na_rep
        return "%s", [_quote(s) for s in strings.tolist()]
    if kind == "m":
        seconds = col / np.timedelta64(1, "s")
        return _column_strings_or_values(name, seconds, float_format, na_rep)
    if kind in "US":
        values = col.astype(str).tolist()
        return "%s", [_quote(s) for s in values]
    if kind == "O":
        return "%s", [_quote(_object_field(v, na_rep)) for v in col.tolist()]
    raise TypeError(f"column {name!r}: cannot write dtype {col.dtype} to CSV")


def write_csv(
    path: str | os.PathLike[str],
    columns: Mapping[str, Any],
    float_format: str | Mapping[str, str] = "%.9g",
    *,
    na_rep: str = "nan",
) -> Path:
    """Write named 1-D columns as a CSV file with a header row, atomically; return the path.

    Parameters
    ----------
    path
        The file to write (replaced atomically).
    columns
        Column name -> 1-D array-like, all of one length. Floats use ``float_format``; integers ``%d``;
        booleans ``true``/``false``; ``datetime64`` ISO 8601 UTC with ``Z``; ``timedelta64`` seconds;
        strings and objects ``str()`` (datetimes ``isoformat()``), quoted where needed.
    float_format
        A %-format for one float (``"%.3f"``), or a mapping column -> format (others ``"%.9g"``).
    na_rep
        Text for NaN, NaT and None.
    """
    if not columns:
        raise ValueError("write_csv needs at least one column")
    arrays = {str(name): np.asarray(col) for name, col in columns.items()}
    lengths = {name: a.shape for name, a in arrays.items()}
    if any(len(shape) != 1 for shape in lengths.values()) or len({s[0] for s in lengths.values()}) != 1:
        raise ValueError(f"CSV columns must be 1-D and of one length; got shapes {lengths}")
    specs: list[str] = []
    values: list[list] = []
    for name, col in arrays.items():
        fmt = float_format.get(name, "%.9g") if isinstance(float_format, Mapping) else float_format
        try:
            probe = fmt % 1.5
        except (TypeError, ValueError) as exc:
            raise ValueError(f"float format {fmt!r} for column {name!r} does not format one number") from exc
        if not _NEEDS_QUOTES.isdisjoint(probe):
            raise ValueError(f"float format {fmt!r} for column {name!r} writes a separator or quote")
        spec, vals = _column_strings_or_values(name, col, fmt, na_rep)
        specs.append(spec)
        values.append(vals)
    header = ",".join(_quote(name) for name in arrays)
    row_format = ",".join(specs)
    # one C-level %-formatting per row: about 1 s per million rows of six columns
    body = "\n".join(map(row_format.__mod__, zip(*values, strict=True)))
    return atomic_write_text(path, header + "\n" + body + ("\n" if body else ""))


def to_jsonable(obj: Any, where: str = "$") -> Any:
    """A structure of dict/list/str/int/float/bool/None equal to ``obj`` (numpy, datetimes, paths, enums,
    dataclasses converted; NaN and infinities to None)."""
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, int) and not isinstance(obj, enum.Enum):
        return int(obj)
    if isinstance(obj, float):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.datetime64):
        return None if np.isnat(obj) else str(np.datetime_as_string(obj, timezone="UTC"))
    if isinstance(obj, np.timedelta64):
        return None if np.isnat(obj) else float(obj / np.timedelta64(1, "s"))
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item(), where)
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "Mm":
            return [to_jsonable(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        return to_jsonable(obj.tolist(), where)
    if isinstance(obj, Mapping):
        out = {}
        for k, v in obj.items():
            if isinstance(k, np.generic):
                k = k.item()
            if isinstance(k, enum.Enum):
                k = k.value
            if not isinstance(k, str | int | float | bool) and k is not None:
                raise TypeError(f"write_json: key {k!r} at {where} is a {type(k).__qualname__}, not a string")
            key = k if isinstance(k, str) else json.dumps(k)
            out[key] = to_jsonable(v, f"{where}.{key}")
        return out
    if isinstance(obj, list | tuple):
        return [to_jsonable(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, set | frozenset):
        items = [to_jsonable(v, f"{where}{{}}") for v in obj]
        try:
            return sorted(items)
        except TypeError:
            return items
    if isinstance(obj, dt.datetime | dt.date | dt.time):
        return obj.isoformat()
    if isinstance(obj, dt.timedelta):
        return obj.total_seconds()
    if isinstance(obj, PurePath):
        return str(obj)
    if isinstance(obj, enum.Enum):
        return to_jsonable(obj.value, where)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name), f"{where}.{f.name}") for f in dataclasses.fields(obj)}
    raise TypeError(f"write_json: cannot write a {type(obj).__qualname__} at {where}")


def write_json(path: str | os.PathLike[str], obj: Any, *, indent: int | None = 2, sort_keys: bool = False) -> Path:
    """Write ``obj`` as strict UTF-8 JSON, atomically; return the path. See :func:`to_jsonable`."""
    text = json.dumps(to_jsonable(obj), indent=indent, sort_keys=sort_keys, ensure_ascii=False, allow_nan=False)
    return atomic_write_text(path, text + "\n")
