"""Bearer tokens: stateless, signed, expiring, and revocable by a logout.

A token is an itsdangerous ``URLSafeTimedSerializer`` value (salt ``chancy.api.token``,
as upstream 0.26) holding the username and a random token id, signed with the Api's
``secret_key``. Any worker sharing that key accepts it for ``max_age`` seconds (7 days)
without any server-side session. A logout writes the token id to the
``{prefix}api_revoked_tokens`` table, which every worker probes (one primary-key lookup)
before accepting a token, so a logout holds across workers and restarts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from typing import TYPE_CHECKING

import sqlalchemy as sa
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from starlette.authentication import AuthenticationError

from chancy.errors import MigrationsNeededError
from chancy.plugins.api import statements as api_sql
from chancy.plugins.api.http import ApiError
from chancy.plugins.api.models import build_api_models

if TYPE_CHECKING:
    from chancy.app import Chancy

__all__ = ["TOKEN_MAX_AGE", "TOKEN_SALT", "Claims", "Tokens"]

TOKEN_SALT = "chancy.api.token"
TOKEN_MAX_AGE = 7 * 24 * 60 * 60


@dataclasses.dataclass(frozen=True)
class Claims:
    """What a valid token says: who, which token, and when it was issued."""

    username: str
    token_id: str
    issued_at: dt.datetime


class Tokens:
    """Issues, checks and revokes the tokens of one app."""

    def __init__(self, chancy: Chancy, secret_key: str, *, max_age: int = TOKEN_MAX_AGE) -> None:
        self.chancy = chancy
        self.max_age = max_age
        self.serializer = URLSafeTimedSerializer(secret_key, salt=TOKEN_SALT)

    def issue(self, username: str) -> str:
        return str(self.serializer.dumps({"u": username, "t": secrets.token_urlsafe(16)}))

    def read(self, token: str) -> Claims:
        """The token's claims if it is signed and unexpired (revocation not checked)."""
        try:
            data, stamp = self.serializer.loads(token, max_age=self.max_age, return_timestamp=True)
        except SignatureExpired:
            raise AuthenticationError("The token has expired; log in again.") from None
        except BadSignature:
            raise AuthenticationError("The token is not valid; log in again.") from None
        if not isinstance(data, dict) or not isinstance(data.get("u"), str) or not data.get("t"):
            raise AuthenticationError("The token is not valid; log in again.")
        return Claims(data["u"], str(data["t"]), stamp)

    async def check(self, token: str) -> Claims:
        """The claims of a token that is valid and not revoked; AuthenticationError if not."""
        claims = self.read(token)
        am = build_api_models(self.chancy.models)
        try:
            async with self.chancy.engine.connect() as conn:
                stmt = api_sql.build_is_revoked(am, claims.token_id)
                revoked = (await conn.execute(stmt)).first()
        except (sa.exc.ProgrammingError, MigrationsNeededError) as exc:
            # The app's error hook reports a missing prefixed table as MigrationsNeededError.
            if am.RevokedToken.__tablename__ not in str(exc) and not isinstance(
                exc, MigrationsNeededError
            ):
                raise
            raise ApiError(
                500,
                f"The Api's table {am.RevokedToken.__tablename__} is missing: put the Api in "
                "Chancy(plugins=[...]) and run chancy.migrate() (or `chancy misc migrate`).",
            ) from None
        if revoked is not None:
            raise AuthenticationError("The token was revoked by a logout; log in again.")
        return claims

    async def revoke(self, claims: Claims) -> None:
        """Revoke the token for every worker, until it would have expired anyway."""
        am = build_api_models(self.chancy.models)
        expires = claims.issued_at + dt.timedelta(seconds=self.max_age)
        async with self.chancy.engine.begin() as conn:
            await conn.execute(api_sql.build_revoke(am, claims.token_id, expires))

    async def forget_expired(self) -> int:
        """Delete revocations of tokens that have expired anyway; returns how many."""
        am = build_api_models(self.chancy.models)
        async with self.chancy.engine.begin() as conn:
            return (await conn.execute(api_sql.build_forget_expired_revocations(am))).rowcount
