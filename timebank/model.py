"""The domain's declarative base, opaque ids and shared column types."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase

from ledger.database import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
ID_LENGTH = 40


class Base(DeclarativeBase):
    """Every domain table; personal data lives only in columns ending in `_sealed`."""

    metadata = sa.MetaData(naming_convention=NAMING)
    type_annotation_map = {
        datetime: UTCDateTime(),
        date: sa.Date(),
        str: sa.String(255),
        dict[str, Any]: sa.JSON(),
        list[Any]: sa.JSON(),
    }


def new_id(prefix: str) -> str:
    """An opaque, unguessable id such as `vol_k3m9...`: safe to publish in ledger leaves."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(16))
