"""The Api plugin's table: the ids of bearer tokens revoked by a logout.

Tokens are stateless (signed, with an expiry inside), so a logout can only take effect
if every worker serving the API can see that the token was revoked: the revocation is
a row here, looked up by primary key on every authenticated request. A row is useless
once its token has expired anyway, so ``expires_at`` lets the Pruner drop it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from chancy.db.models import (
    TZ,
    PluginModels,
    Prefixed,
    per_prefix,
    table_prefix,
)

__all__ = ["ApiModels", "build_api_models"]


class RevokedTokenFields(Prefixed):
    __table_stem__ = "api_revoked_tokens"

    #: The random id carried inside the token (not the token itself: nothing here could
    #: be replayed).
    token_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    #: When the token would have expired; the row can go after that.
    expires_at: Mapped[dt.datetime] = mapped_column(TZ)
    revoked_at: Mapped[dt.datetime] = mapped_column(TZ, server_default=sa.func.now())

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        name = table_prefix(cls) + cls.__table_stem__
        return (sa.Index(f"ix_{name}_expires_at", "expires_at"),)


@dataclasses.dataclass(frozen=True)
class ApiModels(PluginModels):
    RevokedToken: type[Any]


#: The Api plugin's models for a prefix, mapped on the prefix's core registry.
build_api_models = per_prefix(ApiModels, RevokedToken=RevokedTokenFields)
