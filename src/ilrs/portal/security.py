"""The portal's secrets: argon2id password hashes, password strength, random tokens stored only as digests, and
the login throttle's limits. Free of any web or database code, like :mod:`ilrs.portal.rules`."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from ilrs.portal.rules import Invalid


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Tokens (sessions, API, invitations) are stored as SHA-256 digests: a leaked table grants nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


MIN_PASSWORD = 10


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"the password must have at least {MIN_PASSWORD} characters", source="password")
    if len(password) > 1024:
        raise Invalid("the password is too long (1024 characters at most)", source="password")


#: Login attempts: at most this many failures per address (or per e-mail) in the window, then refused.
LOGIN_MAX_FAILURES = 5
LOGIN_WINDOW = dt.timedelta(minutes=15)


_HASHER = None


def _hasher():
    global _HASHER
    if _HASHER is None:
        from argon2 import PasswordHasher

        _HASHER = PasswordHasher()  # RFC 9106 low-memory profile (argon2id, t=3, m=64 MiB, p=4)
    return _HASHER


def hash_password(password: str) -> str:
    check_password_strength(password)
    return _hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


#: A hash to verify against when the e-mail is unknown, so both cases take the same time.
def dummy_hash() -> str:
    global _DUMMY
    if _DUMMY is None:
        _DUMMY = _hasher().hash(secrets.token_hex(16))
    return _DUMMY


_DUMMY: str | None = None
