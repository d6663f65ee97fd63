"""PDS3 IMG + LBL DEMs (simple cylindrical and south polar stereographic labels): the label parsed by ``pvl``,
the pixels read with numpy, and the checks a LOLA product needs (the Moon, the sphere radius in OFFSET, float
no-data bit patterns, LOLA's pixel-offset conventions)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ilrs.constants import MOON_RADIUS_M
from ilrs.errors import IlrsError
from ilrs.iotools.geotiff import check_lunar_heights
from ilrs.terrain.dem import Dem
from ilrs.terrain.projection import LonLat, SouthPolarStereographic

_DTYPES = {
    ("LSB_INTEGER", 16): "<i2",
    ("MSB_INTEGER", 16): ">i2",
    ("LSB_INTEGER", 32): "<i4",
    ("MSB_INTEGER", 32): ">i4",
    ("LSB_UNSIGNED_INTEGER", 16): "<u2",
    ("MSB_UNSIGNED_INTEGER", 16): ">u2",
    ("PC_REAL", 32): "<f4",
    ("IEEE_REAL", 32): ">f4",
    ("PC_REAL", 64): "<f8",
    ("IEEE_REAL", 64): ">f8",
    ("UNSIGNED_INTEGER", 8): "u1",
    ("MSB_UNSIGNED_INTEGER", 8): "u1",
    ("LSB_UNSIGNED_INTEGER", 8): "u1",
}
# PDS3 synonyms (PDS Standards Reference, appendix C)
for _alias, _name in (
    ("INTEGER", "MSB_INTEGER"),
    ("MAC_INTEGER", "MSB_INTEGER"),
    ("SUN_INTEGER", "MSB_INTEGER"),
    ("PC_INTEGER", "LSB_INTEGER"),
    ("VAX_INTEGER", "LSB_INTEGER"),
    ("UNSIGNED_INTEGER", "MSB_UNSIGNED_INTEGER"),
    ("PC_UNSIGNED_INTEGER", "LSB_UNSIGNED_INTEGER"),
    ("FLOAT", "IEEE_REAL"),
    ("REAL", "IEEE_REAL"),
    ("MAC_REAL", "IEEE_REAL"),
    ("SUN_REAL", "IEEE_REAL"),
):
    for _bits in (8, 16, 32, 64):
        if (_name, _bits) in _DTYPES and (_alias, _bits) not in _DTYPES:
            _DTYPES[(_alias, _bits)] = _DTYPES[(_name, _bits)]

#: Labels are small; an attached label is read only this far into its file [bytes].
_MAX_LABEL_BYTES = 1 << 20

_HINT_PROJ = "supported: SIMPLE CYLINDRICAL (centre latitude 0), POLAR STEREOGRAPHIC (south pole, lon 0)"


def parse_label(text: str, source: str = "<label>") -> dict:
    """Parse a PDS3 ODL label with ``pvl`` (the PDS community's PVL/ODL parser) into nested dicts.

    Objects and groups become dicts by name; values keep pvl's types: ``int`` (based integers such as
    ``16#FF7FFFFB#`` decoded), ``float``, ``str`` (quotes removed), lists for ``(a, b)`` and
    ``pvl.collections.Quantity`` for a value with a unit (``0.24 <KM/PIXEL>``). A syntax error raises an
    :class:`IlrsError` naming ``source``, the line and the column.
    """
    with warnings.catch_warnings():
        # pvl 1.3 warns, when imported, about its own deprecated Units class (which ilrs does not use)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        import pvl  # here, not at import time: it takes about 0.1 s to import
        from pvl.exceptions import LexerError, ParseError

    try:
        module = pvl.loads(text)
    except (LexerError, ParseError) as exc:
        where = f" at line {exc.lineno}, column {exc.colno}" if getattr(exc, "lineno", None) else ""
        raise IlrsError(
            f"malformed PDS3 label{where}: {getattr(exc, 'msg', exc)}",
            source=source,
            hint="fix the label (PDS3 Standards Reference, chapter 12: Object Description Language)",
        ) from exc

    def plain(block) -> dict:
        return {k: plain(v) if isinstance(v, Mapping) else v for k, v in block.items()}

    return plain(module)


def _is_quantity(v) -> bool:
    """A value with a unit (pvl's ``Quantity``, a named tuple of value and units)."""
    return isinstance(v, tuple) and hasattr(v, "units") and hasattr(v, "value")


def _value(obj: dict, key: str):
    """A label value without its unit."""
    v = obj[key]
    return v.value if _is_quantity(v) else v


def _num(obj: dict, key: str, path: Path, default: float | None = None) -> float:
    if key not in obj and default is not None:
        return default
    try:
        v = _value(obj, key)
        if isinstance(v, bool) or not isinstance(v, int | float | str):
            raise TypeError(key)
        return float(v)
    except KeyError as exc:
        raise IlrsError(f"label lacks {key}", source=str(path), hint="add it to the PDS3 label") from exc
    except (TypeError, ValueError) as exc:
        raise IlrsError(
            f"label value {key} = {obj[key]!r} is not a number", source=str(path), hint="fix the value in the label"
        ) from exc


def _text(obj: dict, key: str, default: str = "") -> str:
    """A label value as upper-case text (names such as SAMPLE_TYPE are written with or without quotes)."""
    v = obj.get(key, default)
    return str(v.value if _is_quantity(v) else v).strip().upper()


def _unit(obj: dict, key: str) -> str:
    v = obj.get(key)
    return str(getattr(v, "units", "")).strip().upper() if _is_quantity(v) else ""


def _read_label_text(path: Path) -> str:
    try:
        with open(path, "rb") as f:
            head = f.read(_MAX_LABEL_BYTES)
    except OSError as exc:
        raise IlrsError(
            f"cannot read the label ({exc.strerror})", source=str(path), hint="check the file's permissions"
        ) from exc
    m = re.search(rb"(^|[\r\n])END[ \t]*(\r?\n|$)", head)
    if m is None or b"=" not in head[: m.start() + 1]:
        raise IlrsError(
            "not a PDS3 label (no 'KEY = VALUE' lines ending in END)",
            source=str(path),
            hint="pass the detached .LBL file (or an IMG with an attached label)",
        )
    return head[: m.end()].decode("latin-1")


def _image_location(label: dict, label_path: Path) -> tuple[Path, int]:
    """The image file and the byte offset of the image in it, from the ``^IMAGE`` pointer: a file name, a
    (file, offset) pair, or an offset into the label's own file (attached label); an offset counts records of
    RECORD_BYTES, or bytes with a ``<BYTES>`` unit, from 1 (PDS3 Standards Reference, 14.1.1)."""
    pointer = label["^IMAGE"]

    def offset_of(spec) -> int:
        is_bytes = _is_quantity(spec) and str(spec.units).strip().upper() in ("BYTES", "BYTE")
        n = spec.value if _is_quantity(spec) else spec
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise IlrsError(
                f"^IMAGE offset {spec!r} is not a positive integer",
                source=str(label_path),
                hint="fix the ^IMAGE pointer",
            )
        if is_bytes:
            return n - 1
        rb = label.get("RECORD_BYTES")
        if isinstance(rb, bool) or not isinstance(rb, int) or rb < 1:
            raise IlrsError(
                "^IMAGE counts records but RECORD_BYTES is missing",
                source=str(label_path),
                hint="add RECORD_BYTES to the label",
            )
        return (n - 1) * rb

    if isinstance(pointer, list | tuple) and len(pointer) == 2 and isinstance(pointer[0], str):
        name, offset = pointer[0], offset_of(pointer[1])
    elif isinstance(pointer, int) or _is_quantity(pointer):  # attached label: the image follows it in the same file
        return label_path, offset_of(pointer)
    elif isinstance(pointer, str):
        name, offset = pointer, 0
    else:
        raise IlrsError(
            f"^IMAGE = {pointer!r} is neither a file name, a (file, offset) pair nor an offset",
            source=str(label_path),
            hint='e.g. ^IMAGE = "LDEM_4.IMG"',
        )
    img_path = label_path.with_name(name)
    if not img_path.exists():
        alt = [p for p in label_path.parent.iterdir() if p.name.lower() == name.lower()]
        if not alt:
            raise IlrsError(
                f"image file {name} named by ^IMAGE not found next to the label",
                source=str(label_path),
                hint=f"put {name} in {label_path.parent}",
            )
        img_path = alt[0]
    return img_path, offset


def read_pds3(label_path: str | Path, name: str | None = None) -> Dem:
    """Read a PDS3 DEM from its label (.LBL, or an IMG with an attached label); heights above the sphere [m].

    Supports simple cylindrical (centre latitude 0, east longitude) and south polar stereographic (centre
    longitude 0) maps, 8-64 bit samples, SCALING_FACTOR/OFFSET (an OFFSET above 1000 km is read as the sphere
    radius, as in LOLA labels) and MISSING_CONSTANT (plain or based integers, e.g. ``16#FF7FFFFB#``).
    """
    label_path = Path(label_path)
    src = str(label_path)
    if not label_path.exists():
        raise IlrsError("label file not found", source=src, hint="give the .LBL next to the .IMG")
    if not label_path.is_file():
        raise IlrsError("not a file", source=src, hint="give the path of a PDS3 .LBL file")
    text = _read_label_text(label_path)
    label = parse_label(text, src)
    image = label.get("IMAGE")
    proj = label.get("IMAGE_MAP_PROJECTION")
    if not isinstance(image, dict) or not isinstance(proj, dict) or not label.get("^IMAGE"):
        absent = [
            k
            for k, ok in (
                ("OBJECT = IMAGE", isinstance(image, dict)),
                ("OBJECT = IMAGE_MAP_PROJECTION", isinstance(proj, dict)),
                ("^IMAGE", bool(label.get("^IMAGE"))),
            )
            if not ok
        ]
        raise IlrsError(
            f"label lacks {', '.join(absent)}",
            source=src,
            hint="a PDS3 DEM label needs IMAGE, IMAGE_MAP_PROJECTION and an ^IMAGE pointer",
        )
    target = _text(label, "TARGET_NAME", "MOON")
    if target != "MOON":
        raise IlrsError(f"TARGET_NAME is {target}, not MOON", source=src, hint="ilrs needs lunar DEMs")
    img_path, start = _image_location(label, label_path)

    lines = _num(image, "LINES", label_path)
    samples = _num(image, "LINE_SAMPLES", label_path)
    bits = _num(image, "SAMPLE_BITS", label_path)
    if lines < 1 or samples < 1 or lines != int(lines) or samples != int(samples):
        raise IlrsError(
            f"LINES = {image['LINES']}, LINE_SAMPLES = {image['LINE_SAMPLES']}: not a grid",
            source=src,
            hint="both must be positive integers",
        )
    if int(_num(image, "BANDS", label_path, 1.0)) != 1:
        raise IlrsError(f"BANDS = {image['BANDS']}: only single-band DEM images are supported", source=src)
    lines, samples = int(lines), int(samples)
    stype = _text(image, "SAMPLE_TYPE")
    dtype = _DTYPES.get((stype, int(bits)))
    if dtype is None:
        raise IlrsError(
            f"unsupported SAMPLE_TYPE {stype or '(missing)'} with SAMPLE_BITS {bits:g}",
            source=src,
            hint=f"supported types: {', '.join(sorted({k[0] for k in _DTYPES}))}",
        )
    scale = _num(image, "SCALING_FACTOR", label_path, 1.0)
    offset = _num(image, "OFFSET", label_path, 0.0)
    prefix = int(_num(image, "LINE_PREFIX_BYTES", label_path, 0.0))
    suffix = int(_num(image, "LINE_SUFFIX_BYTES", label_path, 0.0))
    item = np.dtype(dtype).itemsize
    record = prefix + samples * item + suffix
    nbytes = lines * record
    size = img_path.stat().st_size
    if size < start + nbytes:
        raise IlrsError(
            f"image is truncated: {size} bytes, the label needs {start + nbytes}",
            source=str(img_path),
            hint="copy or download the product again",
        )
    with open(img_path, "rb") as f:
        f.seek(start)
        buf = np.frombuffer(f.read(nbytes), dtype=np.uint8).reshape(lines, record)
    raw = np.ascontiguousarray(buf[:, prefix : prefix + samples * item]).view(dtype).reshape(lines, samples)
    z = raw.astype(np.float64)
    missing_key = next((k for k in ("MISSING_CONSTANT", "MISSING") if k in image), None)
    if missing_key is not None:
        missing = _value(image, missing_key)
        # a based integer (16#FF7FFFFB#) on a float image is a bit pattern, as in LOLA's float products
        based = re.search(rf"^\s*{missing_key}\s*=\s*\d+#", text, flags=re.M) is not None
        if based and raw.dtype.kind == "f" and isinstance(missing, int):
            bits_view = raw.astype(raw.dtype.newbyteorder("=")).view(f"u{item}")
            z[bits_view == missing] = np.nan
        else:
            if isinstance(missing, bool) or not isinstance(missing, int | float):
                raise IlrsError(
                    f"{missing_key} {missing!r} is not a number", source=src, hint="fix the value in the label"
                )
            z[raw == missing] = np.nan
    z = z * scale + offset
    radius_m = _num(proj, "A_AXIS_RADIUS", label_path, MOON_RADIUS_M / 1000.0) * 1000.0
    if not (1_730_000.0 <= radius_m <= 1_745_000.0):
        raise IlrsError(
            f"A_AXIS_RADIUS {radius_m / 1000:g} km is not the Moon's", source=src, hint="ilrs needs lunar DEMs"
        )
    if offset > 1.0e6:  # values are radii; LOLA labels put the sphere radius in OFFSET
        z -= radius_m
    check_lunar_heights(z, str(img_path))

    ptype = _text(proj, "MAP_PROJECTION_TYPE")
    line_off = _num(proj, "LINE_PROJECTION_OFFSET", label_path)
    samp_off = _num(proj, "SAMPLE_PROJECTION_OFFSET", label_path)
    clat = _num(proj, "CENTER_LATITUDE", label_path)
    clon = _num(proj, "CENTER_LONGITUDE", label_path)
    if _num(proj, "MAP_PROJECTION_ROTATION", label_path, 0.0) != 0.0:
        raise IlrsError(
            f"MAP_PROJECTION_ROTATION = {proj['MAP_PROJECTION_ROTATION']}",
            source=src,
            hint="rotated maps are not supported; reproject to a north-up map",
        )
    direction = _text(proj, "POSITIVE_LONGITUDE_DIRECTION", "EAST")
    if ptype in ("SIMPLE CYLINDRICAL", "EQUIRECTANGULAR") and clat == 0.0:
        if direction != "EAST":
            raise IlrsError(
                f"POSITIVE_LONGITUDE_DIRECTION = {direction}",
                source=src,
                hint="only east-positive longitudes are supported",
            )
        res = _num(proj, "MAP_RESOLUTION", label_path)  # pixels per degree
        if res <= 0:
            raise IlrsError(f"MAP_RESOLUTION = {res:g} is not positive", source=src)
        # PDS3: lon = CENTER_LONGITUDE + (sample - SAMPLE_PROJECTION_OFFSET - 1) / MAP_RESOLUTION (1-based)
        x0 = clon + (1 - samp_off - 1) / res
        y0 = clat - (1 - line_off - 1) / res
        return Dem(
            z, x0, y0, 1.0 / res, -1.0 / res, LonLat(lon_origin_deg=x0 - 0.5 / res), name or label_path.stem, src
        )
    if ptype == "POLAR STEREOGRAPHIC" and clat == -90.0 and clon == 0.0:
        unit = _unit(proj, "MAP_SCALE")
        per_pixel_m = {
            "": 1000.0,
            "KM/PIX": 1000.0,
            "KM/PIXEL": 1000.0,
            "KM": 1000.0,
            "M/PIX": 1.0,
            "M/PIXEL": 1.0,
            "METERS/PIXEL": 1.0,
            "METERS/PIX": 1.0,
            "M": 1.0,
        }.get(unit)
        if per_pixel_m is None:
            raise IlrsError(f"MAP_SCALE unit <{unit}> not understood", source=src, hint="use <KM/PIXEL>")
        scale_m = _num(proj, "MAP_SCALE", label_path) * per_pixel_m
        if scale_m <= 0:
            raise IlrsError(f"MAP_SCALE = {proj['MAP_SCALE']} is not positive", source=src)
        # LOLA polar labels: x = (sample - S0 - 1) * scale, y = (1 - line + L0) * scale
        x0 = (1 - samp_off - 1) * scale_m
        y0 = (1 - 1 + line_off) * scale_m
        return Dem(z, x0, y0, scale_m, -scale_m, SouthPolarStereographic(radius_m), name or label_path.stem, src)
    raise IlrsError(
        f"unsupported map projection {ptype or '(missing)'!r} (CENTER_LATITUDE {clat:g}, CENTER_LONGITUDE {clon:g})",
        source=src,
        hint=_HINT_PROJ,
    )
