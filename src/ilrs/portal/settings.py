"""The portal's settings, derived from :mod:`ilrs.config`: database URL, secret key, upload folder, limits.

No default secret outside development: the secret comes from ``ILRS_SECRET_KEY``; only with the SQLite default
(a single-user development install) is a per-install secret generated and kept in a file beside the database.
With a PostgreSQL URL and no secret the portal refuses to start.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ilrs.config import get_settings
from ilrs.errors import IlrsError
from ilrs.portal.rules import MAX_UPLOAD_BYTES


def portal_home() -> Path:
    """Where the default SQLite database, the generated secret and uploads live."""
    return get_settings().cache_dir / "portal"


def default_database_url() -> str:
    # ILRS_DATABASE_URL (ilrs.config), else a file in the user's cache: `ilrs serve` works from anywhere
    return get_settings().database_url or f"sqlite:///{portal_home() / 'portal.db'}"


def _secret_for(url: str, home: Path) -> str:
    key = get_settings().secret_key or ""
    if key:
        if len(key) < 32:
            raise IlrsError(
                "ILRS_SECRET_KEY is too short",
                source="ILRS_SECRET_KEY",
                hint="use at least 32 random characters, e.g. python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'",
            )
        return key
    if not url.startswith("sqlite"):
        raise IlrsError(
            "a database server needs ILRS_SECRET_KEY: the portal signs sessions with it",
            source="ILRS_SECRET_KEY",
            hint="set ILRS_SECRET_KEY to at least 32 random characters",
        )
    path = home / "secret_key"
    if not path.exists():
        private_dir(home)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for another database or an in-memory one)."""
    if not url.startswith("sqlite:///") or url == "sqlite:///:memory:":
        return None
    return Path(url.removeprefix("sqlite:///")).expanduser()


def private_dir(path: Path) -> Path:
    """A folder only its owner reads (0700): the portal's home, its uploads."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def secure_database_file(url: str) -> None:
    """A SQLite database only its owner reads and writes (0600), created so before SQLite first opens it, and
    its WAL and shared-memory files likewise (SQLite gives those the database's mode)."""
    path = sqlite_path(url)
    if path is None:
        return
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if p.exists():
            os.chmod(p, 0o600)


@dataclass(frozen=True)
class PortalSettings:
    database_url: str
    secret_key: str
    upload_dir: Path
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    #: Cookies marked Secure (HTTPS only); off for loopback development and tests.
    secure_cookies: bool = False
    session_hours: float = 12.0
    api_token_hours: float = 24.0 * 30
    scenario: str = "ilrs-basic-2035"
    title: str = "ILRS partner portal"
    #: Worker threads that run requests (the connection pool holds as many connections).
    threads: int = 24
    #: Requests that change data at once; the others wait before taking a thread or a connection, so a storm of
    #: writes queued on one row lock never starves the reads of threads and connections.
    write_slots: int = 6
    #: Reverse proxies whose X-Forwarded-For is believed (exact addresses); none by default.
    trusted_proxies: frozenset[str] = frozenset()
    #: Upload quotas: stored bytes per proposal and per organisation, files per proposal.
    quota_proposal_bytes: int = 200 * 1024 * 1024
    quota_organisation_bytes: int = 1024 * 1024 * 1024
    quota_proposal_files: int = 50
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_environment(cls, database_url: str | None = None, **changes) -> PortalSettings:
        url = database_url or default_database_url()
        home = portal_home()
        path = sqlite_path(url)
        if path is not None and not path.parent.exists():
            private_dir(path.parent)
        upload = get_settings().portal_uploads or home / "uploads"
        secure = get_settings().secure_cookies
        proxies = frozenset(a.strip() for a in get_settings().trusted_proxies.split(",") if a.strip())
        kw: dict[str, Any] = {
            "database_url": url,
            "secret_key": changes.pop("secret_key", None) or _secret_for(url, home),
            "upload_dir": upload,
            "secure_cookies": secure,
            "trusted_proxies": proxies,
        }
        kw.update(changes)
        return cls(**kw)
