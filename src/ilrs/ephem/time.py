"""Time scales: UTC at the edges, seconds TDB past J2000 (SPICE ET) inside, vectorised over arrays.

The UTC -> TAI leap-second table and the TDB - TT model are read from the loaded leapseconds kernel
(``DELTET/*`` variables) and applied exactly as SPICE does (``DELTET``: TDB - TT = K sin E, E = M + EB sin M,
M = M0 + M1 t), so :func:`to_et` agrees with ``spiceypy.str2et`` to well below a microsecond without one SPICE
call per epoch.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
import warnings
from dataclasses import dataclass

import numpy as np
import spiceypy

from ilrs.constants import SAMPLE_WINDOWS
from ilrs.ephem.kernels import ensure_loaded
from ilrs.errors import IlrsError

__all__ = ["to_et", "et_to_utc", "utc_grid", "parse_step", "check_coverage", "coverage", "MAX_GRID_STEPS"]

#: Largest number of steps :func:`utc_grid` builds (50 million float64 epochs = 400 MB).
MAX_GRID_STEPS = 50_000_000

#: Margin kept inside the kernels' span [s]: room for the Sun's light time (~500 s) and interpolation nodes.
COVERAGE_MARGIN_S = 86_400.0

#: J2000 (2000-01-01T12:00:00) as a UTC calendar label; "naive" UTC seconds count 86400 s per day from it.
_J2000_LABEL_US = np.datetime64("2000-01-01T12:00:00", "us")
_J2000_DAY = np.datetime64("2000-01-01", "D")

_STEP_UNITS_S = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_STEP_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([smhd]?)\s*$")
_LEAP_SECOND_RE = re.compile(r"^(.*[T ]\d\d:\d\d:)60(\.\d*)?$")


@dataclass(frozen=True)
class _Deltet:
    """The LSK's ``DELTET/*`` variables: leap-second table and TDB - TT constants (SPICE ``DELTET``)."""

    leap_epochs: np.ndarray  # naive UTC seconds past J2000 at which each DELTA_AT value starts [s]
    leap_values: np.ndarray  # TAI - UTC from that epoch [s]
    delta_t_a: float  # TT - TAI [s]
    k: float  # [s]
    eb: float  # [-]
    m0: float  # [rad]
    m1: float  # [rad/s]


@functools.cache
def _deltet() -> _Deltet:
    ensure_loaded()
    table = spiceypy.gdpool("DELTET/DELTA_AT", 0, 1000)
    m = spiceypy.gdpool("DELTET/M", 0, 2)
    return _Deltet(
        leap_epochs=np.asarray(table[1::2], dtype=float),
        leap_values=np.asarray(table[0::2], dtype=float),
        delta_t_a=float(spiceypy.gdpool("DELTET/DELTA_T_A", 0, 1)[0]),
        k=float(spiceypy.gdpool("DELTET/K", 0, 1)[0]),
        eb=float(spiceypy.gdpool("DELTET/EB", 0, 1)[0]),
        m0=float(m[0]),
        m1=float(m[1]),
    )


def _tdb_minus_tt(t: np.ndarray, d: _Deltet) -> np.ndarray:
    """TDB - TT [s] at ``t`` seconds past J2000 (SPICE ``DELTET`` model; 1.7 ms amplitude)."""
    m = d.m0 + d.m1 * t
    return d.k * np.sin(m + d.eb * np.sin(m))


def _leap_seconds(naive_utc_s: np.ndarray, d: _Deltet) -> np.ndarray:
    """TAI - UTC [s]; before the table's first entry (1972) SPICE uses the first value less 1 s, as do we."""
    i = np.searchsorted(d.leap_epochs, naive_utc_s, side="right") - 1
    return np.where(i >= 0, d.leap_values[np.clip(i, 0, None)], d.leap_values[0] - 1.0)


# ---------------------------------------------------------------------------------------------- parsing UTC


def _datetime_to_us(value: _dt.datetime) -> np.datetime64:
    if value.tzinfo is not None:
        value = value.astimezone(_dt.UTC).replace(tzinfo=None)
    return np.datetime64(value, "us")


def _parse_one_string(text: str) -> tuple[np.datetime64, float]:
    """One UTC string -> (label, extra seconds); the slow path for offsets and leap seconds (:60)."""
    stripped = text.strip()
    extra = 0.0
    leap = _LEAP_SECOND_RE.match(stripped)
    if leap:
        stripped = leap.group(1) + "59" + (leap.group(2) or "")
        extra = 1.0
    try:
        value = _dt.datetime.fromisoformat(stripped)
    except ValueError:
        raise IlrsError(
            f"cannot read {text!r} as a UTC time",
            source="times",
            hint="use ISO 8601, e.g. '2030-01-01', '2030-01-01T06:30:00' or '2030-01-01T06:30:00Z'",
        ) from None
    return _datetime_to_us(value), extra


def _parse_strings(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    flat = np.char.strip(values.astype(str).ravel())
    # numpy parses ISO 8601 without a zone designator; a trailing 'Z' only means UTC, which we assume anyway.
    no_z = np.where(np.char.endswith(np.char.upper(flat), "Z"), np.char.rstrip(flat, "Zz"), flat)
    extra = np.zeros(flat.shape)
    try:
        with warnings.catch_warnings():
            # numpy warns on (and may drop) '+hh:mm' offsets: those strings take the slow path.
            warnings.simplefilter("error")
            labels = no_z.astype("datetime64[us]")
    except (ValueError, UserWarning, DeprecationWarning):
        labels = np.empty(flat.shape, dtype="datetime64[us]")
        for i, text in enumerate(flat):
            labels[i], extra[i] = _parse_one_string(str(text))
    return labels.reshape(values.shape), extra.reshape(values.shape)


def _as_utc_labels(times) -> tuple[np.ndarray, np.ndarray]:
    """Any supported UTC input -> (datetime64[us] calendar labels, extra seconds for leap-second labels)."""
    if isinstance(times, str | _dt.datetime | _dt.date | np.datetime64):
        times = [times]
    arr = np.asarray(times)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.size == 0:
        return np.empty(arr.shape, dtype="datetime64[us]"), np.zeros(arr.shape)
    if np.issubdtype(arr.dtype, np.datetime64):
        labels = arr.astype("datetime64[us]")
        extra = np.zeros(arr.shape)
    elif arr.dtype.kind in "US":
        labels, extra = _parse_strings(arr)
    elif arr.dtype.kind == "O":
        flat = arr.ravel()
        labels = np.empty(flat.shape, dtype="datetime64[us]")
        extra = np.zeros(flat.shape)
        for i, value in enumerate(flat):
            if isinstance(value, _dt.datetime):
                labels[i] = _datetime_to_us(value)
            elif isinstance(value, _dt.date):
                labels[i] = np.datetime64(value, "D")
            elif isinstance(value, np.datetime64):
                labels[i] = value.astype("datetime64[us]")
            elif isinstance(value, str):
                one_label, one_extra = _parse_strings(np.asarray([value]))
                labels[i], extra[i] = one_label[0], one_extra[0]
            else:
                raise IlrsError(
                    f"cannot read {value!r} (type {type(value).__name__}) as a UTC time",
                    source="times",
                    hint="give ISO strings, datetimes or numpy datetime64",
                )
        labels, extra = labels.reshape(arr.shape), extra.reshape(arr.shape)
    else:
        raise IlrsError(
            f"cannot read values of dtype {arr.dtype} as UTC times",
            source="times",
            hint="give ISO strings, datetimes or numpy datetime64 (not numbers: use ET directly)",
        )
    if np.isnat(labels).any():
        raise IlrsError(
            "times contain NaT or an empty string, which is not a UTC time",
            source="times",
            hint="remove or fill missing epochs",
        )
    return labels, extra


def _naive_seconds(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """datetime64[us] labels -> (whole naive UTC seconds past J2000 as int64, fraction in [0, 1) [s])."""
    days = labels.astype("datetime64[D]")
    micro = (labels - days).astype(np.int64)  # [us] within the day, exact
    whole = (days - _J2000_DAY).astype(np.int64) * 86_400 - 43_200 + micro // 1_000_000
    return whole, (micro % 1_000_000) * 1e-6


# ---------------------------------------------------------------------------------------------- public API


def to_et(times) -> np.ndarray:
    """UTC epochs -> seconds TDB past J2000 (SPICE ephemeris time).

    Parameters
    ----------
    times : str, datetime, numpy.datetime64, or a sequence / array of these
        UTC epochs. Strings are ISO 8601 ('2030-01-01', '2030-01-01T06:30:00.25', optional 'Z' or '+hh:mm'
        offset, '23:59:60' for a leap second) read to the microsecond; naive datetimes and datetime64 are UTC;
        aware datetimes are converted to UTC.

    Returns
    -------
    numpy.ndarray of float64
        Ephemeris time [s], the shape of ``times`` (a scalar gives shape (1,)).

    Notes
    -----
    Vectorised implementation of SPICE ``STR2ET``/``UTC2ET``: TAI - UTC from the loaded leapseconds kernel,
    TT = TAI + 32.184 s, TDB - TT from the kernel's ``DELTET`` model. Agrees with ``spiceypy.str2et`` to
    better than 1 us (the float64 resolution of ET in 2100 is 0.5 us).
    """
    labels, extra = _as_utc_labels(times)
    d = _deltet()
    whole, frac = _naive_seconds(labels)
    leaps = _leap_seconds(whole.astype(float), d)
    tt_whole = whole.astype(float) + leaps  # exact: integers well below 2**53
    tdb_tt = _tdb_minus_tt(tt_whole + d.delta_t_a, d)
    return tt_whole + ((frac + extra) + d.delta_t_a + tdb_tt)


def et_to_utc(et) -> np.ndarray:
    """Seconds TDB past J2000 -> UTC labels rounded to the millisecond.

    Parameters
    ----------
    et : float or array_like
        Ephemeris time [s].

    Returns
    -------
    numpy.ndarray of datetime64[ms]
        UTC, the shape of ``et`` (a scalar gives shape (1,)). datetime64 has no 23:59:60: an instant inside a
        leap second maps to the following 00:00:00.000. Otherwise equal to ``spiceypy.et2utc(et, 'ISOC', 3)``.
    """
    et = np.atleast_1d(np.asarray(et, dtype=float))
    if not np.isfinite(et).all():
        raise IlrsError("et contains NaN or infinite values", source="et")
    d = _deltet()
    tai = et - (d.delta_t_a + _tdb_minus_tt(et, d))
    # Segment j of the table holds from TAI = u_j + d_j (label u_j, 00:00:00 after the leap); a positive leap
    # second is the TAI second before that, whose label (tai - d_{j-1}) would repeat 00:00:00: clamp it.
    j = np.searchsorted(d.leap_epochs + d.leap_values, tai, side="right") - 1
    values = np.where(j >= 0, d.leap_values[np.clip(j, 0, None)], d.leap_values[0] - 1.0)
    next_start = np.append(d.leap_epochs, np.inf)[j + 1]
    naive = np.minimum(tai - values, next_start)
    ms = np.floor(naive * 1000.0 + 0.5).astype(np.int64)  # half up, as et2utc rounds
    return _J2000_LABEL_US.astype("datetime64[ms]") + ms.astype("timedelta64[ms]")


def parse_step(text) -> float:
    """A time step such as '30s', '10m', '1h', '1d' or '600' (plain seconds) -> seconds [s].

    Parameters
    ----------
    text : str or number
        Number with an optional unit: s (seconds), m (minutes), h (hours), d (days, 86400 s).

    Returns
    -------
    float
        Step [s], positive.
    """
    if isinstance(text, int | float) and not isinstance(text, bool):
        value = float(text)
    else:
        match = _STEP_RE.match(str(text))
        if not match:
            raise IlrsError(
                f"cannot read time step {text!r}",
                source="step",
                hint="write a positive number with an optional unit s, m, h or d, e.g. '30s', "
                "'10m', '1h', '1d', or plain seconds such as '600'",
            )
        value = float(match.group(1)) * _STEP_UNITS_S[match.group(2)]
    if not np.isfinite(value) or value <= 0:
        raise IlrsError(f"time step {text!r} must be positive", source="step", hint="e.g. '10m' or '1h'")
    return value


def utc_bounds(start, end) -> tuple[np.datetime64, np.datetime64]:
    """``start`` and ``end`` (str, datetime or numpy.datetime64) as whole-second UTC ``datetime64[s]`` labels,
    ``end`` after ``start``; an error names the bound that is not."""
    bounds = []
    for name, value in (("start", start), ("end", end)):
        label, extra = _as_utc_labels(value)
        if label.size != 1:
            raise IlrsError(f"{name} must be a single time, got {label.size}", source=name)
        if extra[0] or label[0] != label[0].astype("datetime64[s]"):
            raise IlrsError(f"{name} must be a whole second (not a leap second), got {value!r}", source=name)
        bounds.append(label[0].astype("datetime64[s]"))
    if bounds[1] <= bounds[0]:
        raise IlrsError(f"end ({bounds[1]}) must be after start ({bounds[0]})", source="end")
    return bounds[0], bounds[1]


def default_sample_windows(start, end) -> int:
    """Windows that sample a site analysis by default: :data:`~ilrs.constants.SAMPLE_WINDOWS` for a period
    longer than a year (366 days), else 0 (every step)."""
    a, b = utc_bounds(start, end)
    return SAMPLE_WINDOWS if (b - a) > np.timedelta64(366, "D") else 0


def utc_grid(start, end, step_s: float) -> tuple[np.ndarray, np.ndarray]:
    """A regular UTC grid [start, end) and its ephemeris times.

    Parameters
    ----------
    start, end : str, datetime or numpy.datetime64
        UTC bounds, whole seconds; ``end`` is excluded.
    step_s : float
        Step [s], a positive whole number of seconds (see :func:`parse_step` for '10m'-style text).

    Returns
    -------
    et : numpy.ndarray of float64
        Ephemeris time of each grid point [s].
    utc : numpy.ndarray of datetime64[s]
        The UTC labels ``start + k * step_s``. Steps are regular in UTC labels, so a step across a leap second
        lasts one second longer in ET.
    """
    step = float(step_s)
    if not np.isfinite(step) or step <= 0:
        raise IlrsError(f"step_s must be positive, got {step_s!r}", source="step_s")
    if step != np.floor(step):
        raise IlrsError(f"step_s must be a whole number of seconds, got {step_s!r}", source="step_s")
    bounds = utc_bounds(start, end)
    span = int((bounds[1] - bounds[0]).astype(np.int64))
    n = -(-span // int(step))
    if n > MAX_GRID_STEPS:
        raise IlrsError(
            f"the grid would have {n:,} steps, more than {MAX_GRID_STEPS:,}",
            source="step_s",
            hint="use a larger step or a shorter period",
        )
    utc = bounds[0] + np.arange(n, dtype=np.int64).astype("timedelta64[s]") * int(step)
    return to_et(utc), utc


def sample_windows(
    start, end, step_s: float, windows: int, window_days: float
) -> list[tuple[np.datetime64, np.datetime64]]:
    """[start, end) as ``windows`` windows of ``window_days`` each, their starts spread evenly over the period (window
    ``k`` starts ``k / windows`` of the way through it, rounded down to a whole step), as UTC ``datetime64[s]``
    bounds; the whole period as one window when ``windows`` is 0 or the windows would cover all of it.

    Spread over an 18.6-year nodal cycle, 12 windows start 566 days apart, which is 1.63 draconic years (346.6 d):
    their phases in the Sun's yearly path over the pole fall about 0.1 of a year apart, so some window is within
    about 18 days of every season, the southern winter's long nights included.
    """
    labels = utc_bounds(start, end)
    span = int((labels[1] - labels[0]).astype(np.int64))
    if windows < 0:
        raise IlrsError(f"windows must be 0 or more, got {windows}", source="windows")
    if not (np.isfinite(step_s) and step_s >= 1.0 and float(step_s) == np.floor(step_s)):
        raise IlrsError(f"the step must be a whole number of seconds, at least 1, got {step_s!r}", source="step")
    length = int(round(window_days * 86_400.0))
    if windows == 0 or windows * length >= span:
        return [(labels[0], labels[1])]
    step = int(step_s)
    out = []
    for k in range(windows):
        offset = (k * span // windows) // step * step
        a = labels[0] + np.timedelta64(offset, "s")
        out.append((a, min(a + np.timedelta64(length, "s"), labels[1])))
    return out


@functools.cache
def coverage() -> tuple[float, float]:
    """ET span [s] in which every loaded ephemeris and lunar orientation kernel has data, less a margin.

    The span is the intersection of the DE440s SPK (all bodies) and the DE440 lunar PA PCK, shrunk by
    :data:`COVERAGE_MARGIN_S` at each end for light time and interpolation nodes.
    """
    ks = ensure_loaded()
    starts, ends = [], []
    for body in spiceypy.spkobj(str(ks.planets)):
        window = spiceypy.spkcov(str(ks.planets), body)
        starts.append(spiceypy.wnfetd(window, 0)[0])
        ends.append(spiceypy.wnfetd(window, spiceypy.wncard(window) - 1)[1])
    frames = spiceypy.cell_int(100)
    spiceypy.pckfrm(str(ks.moon_pck), frames)
    for frame in frames:
        window = spiceypy.pckcov(str(ks.moon_pck), frame, spiceypy.cell_double(2000))
        starts.append(spiceypy.wnfetd(window, 0)[0])
        ends.append(spiceypy.wnfetd(window, spiceypy.wncard(window) - 1)[1])
    return max(starts) + COVERAGE_MARGIN_S, min(ends) - COVERAGE_MARGIN_S


def utc_text(et: float) -> str:
    """An epoch as ISO 8601 UTC to the second, for messages."""
    return str(et_to_utc(et)[0].astype("datetime64[s]")) + "Z"


def check_span(et: np.ndarray, lo: float, hi: float, what: str) -> None:
    """Raise :class:`IlrsError` naming the first epoch outside [lo, hi] and the valid span (``what`` covers it)."""
    bad = (et < lo) | (et > hi)
    if bad.any():
        raise IlrsError(
            f"epoch {utc_text(float(et[bad][0]))} ({int(bad.sum())} of {et.size} requested) is outside the "
            f"{what}: {utc_text(lo)} .. {utc_text(hi)}",
            source="times",
            hint="choose epochs within that range",
        )


def check_coverage(et) -> None:
    """Raise :class:`IlrsError` if any epoch lies outside :func:`coverage` or is not finite.

    Parameters
    ----------
    et : float or array_like
        Ephemeris time [s].
    """
    et = np.atleast_1d(np.asarray(et, dtype=float))
    if et.size == 0:
        return
    if not np.isfinite(et).all():
        raise IlrsError("epochs contain NaN or infinite values", source="et")
    lo, hi = coverage()
    check_span(
        et, lo, hi, "ephemeris coverage of DE440s and the DE440 lunar orientation kernel (less one day at each end)"
    )
