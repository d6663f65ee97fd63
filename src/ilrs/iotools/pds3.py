"""PDS3 IMG + LBL DEMs (simple cylindrical and south polar stereographic labels)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ilrs.constants import MOON_RADIUS_M
from ilrs.errors import IlrsError
from ilrs.terrain.dem import Dem
from ilrs.terrain.projection import LonLat, SouthPolarStereographic

_DTYPES = {
    ("LSB_INTEGER", 16): "<i2", ("MSB_INTEGER", 16): ">i2", ("LSB_INTEGER", 32): "<i4",
    ("MSB_INTEGER", 32): ">i4", ("LSB_UNSIGNED_INTEGER", 16): "<u2", ("MSB_UNSIGNED_INTEGER", 16): ">u2",
    ("PC_REAL", 32): "<f4", ("IEEE_REAL", 32): ">f4", ("PC_REAL", 64): "<f8", ("IEEE_REAL", 64): ">f8",
    ("UNSIGNED_INTEGER", 8): "u1", ("MSB_UNSIGNED_INTEGER", 8): "u1", ("LSB_UNSIGNED_INTEGER", 8): "u1",
}


def parse_label(text: str) -> dict:
    """Parse a PDS3 ODL label into nested dicts (objects by name); values stay strings, units stripped."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    root: dict = {}
    stack = [root]
    key = None
    buf = ""
    for raw in text.splitlines():
        line = raw.strip()
        if key is not None:  # continuation of a quoted multi-line value
            buf += " " + line
            if buf.count('"') % 2 == 0:
                stack[-1][key] = buf.strip().strip('"')
                key = None
            continue
        if not line or line == "END":
            continue
        if "=" not in line:
            continue
        k, v = (s.strip() for s in line.split("=", 1))
        if k == "OBJECT":
            obj: dict = {}
            stack[-1][v] = obj
            stack.append(obj)
            continue
        if k == "END_OBJECT":
            if len(stack) > 1:
                stack.pop()
            continue
        if v.count('"') % 2 == 1:
            key, buf = k, v
            continue
        v = re.sub(r"<[^>]*>", "", v).strip().strip('"')
        stack[-1][k] = v
    return root


def _num(obj: dict, key: str, path: Path) -> float:
    try:
        return float(obj[key])
    except KeyError as exc:
        raise IlrsError(f"label lacks {key}", source=str(path), hint="add it to the PDS3 label") from exc
    except ValueError as exc:
        raise IlrsError(f"label value {key} = {obj[key]!r} is not a number", source=str(path)) from exc


def read_pds3(label_path: str | Path, name: str | None = None) -> Dem:
    """Read a PDS3 DEM from its detached label (.LBL) and image (.IMG); heights above the sphere [m]."""
    label_path = Path(label_path)
    if not label_path.exists():
        raise IlrsError("label file not found", source=str(label_path), hint="give the .LBL next to the .IMG")
    try:
        label = parse_label(label_path.read_text(errors="replace"))
    except OSError as exc:
        raise IlrsError(f"cannot read label ({exc})", source=str(label_path)) from exc
    image = label.get("IMAGE")
    proj = label.get("IMAGE_MAP_PROJECTION")
    pointer = label.get("^IMAGE")
    if not isinstance(image, dict) or not isinstance(proj, dict) or not pointer:
        raise IlrsError("label lacks IMAGE, IMAGE_MAP_PROJECTION or ^IMAGE", source=str(label_path),
                        hint="a PDS3 DEM label needs all three")
    img_name = pointer.split(",")[0].strip().strip("()").strip('"')
    img_path = label_path.with_name(img_name)
    if not img_path.exists():
        alt = [p for p in label_path.parent.iterdir() if p.name.lower() == img_name.lower()]
        if not alt:
            raise IlrsError(f"image file {img_name} named by ^IMAGE not found", source=str(label_path))
        img_path = alt[0]
    lines = int(_num(image, "LINES", label_path))
    samples = int(_num(image, "LINE_SAMPLES", label_path))
    stype = image.get("SAMPLE_TYPE", "")
    bits = int(_num(image, "SAMPLE_BITS", label_path))
    dtype = _DTYPES.get((stype, bits))
    if dtype is None:
        raise IlrsError(f"unsupported SAMPLE_TYPE {stype} with SAMPLE_BITS {bits}", source=str(label_path),
                        hint=f"supported: {sorted({k[0] for k in _DTYPES})}")
    scale = float(image.get("SCALING_FACTOR", 1.0))
    offset = float(image.get("OFFSET", 0.0))
    nbytes = lines * samples * np.dtype(dtype).itemsize
    size = img_path.stat().st_size
    if size < nbytes:
        raise IlrsError(f"image is truncated: {size} bytes, the label needs {nbytes}", source=str(img_path),
                        hint="download the product again")
    raw = np.fromfile(img_path, dtype=dtype, count=lines * samples).reshape(lines, samples)
    z = raw.astype(np.float64)
    missing = image.get("MISSING_CONSTANT")
    if missing is not None:
        try:
            z[raw == float(missing)] = np.nan
        except ValueError:
            pass
    z = z * scale + offset
    radius_km = float(proj.get("A_AXIS_RADIUS", MOON_RADIUS_M / 1000.0))
    if offset > 1.0e6:  # values are radii; LOLA labels put the sphere radius in OFFSET
        z -= radius_km * 1000.0
    if not np.isfinite(z).any():
        raise IlrsError("DEM holds no valid height", source=str(img_path))
    ptype = proj.get("MAP_PROJECTION_TYPE", "").upper()
    line_off = _num(proj, "LINE_PROJECTION_OFFSET", label_path)
    samp_off = _num(proj, "SAMPLE_PROJECTION_OFFSET", label_path)
    if ptype in ("SIMPLE CYLINDRICAL", "EQUIRECTANGULAR") and abs(float(proj.get("CENTER_LATITUDE", 0))) < 1e-9:
        res = _num(proj, "MAP_RESOLUTION", label_path)
        clon = _num(proj, "CENTER_LONGITUDE", label_path)
        clat = float(proj.get("CENTER_LATITUDE", 0.0))
        # PDS3: lon = CENTER_LONGITUDE + (sample - SAMPLE_PROJECTION_OFFSET - 1) / MAP_RESOLUTION (1-based)
        x0 = clon + (1 - samp_off - 1) / res
        y0 = clat - (1 - line_off - 1) / res
        return Dem(z, x0, y0, 1.0 / res, -1.0 / res, LonLat(), name or label_path.stem, str(label_path))
    if ptype == "POLAR STEREOGRAPHIC" and float(proj.get("CENTER_LATITUDE", 0)) == -90.0:
        scale_m = _num(proj, "MAP_SCALE", label_path) * 1000.0  # km/pix
        # LOLA polar labels: x = (sample - S0 - 1) * scale, y = (1 - line + L0) * scale
        x0 = (1 - samp_off - 1) * scale_m
        y0 = (1 - 1 + line_off) * scale_m
        return Dem(z, x0, y0, scale_m, -scale_m, SouthPolarStereographic(radius_km * 1000.0),
                   name or label_path.stem, str(label_path))
    raise IlrsError(f"unsupported map projection {ptype!r} (CENTER_LATITUDE {proj.get('CENTER_LATITUDE')})",
                    source=str(label_path),
                    hint="supported: SIMPLE CYLINDRICAL (centre latitude 0) and south POLAR STEREOGRAPHIC")
