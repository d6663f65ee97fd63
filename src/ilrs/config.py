"""The one Settings object; nothing else in ilrs reads the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE_DATA = Path(__file__).resolve().parent / "data"


def _default_cache_dir() -> Path:
    env = os.environ.get("ILRS_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "ilrs"


@dataclass(frozen=True)
class Settings:
    """Paths and service addresses, read once from ``ILRS_*`` environment variables."""

    data_dir: Path = PACKAGE_DATA
    cache_dir: Path = field(default_factory=_default_cache_dir)
    output_dir: Path = field(default_factory=lambda: Path(os.environ.get("ILRS_OUTPUT_DIR", "out")))
    #: The portal's database; None: a SQLite file under ``cache_dir/portal`` (works with no set-up)
    database_url: str | None = field(default_factory=lambda: os.environ.get("ILRS_DATABASE_URL") or None)
    #: The portal's signing secret; None is only allowed with the SQLite default (a per-install secret file)
    secret_key: str | None = field(default_factory=lambda: os.environ.get("ILRS_SECRET_KEY") or None, repr=False)
    portal_uploads: Path | None = field(
        default_factory=lambda: (
            Path(os.environ["ILRS_PORTAL_UPLOADS"]) if os.environ.get("ILRS_PORTAL_UPLOADS") else None
        )
    )
    secure_cookies: bool = field(default_factory=lambda: os.environ.get("ILRS_SECURE_COOKIES", "") not in ("", "0"))
    #: Addresses of the reverse proxies whose X-Forwarded-For the portal believes (comma-separated); none by default
    trusted_proxies: str = field(default_factory=lambda: os.environ.get("ILRS_TRUSTED_PROXIES", ""))
    dask_scheduler: str | None = field(default_factory=lambda: os.environ.get("ILRS_DASK_SCHEDULER") or None)
    no_cache: bool = field(default_factory=lambda: os.environ.get("ILRS_NO_CACHE", "") not in ("", "0"))
    #: The disk cache's size cap [GB] (ILRS_CACHE_MAX_GB): the least recently used products go first; 0 or unset
    #: means no cap. Read as text here and checked by :func:`cache_max_bytes`, which names the variable if bad.
    cache_max_gb: str = field(default_factory=lambda: os.environ.get("ILRS_CACHE_MAX_GB", ""))


_settings: Settings | None = None


def get_settings() -> Settings:
    global _settings
    if _settings is None:
        _settings = Settings()
    return _settings


def override_settings(**changes) -> Settings:
    """Replace settings (tests, CLI flags); returns the new object."""
    global _settings
    from dataclasses import replace

    _settings = replace(get_settings(), **changes)
    return _settings
