"""Who may use the API: credential backends and bearer-token authentication.

Logging in (``POST /api/v1/login``) asks the configured :class:`AuthBackend` whether a
username and password are right; on success the Api issues a signed token (see
:mod:`chancy.plugins.api.tokens`), which every other request carries as
``Authorization: Bearer <token>`` (the event websocket: ``?token=<token>``).

Write your own backend by subclassing :class:`AuthBackend` and implementing
:meth:`~AuthBackend.login`, for example to check your application's user table.
"""

from __future__ import annotations

import abc
import asyncio
import base64
import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    SimpleUser,
)
from starlette.requests import HTTPConnection, Request

from chancy.errors import ConfigurationError

if TYPE_CHECKING:
    from chancy.plugins.api.tokens import Tokens

__all__ = [
    "AuthBackend",
    "SimpleAuthBackend",
    "TokenAuthBackend",
    "hash_password",
    "verify_password",
]

#: Iterations of new PBKDF2 hashes (OWASP's 2023 advice for PBKDF2-HMAC-SHA256).
PBKDF2_ITERATIONS = 600_000


class AuthBackend(AuthenticationBackend, abc.ABC):
    """Checks credentials at login. Requests are then authenticated by their token.

    It stays a Starlette ``AuthenticationBackend`` (as upstream), but ``authenticate``
    returns None: the Api authenticates requests with :class:`TokenAuthBackend`.
    """

    @abc.abstractmethod
    async def login(self, request: Request, username: str, password: str) -> bool:
        """True if ``username`` may log in with ``password``."""

    async def logout(self, request: Request) -> None:
        """Called after the request's token was revoked; nothing to do by default."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, SimpleUser] | None:
        return None


def hash_password(password: str, *, iterations: int = PBKDF2_ITERATIONS) -> str:
    """A ``pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`` hash for :class:`SimpleAuthBackend`.

    The format is Django's, so hashes from ``make_password`` work as they are.
    """
    salt = secrets.token_urlsafe(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${base64.b64encode(digest).decode()}"


def _is_hash(stored: str) -> bool:
    return stored.startswith(("pbkdf2_sha256$", "scrypt$"))


def _check_hash(password: str, stored: str) -> bool:
    parts = stored.split("$")
    try:
        if parts[0] == "pbkdf2_sha256" and len(parts) == 4:
            _, iterations, salt, expected = parts
            digest = hashlib.pbkdf2_hmac(
                "sha256", password.encode(), salt.encode(), int(iterations)
            )
            return hmac.compare_digest(base64.b64encode(digest).decode(), expected)
        if parts[0] == "scrypt" and len(parts) == 6:
            _, n, r, p, salt, expected = parts
            raw = base64.b64decode(expected)
            digest = hashlib.scrypt(
                password.encode(),
                salt=base64.b64decode(salt),
                n=int(n),
                r=int(r),
                p=int(p),
                maxmem=256 * 1024 * 1024,
                dklen=len(raw),
            )
            return hmac.compare_digest(digest, raw)
    except (ValueError, TypeError):
        return False
    return False


def verify_password(password: str, stored: str) -> bool:
    """Compare ``password`` with a stored plaintext password or hash, in constant time.

    Hashes: ``pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`` (Django's format, made
    by :func:`hash_password`) and ``scrypt$<n>$<r>$<p>$<base64 salt>$<base64 hash>``
    (:func:`hashlib.scrypt`). Anything else is a plaintext password.
    """
    if _is_hash(stored):
        return _check_hash(password, stored)
    return hmac.compare_digest(password.encode(), stored.encode())


class SimpleAuthBackend(AuthBackend):
    """Users from a dict of ``{username: password or hash}``.

    ::

        SimpleAuthBackend({"admin": hash_password("s3cret")})

    Values may be plaintext (compared in constant time) or hashes as accepted by
    :func:`verify_password`; prefer hashes, so the configuration holds no password.
    """

    def __init__(self, users: dict[str, str]) -> None:
        if not isinstance(users, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in users.items()
        ):
            raise ConfigurationError(
                "SimpleAuthBackend needs a dict of {username: password or hash}, all strings."
            )
        for name, stored in users.items():
            if _is_hash(stored) and not _check_format(stored):
                raise ConfigurationError(
                    f"SimpleAuthBackend: the hash of user {name!r} is malformed; make one "
                    "with chancy.plugins.api.auth.hash_password()."
                )
        self.users = dict(users)
        # Unknown users are checked against this, so timing does not reveal who exists.
        self._decoy = secrets.token_urlsafe(16)

    async def login(self, request: Request, username: str, password: str) -> bool:
        stored = self.users.get(username)
        if stored is None:
            verify_password(password, self._decoy)
            return False
        if _is_hash(stored):
            # Hashing takes a fraction of a second of CPU: keep the event loop free.
            return await asyncio.to_thread(verify_password, password, stored)
        return verify_password(password, stored)


def _check_format(stored: str) -> bool:
    parts = stored.split("$")
    if parts[0] == "pbkdf2_sha256":
        return len(parts) == 4 and parts[1].isdigit()
    return len(parts) == 6 and all(p.isdigit() for p in parts[1:4])


class TokenAuthBackend(AuthenticationBackend):
    """Authenticates a request by its bearer token (a websocket: its ``token`` parameter).

    A token must be correctly signed, younger than the token lifetime, and not revoked by
    a logout. The user is a ``SimpleUser`` named as at login, with the scope
    ``authenticated``.
    """

    def __init__(self, tokens: Tokens) -> None:
        self.tokens = tokens

    @staticmethod
    def token_of(conn: HTTPConnection) -> str | None:
        if conn.scope["type"] == "websocket":
            return conn.query_params.get("token") or None
        header = conn.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return token.strip()

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, SimpleUser] | None:
        token = self.token_of(conn)
        if token is None:
            return None
        claims = await self.tokens.check(token)  # raises AuthenticationError when invalid
        conn.scope["chancy.token"] = claims
        return AuthCredentials(["authenticated"]), SimpleUser(claims.username)
