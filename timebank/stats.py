"""Statistics per region: volunteers by kind, hours deposited and redeemed, outstanding credit (the
banks' liability), elders served by priority tag, visit compliance. Every figure is a query over
rows that point at ledger entries, so it can be traced and reconciled."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import care
from .checks import CHINA, china_date
from .accounts import Account
from .errors import InvalidInput
from .people import Elder, ElderTag, Volunteer
from .records import ServiceRecord
from .redemption import Redemption
from .regions import Region, get_region, in_subtree


@dataclass(frozen=True)
class RegionStats:
    """One region's figures for the period [start, end). Minutes are credit minutes unless named
    `service_minutes` (time actually given)."""

    region_id: str
    start: datetime
    end: datetime
    volunteers_by_kind: Mapping[str, int]
    elders: int
    records_posted: int
    service_minutes: int
    deposited_minutes: int
    deposited_by_catalogue: Mapping[str, int]
    deposited_by_month: Mapping[str, int]
    redeemed_minutes: int
    redemptions_completed: int
    outstanding_minutes: int
    bank_liability_minutes: int
    elders_served: int
    elders_served_by_tag: Mapping[str, int]
    agreements: int
    agreements_behind: int
    monthly_visit_rate: tuple[int, int] = field(default=(0, 0))

    @property
    def volunteers(self) -> int:
        return sum(self.volunteers_by_kind.values())


def region_statistics(session: Session, *, region_id: str, start: datetime, end: datetime, at: datetime) -> RegionStats:
    """The figures of `region_id`'s subtree for [start, end). Raises NotFound."""
    region = get_region(session, region_id)
    posted = sa.and_(
        ServiceRecord.status == "posted",
        ServiceRecord.verified_at >= start,
        ServiceRecord.verified_at < end,
        in_subtree(ServiceRecord.region_id, region),
    )
    kinds = dict(session.execute(
        sa.select(Volunteer.kind, sa.func.count()).where(in_subtree(Volunteer.region_id, region),
                                                         Volunteer.status != "deceased").group_by(Volunteer.kind)
    ).all())
    elders = session.scalar(sa.select(sa.func.count()).select_from(Elder).where(
        in_subtree(Elder.region_id, region), Elder.status == "active")) or 0
    count, service, credit = session.execute(sa.select(
        sa.func.count(), sa.func.coalesce(sa.func.sum(ServiceRecord.minutes), 0),
        sa.func.coalesce(sa.func.sum(ServiceRecord.credit_minutes), 0)).where(posted)).one()
    by_catalogue = dict(session.execute(
        sa.select(ServiceRecord.catalogue_code, sa.func.sum(ServiceRecord.credit_minutes)).where(posted)
        .group_by(ServiceRecord.catalogue_code).order_by(ServiceRecord.catalogue_code)).all())
    by_month: dict[str, int] = {}
    for verified_at, minutes in session.execute(sa.select(ServiceRecord.verified_at, ServiceRecord.credit_minutes)
                                                .where(posted)):
        month = verified_at.astimezone(CHINA).strftime("%Y-%m")
        by_month[month] = by_month.get(month, 0) + int(minutes or 0)
    redeemed, completed = session.execute(sa.select(
        sa.func.coalesce(sa.func.sum(Redemption.credit_minutes), 0), sa.func.count()).where(
        Redemption.status == "completed", Redemption.completed_at >= start, Redemption.completed_at < end,
        in_subtree(Redemption.region_id, region))).one()
    served = session.execute(sa.select(ServiceRecord.elder_id).where(posted).distinct()).scalars().all()
    by_tag = dict(session.execute(
        sa.select(ElderTag.tag, sa.func.count(sa.distinct(ElderTag.elder_id)))
        .where(ElderTag.elder_id.in_(served), ElderTag.removed_at.is_(None)).group_by(ElderTag.tag)
        .order_by(ElderTag.tag)).all()) if served else {}
    week_start = china_date(at) - timedelta(days=china_date(at).weekday())
    rows = care.compliance(session, region_id=region.id, week_start=week_start, at=at)
    return RegionStats(
        region_id=region.id, start=start, end=end,
        volunteers_by_kind=dict(sorted(kinds.items())), elders=int(elders),
        records_posted=int(count), service_minutes=int(service), deposited_minutes=int(credit),
        deposited_by_catalogue={k: int(v) for k, v in by_catalogue.items()},
        deposited_by_month=dict(sorted(by_month.items())),
        redeemed_minutes=int(redeemed), redemptions_completed=int(completed),
        outstanding_minutes=outstanding(session, region), bank_liability_minutes=bank_liability(session, region),
        elders_served=len(served), elders_served_by_tag=by_tag,
        agreements=len(rows), agreements_behind=sum(1 for r in rows if r.behind),
        monthly_visit_rate=care.monthly_visit_rate(session, region_id=region.id, month=china_date(at).replace(day=1)),
    )


def outstanding(session: Session, region: Region) -> int:
    """Credit minutes held by the people of `region`'s subtree (their person accounts)."""
    people_here = sa.union_all(
        sa.select(Volunteer.id).where(in_subtree(Volunteer.region_id, region)),
        sa.select(Elder.id).where(in_subtree(Elder.region_id, region)),
    )
    return int(session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Account.balance), 0)).where(
        Account.kind == "person", Account.unit == "credit", Account.owner_id.in_(people_here))) or 0)


def bank_liability(session: Session, region: Region) -> int:
    """What the banks in `region`'s subtree owe: minus their credit issuance balances. It equals the
    sum of every other credit account of those banks (person, escrow, backstop, pool, clearing)."""
    return -int(session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Account.balance), 0)).where(
        Account.kind == "issuance", Account.unit == "credit", in_subtree(Account.bank_id, region))) or 0)


# --- series for the administrators' dashboard ------------------------------------------------------

BUCKETS = ("week", "month")


def _bucket_start(day: date, bucket: str) -> date:
    """The Monday of `day`'s week, or the 1st of its month."""
    return day - timedelta(days=day.weekday()) if bucket == "week" else day.replace(day=1)


def _next_bucket(first: date, bucket: str) -> date:
    return first + timedelta(days=7) if bucket == "week" else (first + timedelta(days=32)).replace(day=1)


def credit_by_period(
    session: Session, *, region_id: str, start: datetime, end: datetime, bucket: str = "week"
) -> list[tuple[date, int]]:
    """Credit minutes posted in `region_id`'s subtree during [start, end), by China-time week (from
    Monday) or calendar month, oldest first; every week or month of the period is listed, empty
    ones as 0. Raises NotFound (region), InvalidInput (bucket, period)."""
    if bucket not in BUCKETS:
        raise InvalidInput(f"bucket must be one of {', '.join(BUCKETS)}", field="bucket")
    if end <= start:
        raise InvalidInput("end must be after start", field="end")
    region = get_region(session, region_id)
    totals: dict[date, int] = {}
    first = _bucket_start(china_date(start), bucket)
    last = china_date(end - timedelta(microseconds=1))
    while first <= last:
        totals[first] = 0
        first = _next_bucket(first, bucket)
    posted = sa.select(ServiceRecord.verified_at, ServiceRecord.credit_minutes).where(
        ServiceRecord.status == "posted", ServiceRecord.verified_at >= start, ServiceRecord.verified_at < end,
        in_subtree(ServiceRecord.region_id, region))
    for verified_at, minutes in session.execute(posted):
        key = _bucket_start(china_date(verified_at), bucket)
        totals[key] = totals.get(key, 0) + int(minutes or 0)
    return sorted(totals.items())


def credit_by_child_region(
    session: Session, *, region_id: str, start: datetime, end: datetime
) -> list[tuple[Region, int]]:
    """Credit minutes posted during [start, end) in `region_id` itself and under each of its child
    regions: (the region, minutes) for the region first, then each child by path. Raises NotFound."""
    region = get_region(session, region_id)
    kids = list(session.scalars(sa.select(Region).where(Region.parent_id == region.id).order_by(Region.path)))
    rows = session.execute(
        sa.select(Region.path, sa.func.coalesce(sa.func.sum(ServiceRecord.credit_minutes), 0))
        .join(Region, Region.id == ServiceRecord.region_id)
        .where(ServiceRecord.status == "posted", ServiceRecord.verified_at >= start, ServiceRecord.verified_at < end,
               in_subtree(ServiceRecord.region_id, region))
        .group_by(Region.path)).all()
    totals = {region.id: 0, **{kid.id: 0 for kid in kids}}
    for path, minutes in rows:
        below = path[len(region.path):].split("/", 1)[0]  # the child on the way down, "" for the region itself
        totals[below if below in totals else region.id] += int(minutes)
    return [(region, totals[region.id])] + [(kid, totals[kid.id]) for kid in kids]


def records_started(session: Session, *, region_id: str, start: datetime, end: datetime) -> list[ServiceRecord]:
    """Records (any status) of `region_id`'s subtree that started during [start, end), oldest
    submission first: what a policy preview weighs a change against. Raises NotFound."""
    region = get_region(session, region_id)
    return list(session.scalars(sa.select(ServiceRecord).where(
        ServiceRecord.started_at >= start, ServiceRecord.started_at < end, in_subtree(ServiceRecord.region_id, region))
        .order_by(ServiceRecord.submitted_at, ServiceRecord.id)))
