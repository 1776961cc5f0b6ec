"""The care-service catalogue (服务清单, "5+X"): the national core and extras, plus regions' own items.

The national items are seeded by migration 0002 (its SEED lists them) and live in the database.

A weight is in percent (120 means minutes × 1.2); a region changes weights for its subtree through
policy (`weights`). A priced item costs a fixed number of credit minutes instead.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from .errors import Conflict, InvalidInput, NotFound
from .model import Base
from .regions import Region, get_region

CATEGORIES = ("daily_living", "health", "emotional", "emergency", "culture", "legal", "home")


class CatalogueItem(Base):
    """One kind of care: national when `region_id` is None, else a region's own."""

    __tablename__ = "catalogue_item"

    code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    region_id: Mapped[str | None] = mapped_column(sa.ForeignKey("region.id"), index=True)
    name_zh: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str] = mapped_column(sa.String(100))
    category: Mapped[str] = mapped_column(sa.String(20))
    weight_pct: Mapped[int] = mapped_column(sa.Integer, default=100)
    price_minutes: Mapped[int | None] = mapped_column(sa.Integer)
    volunteer_eligible: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    training_required: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime | None]

    def name(self, lang: str = "zh") -> str:
        return self.name_en if lang == "en" else self.name_zh


def _is_code(code: str) -> bool:
    return 0 < len(code) <= 32 and code.isascii() and all(c.isupper() or c.isdigit() or c in "_-" for c in code)


def add_item(
    session: Session,
    *,
    region_id: str,
    code: str,
    name_zh: str,
    name_en: str,
    category: str,
    at: datetime,
    weight_pct: int = 100,
    price_minutes: int | None = None,
    volunteer_eligible: bool = True,
    training_required: bool = False,
) -> CatalogueItem:
    """Add a region's own item (visible in its subtree). Raises InvalidInput, NotFound, Conflict."""
    region = get_region(session, region_id)
    if not _is_code(code):
        raise InvalidInput("code must be 1–32 of A–Z, 0–9, '_' or '-'", field="code")
    if category not in CATEGORIES:
        raise InvalidInput(f"category must be one of {', '.join(CATEGORIES)}", field="category")
    if not (isinstance(weight_pct, int) and 0 <= weight_pct <= 1000):
        raise InvalidInput("weight_pct must be 0–1000 (100 means one credit minute a minute)", field="weight_pct")
    if price_minutes is not None and not (isinstance(price_minutes, int) and 0 < price_minutes <= 100_000):
        raise InvalidInput("price_minutes must be 1–100000 credit minutes", field="price_minutes")
    for field, value in (("name_zh", name_zh), ("name_en", name_en)):
        if not value or not value.strip() or len(value) > 100:
            raise InvalidInput(f"{field} must be 1 to 100 characters", field=field)
    if session.get(CatalogueItem, code) is not None:
        raise Conflict(f"catalogue code {code!r} is taken", field="code")
    item = CatalogueItem(code=code, region_id=region.id, name_zh=name_zh.strip(), name_en=name_en.strip(),
                         category=category, weight_pct=weight_pct, price_minutes=price_minutes,
                         volunteer_eligible=volunteer_eligible, training_required=training_required, active=True,
                         created_at=at)
    session.add(item)
    session.flush()
    return item


def items_for(session: Session, region: Region) -> list[CatalogueItem]:
    """National items and those of `region`'s ancestors (itself included), by code."""
    return list(session.scalars(
        sa.select(CatalogueItem).where(
            CatalogueItem.active.is_(True),
            sa.or_(CatalogueItem.region_id.is_(None), CatalogueItem.region_id.in_(region.ancestor_ids)),
        ).order_by(CatalogueItem.code)
    ))


def item_for(session: Session, region: Region, code: str) -> CatalogueItem:
    """The item `code` as seen from `region`. Raises NotFound when it is unknown or another region's."""
    item = session.get(CatalogueItem, code)
    if item is None or not item.active or (item.region_id is not None and item.region_id not in region.ancestor_ids):
        raise NotFound(f"no catalogue item {code!r} in this region", field="catalogue")
    return item


def credit_minutes(minutes: int, weight_pct: int, rounding: str, price_minutes: int | None = None) -> int:
    """Credit for `minutes` of service: the fixed price of a priced item, else minutes × weight,
    rounded by the policy's rule (integer arithmetic only)."""
    if price_minutes is not None:
        return price_minutes
    product = minutes * weight_pct
    if rounding == "floor":
        return product // 100
    if rounding == "ceil":
        return -(-product // 100)
    return (product + 50) // 100
