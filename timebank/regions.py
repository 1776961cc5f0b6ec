"""The region tree (省 → 市 → 县区 → 乡镇街道 → 村社区 → 网格), banks, stations and organisations."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import checks
from .errors import Conflict, InvalidInput, NotFound, Refused
from .model import Base, new_id

LEVELS = ("province", "city", "county", "township", "community", "grid")
LEVEL_NAMES = {
    "province": "省",
    "city": "市",
    "county": "县/区",
    "township": "乡镇/街道",
    "community": "村/社区",
    "grid": "网格",
}
ORGANISATION_KINDS = ("team", "brand")


class Region(Base):
    """A node of the region tree; a bank when it has a ledger log of its own."""

    __tablename__ = "region"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    parent_id: Mapped[str | None] = mapped_column(sa.ForeignKey("region.id"), index=True)
    level: Mapped[str] = mapped_column(sa.String(16))
    code: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str] = mapped_column(sa.String(100))
    path: Mapped[str] = mapped_column(sa.String(1000), index=True)
    log_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime]

    @property
    def is_bank(self) -> bool:
        return self.log_id is not None

    @property
    def ancestor_ids(self) -> list[str]:
        """Ids from the root down to this region, itself included."""
        return [part for part in self.path.split("/") if part]


class Station(Base):
    """A service station (站点) under a region; it may provide redeemed services, paid from the backstop."""

    __tablename__ = "station"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    region_id: Mapped[str] = mapped_column(sa.ForeignKey("region.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime]


class Organisation(Base):
    """A volunteer organisation: a team (志愿服务组织) or a brand (时间银行, 以老助老, 情暖夕阳, "1助1")."""

    __tablename__ = "organisation"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    region_id: Mapped[str] = mapped_column(sa.ForeignKey("region.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    name: Mapped[str] = mapped_column(sa.String(200))
    brand_id: Mapped[str | None] = mapped_column(sa.ForeignKey("organisation.id"))
    status: Mapped[str] = mapped_column(sa.String(16), default="active")  # see people.set_status
    created_at: Mapped[datetime]




def create_region(
    session: Session,
    *,
    level: str,
    name_zh: str,
    name_en: str,
    at: datetime,
    parent_id: str | None = None,
    code: str | None = None,
) -> Region:
    """Add a region under `parent_id` (None for a root). A child sits at a deeper level than its
    parent (levels may be skipped, e.g. a 开发区 directly under a city).

    Raises InvalidInput (bad level or name), NotFound (parent), Conflict (code taken).
    """
    if level not in LEVELS:
        raise InvalidInput(f"level must be one of {', '.join(LEVELS)}", field="level")
    parent = get_region(session, parent_id) if parent_id else None
    if parent is not None and LEVELS.index(level) <= LEVELS.index(parent.level):
        raise InvalidInput(f"a {level} cannot sit under a {parent.level}", field="level")
    if code is not None and session.scalar(sa.select(Region.id).where(Region.code == code)):
        raise Conflict(f"region code {code!r} is taken", field="code")
    region_id = new_id("reg")
    region = Region(
        id=region_id,
        parent_id=parent.id if parent else None,
        level=level,
        code=code,
        name_zh=checks.name(name_zh, "name_zh", 100),
        name_en=checks.name(name_en, "name_en", 100),
        path=(parent.path if parent else "/") + region_id + "/",
        created_at=at,
    )
    session.add(region)
    session.flush()
    return region


def get_region(session: Session, region_id: str) -> Region:
    """The region `region_id`; NotFound if none."""
    region = session.get(Region, region_id)
    if region is None:
        raise NotFound(f"no region {region_id!r}", field="region_id")
    return region


def in_subtree(column: sa.ColumnElement[str], region: Region) -> sa.ColumnElement[bool]:
    """SQL condition: the region id in `column` is `region` or below it."""
    return column.in_(sa.select(Region.id).where(Region.path.startswith(region.path, autoescape=True)))


def covers(ancestor: Region, region: Region) -> bool:
    """True if `region` is `ancestor` or lies below it."""
    return region.path.startswith(ancestor.path)


def bank_of(session: Session, region: Region) -> Region:
    """The nearest bank at or above `region`. Raises Refused when no bank covers it."""
    ids = region.ancestor_ids
    banks = {r.id: r for r in session.scalars(sa.select(Region).where(Region.id.in_(ids), Region.log_id.is_not(None)))}
    for region_id in reversed(ids):
        if region_id in banks:
            return banks[region_id]
    raise Refused(f"no time bank covers region {region.name_zh} ({region.id}); open one at or above it first",
                  rule="bank")


def list_banks(session: Session) -> list[Region]:
    """Every bank of the network, in path order."""
    return list(session.scalars(sa.select(Region).where(Region.log_id.is_not(None)).order_by(Region.path)))


def children(session: Session, region: Region) -> list[Region]:
    return list(session.scalars(sa.select(Region).where(Region.parent_id == region.id).order_by(Region.name_en)))


def create_station(session: Session, *, region_id: str, name: str, at: datetime) -> Station:
    """Add a service station under a region. Raises NotFound, InvalidInput."""
    region = get_region(session, region_id)
    station = Station(id=new_id("sta"), region_id=region.id, name=checks.name(name, "name", 200), created_at=at)
    session.add(station)
    session.flush()
    return station


def create_organisation(
    session: Session, *, region_id: str, kind: str, name: str, at: datetime, brand_id: str | None = None
) -> Organisation:
    """Add a volunteer team or brand under a region; a team may carry a brand.

    Raises NotFound (region, brand), InvalidInput (kind, name, a brand that is not a brand).
    """
    region = get_region(session, region_id)
    if kind not in ORGANISATION_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(ORGANISATION_KINDS)}", field="kind")
    if brand_id is not None:
        brand = session.get(Organisation, brand_id)
        if brand is None:
            raise NotFound(f"no organisation {brand_id!r}", field="brand_id")
        if brand.kind != "brand":
            raise InvalidInput("brand_id must name a brand", field="brand_id")
    org = Organisation(id=new_id("org"), region_id=region.id, kind=kind, name=checks.name(name, "name", 200),
                       brand_id=brand_id, status="active", created_at=at)
    session.add(org)
    session.flush()
    return org
