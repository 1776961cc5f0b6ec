"""The tables people live in (volunteers, elders, relatives, staff, trainings, status history,
priority tags) and how their personal data is sealed into them: each `*_sealed` column bound to its
row, listed in SEALED_COLUMNS. The use cases are in timebank.people."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .model import Base
from .sealing import Sealer


class Volunteer(Base):
    """A registered volunteer (志愿服务登记)."""

    __tablename__ = "volunteer"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    region_id: Mapped[str] = mapped_column(sa.ForeignKey("region.id"), index=True)
    organisation_id: Mapped[str | None] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(24))
    sex: Mapped[str] = mapped_column(sa.String(1))
    birth_date: Mapped[date]
    name_sealed: Mapped[str] = mapped_column(sa.Text)
    id_number_sealed: Mapped[str] = mapped_column(sa.Text)
    id_index: Mapped[str] = mapped_column(sa.String(64), unique=True)
    phone_sealed: Mapped[str | None] = mapped_column(sa.Text)
    address_sealed: Mapped[str | None] = mapped_column(sa.Text)
    skills: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    heir_id: Mapped[str | None] = mapped_column(sa.String(40))
    registered_at: Mapped[datetime]


class Elder(Base):
    """An elder in the living register (动态数据库); `short_code` finds them in the log-hours form."""

    __tablename__ = "elder"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    region_id: Mapped[str] = mapped_column(sa.ForeignKey("region.id"), index=True)
    short_code: Mapped[str] = mapped_column(sa.String(8), unique=True)
    sex: Mapped[str] = mapped_column(sa.String(1))
    birth_date: Mapped[date]
    name_sealed: Mapped[str] = mapped_column(sa.Text)
    id_number_sealed: Mapped[str] = mapped_column(sa.Text)
    id_index: Mapped[str] = mapped_column(sa.String(64), unique=True)
    phone_sealed: Mapped[str | None] = mapped_column(sa.Text)
    address_sealed: Mapped[str | None] = mapped_column(sa.Text)
    health_sealed: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    heir_id: Mapped[str | None] = mapped_column(sa.String(40))
    registered_at: Mapped[datetime]


class Relative(Base):
    """A family member or proxy of an elder: may confirm records and/or redeem for them.
    `person_id` links one who is registered (a volunteer or an elder)."""

    __tablename__ = "relative"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    elder_id: Mapped[str] = mapped_column(sa.ForeignKey("elder.id"), index=True)
    relation: Mapped[str] = mapped_column(sa.String(20))
    name_sealed: Mapped[str] = mapped_column(sa.Text)
    phone_sealed: Mapped[str | None] = mapped_column(sa.Text)
    person_id: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    same_household: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    may_confirm: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    may_redeem: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    added_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]


class Staff(Base):
    """A coordinator (社区/站点 staff, 网格员) or a region administrator, scoped to a region subtree."""

    __tablename__ = "staff"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    region_id: Mapped[str] = mapped_column(sa.ForeignKey("region.id"), index=True)
    role: Mapped[str] = mapped_column(sa.String(16))
    name_sealed: Mapped[str] = mapped_column(sa.Text)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime]


class Training(Base):
    """A training record, kept apart from service hours; `certifies` lists catalogue codes it qualifies for."""

    __tablename__ = "training"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    volunteer_id: Mapped[str] = mapped_column(sa.ForeignKey("volunteer.id"), index=True)
    course: Mapped[str] = mapped_column(sa.String(200))
    content: Mapped[str | None] = mapped_column(sa.Text)
    study_minutes: Mapped[int] = mapped_column(sa.Integer)
    provider: Mapped[str] = mapped_column(sa.String(200))
    completed_on: Mapped[date]
    certifies: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    recorded_by: Mapped[str] = mapped_column(sa.String(40))
    at: Mapped[datetime]


class StatusChange(Base):
    """A status change of a volunteer, elder or organisation: history, never an edit."""

    __tablename__ = "status_change"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    subject_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    status: Mapped[str] = mapped_column(sa.String(16))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    reason_salt: Mapped[str | None] = mapped_column(sa.String(40))
    by: Mapped[str] = mapped_column(sa.String(40))
    entry_id: Mapped[str | None] = mapped_column(sa.ForeignKey("entry.id"))
    at: Mapped[datetime]


class ElderTag(Base):
    """A priority tag on an elder, with when and by whom it was added and removed."""

    __tablename__ = "elder_tag"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    elder_id: Mapped[str] = mapped_column(sa.ForeignKey("elder.id"), index=True)
    tag: Mapped[str] = mapped_column(sa.String(32))
    added_by: Mapped[str] = mapped_column(sa.String(40))
    added_at: Mapped[datetime]
    removed_by: Mapped[str | None] = mapped_column(sa.String(40))
    removed_at: Mapped[datetime | None]


SEALED_COLUMNS: dict[type[Base], tuple[str, ...]] = {
    Volunteer: ("name_sealed", "id_number_sealed", "phone_sealed", "address_sealed"),
    Elder: ("name_sealed", "id_number_sealed", "phone_sealed", "address_sealed", "health_sealed"),
    Relative: ("name_sealed", "phone_sealed"),
    Staff: ("name_sealed",),
}


def masked_name(name: str | None, *, keep_last: bool = False) -> str:
    """A name shown without revealing it: the family name and a star for every other character
    (刘奶奶 → 刘**); with `keep_last`, the last character too (张志华 → 张*华), as certificates show."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*"
    if keep_last and len(name) > 2:
        return name[0] + "*" * (len(name) - 2) + name[-1]
    return name[0] + "*" * (len(name) - 1)


def where(obj: Base, column: str) -> str:
    """The associated data a sealed column is bound to: `table.column:id`."""
    return f"{obj.__tablename__}.{column}:{obj.id}"  # type: ignore[attr-defined]


def seal_into(sealer: Sealer, obj: Base, **plain: str | None) -> None:
    for name, value in plain.items():
        setattr(obj, f"{name}_sealed", sealer.seal(value, where=where(obj, f"{name}_sealed")))


def opened(sealer: Sealer, obj: Base) -> dict[str, str | None]:
    """The personal data of `obj`, opened: {"name": …, "phone": …}. Raises SealError if altered."""
    return {
        column.removesuffix("_sealed"): sealer.open(getattr(obj, column), where=where(obj, column))
        for column in SEALED_COLUMNS[type(obj)]
    }
