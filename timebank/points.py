"""Points (积分): earned from verified hours by policy, spent on goods (党员超市/爱心超市, 微心愿), never on care.

Also the expiry of unspent credit, where a bank's policy sets `expiry_days` (off by default).
No function here or anywhere else turns points into care or credit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger import store
from ledger.writer import Writer

from . import accounts, idempotency, journal, people, policy
from .accounts import Account, Posting
from .errors import InsufficientCredit, InvalidInput
from .model import Base, new_id
from .policy import Policy
from .redemption import check_active
from .regions import Region, get_region

SHOPS = ("party_member_market", "love_market", "micro_wish")  # 党员超市, 爱心超市, 微心愿
MAX_POINTS = 1_000_000
MAX_ITEM = 100


class PointSpend(Base):
    """Points a volunteer spent on goods; the item's description stays here, its leaf holds a commitment."""

    __tablename__ = "point_spend"
    __table_args__ = (sa.CheckConstraint("points > 0", name="points_positive"),)

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    volunteer_id: Mapped[str] = mapped_column(sa.ForeignKey("volunteer.id"), index=True)
    bank_id: Mapped[str] = mapped_column(sa.ForeignKey("region.id"))
    shop: Mapped[str] = mapped_column(sa.String(24))
    points: Mapped[int] = mapped_column(sa.BigInteger)
    item: Mapped[str] = mapped_column(sa.String(MAX_ITEM))
    item_salt: Mapped[str] = mapped_column(sa.String(40))
    entry_id: Mapped[str] = mapped_column(sa.ForeignKey("entry.id"))
    at: Mapped[datetime]


def _item(item: str) -> str:
    item = item.strip() if isinstance(item, str) else ""
    if not item or len(item) > MAX_ITEM or any(ord(c) < 32 for c in item):
        raise InvalidInput(f"item must be 1 to {MAX_ITEM} characters describing the goods, without control "
                           "characters", field="item")
    return item


def spend_points(
    session: Session,
    writer: Writer,
    *,
    volunteer_id: str,
    points: int,
    shop: str,
    item: str,
    at: datetime,
    idempotency_key: str | None = None,
) -> PointSpend:
    """Spend a volunteer's points on goods at a shop: "points" entry in their home bank, the
    volunteer's point account −N, the bank's goods account +N. `item` is a short description of
    the goods (no personal data); the leaf carries only a commitment to it.

    Raises NotFound (volunteer), InvalidInput (points, shop, item), Refused (rule status),
    InsufficientCredit (too few points), Conflict (idempotency key reused).
    """
    volunteer = people.get_volunteer(session, volunteer_id)
    bank = people.home_bank(session, volunteer.id)
    assert bank.log_id is not None
    store.lock_logs(session, [bank.log_id])
    params = {"volunteer": volunteer.id, "points": points, "shop": shop, "item": item}
    done = idempotency.replay(session, idempotency_key, "points.spend", params)
    if done is not None:
        return session.get_one(PointSpend, done)
    session.refresh(volunteer)
    if not isinstance(points, int) or isinstance(points, bool) or not 0 < points <= MAX_POINTS:
        raise InvalidInput(f"points must be a whole number from 1 to {MAX_POINTS}", field="points")
    if shop not in SHOPS:
        raise InvalidInput(f"shop must be one of {', '.join(SHOPS)}", field="shop")
    description = _item(item)
    check_active(volunteer, "volunteer_id")
    held = int(session.scalar(sa.select(Account.balance).where(
        Account.bank_id == bank.id, Account.unit == "point", Account.kind == "person",
        Account.owner_id == volunteer.id)) or 0)
    if held < points:
        raise InsufficientCredit(f"{volunteer.id} holds {held} points; {points} are needed", needed=points,
                                 balance=held)
    spend_id = new_id("pts")
    salt, digest = journal.commitment(description)
    with session.begin_nested():
        entry = accounts.transfer(
            session, writer, bank=bank, type="points", at=at, subject_id=spend_id,
            body={"spend": spend_id, "volunteer": volunteer.id, "shop": shop, "points": points,
                  "item_commitment": digest},
            moves=[(accounts.person_account(session, bank=bank, person_id=volunteer.id, at=at, unit="point"), -points),
                   (accounts.bank_account(session, bank, "goods", at, unit="point"), points)],
        )
        spend = PointSpend(id=spend_id, volunteer_id=volunteer.id, bank_id=bank.id, shop=shop, points=points,
                           item=description, item_salt=salt, entry_id=entry.id, at=at)
        session.add(spend)
        session.flush()
        idempotency.remember(session, idempotency_key, "points.spend", params, spend.id, at)
    return spend


def point_balance(session: Session, volunteer_id: str) -> int:
    """A volunteer's points over all banks."""
    return accounts.person_balance(session, volunteer_id, unit="point")


# --- expiry -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Expiry:
    """What one run of `expire_credit` moved: minutes per person, and the entries."""

    bank_id: str
    at: datetime
    expired: dict[str, int] = field(default_factory=dict)
    entries: list[journal.Entry] = field(default_factory=list)


def expire_credit(session: Session, writer: Writer, *, bank_id: str, by: str, at: datetime) -> Expiry:
    """Move credit that has expired under policy `expiry_days` (as in force for each person's
    region; off by default) from people's accounts in the bank to its pool, oldest first: credit
    received before the cutoff (at − expiry_days) and not yet spent or expired,
    max(0, inflows before the cutoff − every outflow so far). One "expiry" entry per person.

    Running it again at the same time expires nothing more (expiries count as outflows), so it
    needs no idempotency key. `by` is an administrator covering the bank, named in each entry.
    Raises NotFound (region, staff), InvalidInput (not a bank), NotPermitted (`by`).
    """
    bank = get_region(session, bank_id)
    if bank.log_id is None:
        raise InvalidInput(f"{bank.name_zh} is not a bank", field="bank_id")
    people.get_staff(session, by, region_id=bank.id, role="administrator")
    store.lock_logs(session, [bank.log_id])
    version = policy.current_version(session)
    policies: dict[str, Policy] = {}
    result = Expiry(bank.id, at)
    rows = session.execute(
        sa.select(Account, sa.func.coalesce(sa.func.sum(sa.case((Posting.amount < 0, -Posting.amount), else_=0)), 0))
        .join(Posting, Posting.account_id == Account.id)
        .where(Account.bank_id == bank.id, Account.unit == "credit", Account.kind == "person", Account.balance > 0)
        .group_by(Account.id).order_by(Account.owner_id)
    ).all()
    pool = None
    with session.begin_nested():
        for acc, outflows in rows:
            pool = _expire_one(session, writer, bank, acc, int(outflows), at, version, policies, pool, result, by)
    return result


def _expire_one(session: Session, writer: Writer, bank: Region, acc: Account, outflows: int, at: datetime,
                version: int, policies: dict[str, Policy], pool: Account | None, result: Expiry,
                by: str) -> Account | None:
    """Expire what is due on one person's account; returns the pool account once opened."""
    region_id = people.person(session, acc.owner_id).region_id
    if region_id not in policies:
        policies[region_id] = policy.effective(session, get_region(session, region_id), version)
    days = policies[region_id].expiry_days
    if days is None:
        return pool
    cutoff = at - timedelta(days=days)
    early = int(session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Posting.amount), 0)).where(
        Posting.account_id == acc.id, Posting.amount > 0, Posting.at < cutoff)) or 0)
    amount = min(max(0, early - outflows), accounts.balance_of(session, acc.id))
    if amount <= 0:
        return pool
    pool = pool or accounts.bank_account(session, bank, "pool", at)
    entry = accounts.transfer(
        session, writer, bank=bank, type="expiry", at=at, subject_id=acc.owner_id, policy_version=version,
        body={"person": acc.owner_id, "credit_minutes": amount, "expiry_days": days,
              "cutoff": store.format_time(cutoff), "by": by},
        moves=[(acc, -amount), (pool, amount)])
    result.expired[acc.owner_id] = amount
    result.entries.append(entry)
    return pool
