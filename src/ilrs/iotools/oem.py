"""CCSDS Orbit Ephemeris Message (OEM) in KVN text: one segment of states, written atomically and read back.

Format: CCSDS 502.0-B-2, "Orbit Data Messages", Blue Book (2009), section 5, OEM version 2.0 (the 2023 issue
502.0-B-3 defines version 3.0 on the same KVN layout, adding optional keys). Header keys in the standard's order:
CCSDS_OEM_VERS, CREATION_DATE, ORIGINATOR. Metadata between META_START and META_STOP, in order: OBJECT_NAME,
OBJECT_ID, CENTER_NAME, REF_FRAME, TIME_SYSTEM, START_TIME, STOP_TIME. Data lines: ``epoch x y z vx vy vz``
in km and km/s. Optional: COMMENT lines after META_START, and INTERPOLATION / INTERPOLATION_DEGREE after
STOP_TIME. The writer takes plain arrays, so it does not depend on ``ilrs.transport``.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ilrs.errors import IlrsError
from ilrs.iotools.atomic import atomic_path

OEM_VERSION = "2.0"
#: Decimals written: 1 mm in position, 1 um/s in velocity (far below any transfer's own error).
POSITION_DECIMALS = 6
VELOCITY_DECIMALS = 9
HEADER_KEYS = ("CCSDS_OEM_VERS", "CREATION_DATE", "ORIGINATOR")
METADATA_KEYS = ("OBJECT_NAME", "OBJECT_ID", "CENTER_NAME", "REF_FRAME", "TIME_SYSTEM", "START_TIME", "STOP_TIME")
#: CCSDS ASCII time code A (calendar) or B (day of year), as 502.0-B-2 allows for epochs.
_EPOCH_RE = re.compile(r"^\d{4}-(\d{2}-\d{2}|\d{3})T\d{2}:\d{2}:\d{2}(\.\d+)?Z?$")


#: J2000 as a TDB calendar label: SPICE's ET counts SI seconds of TDB from it, and TDB has no leap seconds.
_J2000_TDB_US = np.datetime64("2000-01-01T12:00:00", "us")


def et_to_tdb_iso(et) -> list[str]:
    """Seconds past J2000 TDB -> CCSDS ASCII time code A in TDB to the microsecond (``TIME_SYSTEM = TDB``)."""
    us = np.round(np.atleast_1d(np.asarray(et, dtype=float)) * 1e6).astype(np.int64)
    return [str(x) for x in _J2000_TDB_US + us.astype("timedelta64[us]")]


def tdb_iso_to_et(epochs) -> np.ndarray:
    """Inverse of :func:`et_to_tdb_iso` (calendar TDB labels -> seconds past J2000 TDB)."""
    t = np.array([np.datetime64(str(e).rstrip("Z"), "us") for e in np.atleast_1d(epochs)])
    return (t - _J2000_TDB_US).astype(np.int64) * 1e-6


def _check_epochs(epochs: list[str]) -> None:
    for e in epochs:
        if not _EPOCH_RE.match(e):
            raise IlrsError(f"epoch {e!r} is not a CCSDS ASCII time", hint="use e.g. 2026-03-01T00:00:00.000")
    # Fixed-width ISO strings sort like the times they name.
    if any(b <= a for a, b in zip(epochs, epochs[1:], strict=False)):
        raise IlrsError("OEM epochs must increase strictly", hint="sort the states and drop duplicates")


def write_oem(
    path: str | os.PathLike[str],
    epochs_utc_iso,
    positions_km,
    velocities_km_s,
    *,
    object_name: str,
    object_id: str,
    center_name: str = "EARTH",
    ref_frame: str = "EME2000",
    time_system: str = "UTC",
    originator: str = "ILRS",
    comments: list[str] | tuple[str, ...] = (),
    interpolation: str | None = None,
    interpolation_degree: int | None = None,
) -> Path:
    """Write one OEM segment atomically.

    Parameters
    ----------
    path : path-like
    epochs_utc_iso : list of str or ndarray of str, shape (n,)
        Epochs in ``time_system``, CCSDS ASCII time code A or B, strictly increasing.
    positions_km : array_like, shape (n, 3)
        Positions relative to ``center_name`` in ``ref_frame`` [km].
    velocities_km_s : array_like, shape (n, 3)
        Velocities [km/s].
    object_name, object_id : str
        Spacecraft name and its international designator (or a local identifier).
    comments : sequence of str
        COMMENT lines, written at the start of the metadata block (502.0-B-2 allows them there).
    interpolation, interpolation_degree : str, int, optional
        The metadata keys INTERPOLATION (e.g. ``HERMITE``, ``LAGRANGE``) and INTERPOLATION_DEGREE, written after
        STOP_TIME as the standard orders them: how a reader should interpolate between the states.

    Returns
    -------
    Path
        ``path``.
    """
    epochs = [str(e) for e in np.asarray(epochs_utc_iso).ravel()]
    pos = np.asarray(positions_km, dtype=float)
    vel = np.asarray(velocities_km_s, dtype=float)
    n = len(epochs)
    if n == 0 or pos.shape != (n, 3) or vel.shape != (n, 3):
        raise IlrsError(
            "OEM needs n >= 1 epochs with (n, 3) positions and velocities",
            hint=f"got {n} epochs, positions {pos.shape}, velocities {vel.shape}",
        )
    if not (np.isfinite(pos).all() and np.isfinite(vel).all()):
        raise IlrsError("OEM states must be finite", hint="drop or fix NaN/inf states before writing")
    _check_epochs(epochs)
    for name, value in (
        ("object_name", object_name),
        ("object_id", object_id),
        ("center_name", center_name),
        ("ref_frame", ref_frame),
        ("time_system", time_system),
        ("originator", originator),
    ):
        if not value or "\n" in value or "=" in value:
            raise IlrsError(f"OEM {name} must be a non-empty single-line value without '='", hint=repr(value))

    for c in comments:
        if "\n" in c:
            raise IlrsError("OEM comments must be single lines", hint=repr(c))
    if (interpolation is None) != (interpolation_degree is None):
        raise IlrsError("give INTERPOLATION and INTERPOLATION_DEGREE together", hint=f"{interpolation!r}")
    degree = 0 if interpolation_degree is None else int(interpolation_degree)
    if interpolation is not None and (
        interpolation not in ("HERMITE", "LAGRANGE", "LINEAR") or not 1 <= degree <= n - 1
    ):
        raise IlrsError(
            f"interpolation {interpolation!r} of degree {interpolation_degree} is not valid for {n} states",
            hint="HERMITE, LAGRANGE or LINEAR, degree in [1, n - 1]",
        )
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    lines = [
        f"CCSDS_OEM_VERS = {OEM_VERSION}",
        f"CREATION_DATE = {created}",
        f"ORIGINATOR = {originator}",
        "",
        "META_START",
        *(f"COMMENT {c}" for c in comments),
        f"OBJECT_NAME = {object_name}",
        f"OBJECT_ID = {object_id}",
        f"CENTER_NAME = {center_name}",
        f"REF_FRAME = {ref_frame}",
        f"TIME_SYSTEM = {time_system}",
        f"START_TIME = {epochs[0]}",
        f"STOP_TIME = {epochs[-1]}",
        *(
            [f"INTERPOLATION = {interpolation}", f"INTERPOLATION_DEGREE = {degree}"]
            if interpolation is not None
            else []
        ),
        "META_STOP",
        "",
    ]
    pf, vf = f"{{:.{POSITION_DECIMALS}f}}", f"{{:.{VELOCITY_DECIMALS}f}}"
    for e, p, v in zip(epochs, pos, vel, strict=True):
        lines.append(" ".join([e, *(pf.format(x) for x in p), *(vf.format(x) for x in v)]))
    text = "\n".join(lines) + "\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="ascii")
    return Path(path)


def read_oem(path: str | os.PathLike[str]) -> dict:
    """Parse a one-segment OEM written by :func:`write_oem` (or any KVN OEM without covariance).

    Returns
    -------
    dict
        ``header`` and ``metadata`` (dicts in file order), ``comments`` (list of str), ``epochs`` (list of str),
        ``positions_km`` (n, 3) [km], ``velocities_km_s`` (n, 3) [km/s].
    """
    path = Path(path)
    try:
        raw = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise IlrsError(f"cannot read OEM: {exc}", source=str(path)) from exc
    header: dict[str, str] = {}
    comments: list[str] = []
    metadata: dict[str, str] = {}
    epochs: list[str] = []
    states: list[list[float]] = []
    section = "header"
    for lineno, line in enumerate(raw.splitlines(), start=1):
        s = line.strip()
        if not s:
            continue
        if s.startswith("COMMENT"):
            comments.append(s[len("COMMENT") :].strip())
            continue
        if s == "META_START":
            if section != "header":
                raise IlrsError("only one-segment OEMs are supported", source=f"{path}:{lineno}")
            section = "meta"
            continue
        if s == "META_STOP":
            section = "data"
            continue
        if s.startswith("COVARIANCE_START"):
            raise IlrsError("OEM covariance sections are not supported", source=f"{path}:{lineno}")
        if section in ("header", "meta"):
            key, sep, value = s.partition("=")
            if not sep:
                raise IlrsError(f"expected KEY = value, got {s!r}", source=f"{path}:{lineno}")
            (header if section == "header" else metadata)[key.strip()] = value.strip()
            continue
        tokens = s.split()
        if len(tokens) not in (7, 10):  # 10: with optional accelerations, which are not returned
            raise IlrsError(
                f"data line needs epoch and 6 (or 9) numbers, got {len(tokens)} fields", source=f"{path}:{lineno}"
            )
        try:
            states.append([float(t) for t in tokens[1:7]])
        except ValueError as exc:
            raise IlrsError(f"bad number in data line: {exc}", source=f"{path}:{lineno}") from exc
        epochs.append(tokens[0])
    if header.get("CCSDS_OEM_VERS") is None or not metadata:
        raise IlrsError("not a CCSDS OEM: header or metadata missing", source=str(path))
    arr = np.array(states, dtype=float).reshape(-1, 6)
    return {
        "header": header,
        "metadata": metadata,
        "comments": comments,
        "epochs": epochs,
        "positions_km": arr[:, :3],
        "velocities_km_s": arr[:, 3:],
    }
