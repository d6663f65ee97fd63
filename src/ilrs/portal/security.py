"""The portal's secrets: argon2id password hashes, password strength, random tokens stored only as digests, and
the login throttle's limits. Free of any web or database code, like :mod:`ilrs.portal.rules`."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import threading
from dataclasses import dataclass

from ilrs.portal.rules import Invalid


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Tokens (sessions, API, invitations) are stored as SHA-256 digests: a leaked table grants nothing."""
    # surrogatepass: a JSON body may carry a lone surrogate; it is still some token, merely an unknown one
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


MIN_PASSWORD = 10


#: Fewest different characters in a password ("aaaaaaaaaa" and ten spaces have one).
MIN_DISTINCT = 5


def check_password_strength(password: str, email: str | None = None) -> None:
    """At least 10 characters (NIST SP 800-63B asks for 8 at least) and at most 1024, not only white space, at
    least 5 different characters, and not the account's e-mail address or its local part."""
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"the password must have at least {MIN_PASSWORD} characters", source="password")
    if len(password) > 1024:
        raise Invalid("the password is too long (1024 characters at most)", source="password")
    if not password.strip() or len(set(password)) < MIN_DISTINCT:
        raise Invalid(
            f"the password needs at least {MIN_DISTINCT} different characters, not only spaces", source="password"
        )
    if email:
        e = email.strip().casefold()
        if password.strip().casefold() in (e, e.split("@", 1)[0]):
            raise Invalid("the password may not be the e-mail address", source="password")


@dataclass(frozen=True)
class Backoff:
    """A sign-in throttle for one key: ``free`` failures, then each further attempt waits ``base_s`` doubled per
    failure beyond, at most ``cap_s`` (a bounded backoff, never a lockout)."""

    free: int
    base_s: float
    cap_s: float

    def delay(self, failures: int) -> dt.timedelta:
        """How long after the ``failures``-th failure the next attempt must wait."""
        if failures < self.free:
            return dt.timedelta(0)
        return dt.timedelta(seconds=min(self.base_s * 2.0 ** min(failures - self.free, 30), self.cap_s))


#: The sign-in throttle's keys. One account from one address is the guessing attack (5 free failures, OWASP
#: Authentication Cheat Sheet's order of magnitude); one address across accounts is spraying (20); one account
#: from every address (a botnet) gets a higher threshold and a shorter cap, so that strangers slow its owner down
#: for at most five minutes and cannot lock them out.
THROTTLE = {
    "pair": Backoff(free=5, base_s=30.0, cap_s=900.0),
    "address": Backoff(free=20, base_s=30.0, cap_s=900.0),
    "account": Backoff(free=50, base_s=30.0, cap_s=300.0),
}
#: A key's failures are forgotten after this long without one.
LOGIN_WINDOW = dt.timedelta(minutes=15)


def throttle_keys(email: str, address: str) -> dict[str, str]:
    """The throttle's row keys for a sign-in attempt (digests: neither e-mails nor addresses are stored)."""
    return {
        "pair": "pair:" + token_digest(f"{email}\n{address}"),
        "address": "address:" + token_digest(address),
        "account": "account:" + token_digest(email),
    }


_HASHER = None


def _hasher():
    global _HASHER
    if _HASHER is None:
        from argon2 import PasswordHasher

        _HASHER = PasswordHasher()  # RFC 9106 low-memory profile (argon2id, t=3, m=64 MiB, p=4)
    return _HASHER


#: Password hashes computed at once: each takes 64 MiB and a core for about 0.2 s, so more than one per core only
#: adds memory (100 parallel sign-ins would otherwise take 6.4 GB).
_HASHING = threading.BoundedSemaphore(os.cpu_count() or 2)


def hash_password(password: str, email: str | None = None) -> str:
    check_password_strength(password, email)
    with _HASHING:
        return _hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        with _HASHING:
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
