"""Redemption: credit held for a requested catalogue service, paid to the provider when done, returned on cancellation.

Requesting holds the credit in the home bank's escrow. Completing pays it out: at home, to the
volunteer who gave the service (who earns it) or to the bank's backstop for a station; away from
home (通存通兑), through the home bank's clearing account and an `away` entry in the serving
bank (see interbank). Cancelling returns the hold.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger import store
from ledger.writer import Writer

from . import accounts, catalogue, idempotency, interbank, journal, people, policy
from .accounts import Account
from .checks import china_date
from .errors import Conflict, InsufficientCredit, InvalidInput, NotFound, NotPermitted, Refused
from .model import Base, new_id
from .people import Elder, Relative, Staff, Volunteer
from .regions import Region, Station, bank_of, covers, get_region

STATUSES = ("requested", "completed", "cancelled")
PROVIDER_KINDS = ("volunteer", "station")
MAX_MINUTES = 1440


class Redemption(Base):
    """One requested catalogue service paid with credit: who, where, how much, and the entries behind it."""

    __tablename__ = "redemption"
    __table_args__ = (
        sa.CheckConstraint("status IN ('requested', 'completed', 'cancelled')", name="status"),
        sa.CheckConstraint("credit_minutes > 0", name="credit_positive"),
    )

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    redeemer_id: Mapped[str] = mapped_column(sa.String(40), index=True)  # a volunteer or an elder
    home_bank_id: Mapped[str] = mapped_column(sa.ForeignKey("region.id"), index=True)
    serving_bank_id: Mapped[str] = mapped_column(sa.ForeignKey("region.id"), index=True)
    region_id: Mapped[str] = mapped_column(sa.ForeignKey("region.id"), index=True)  # where the service is given
    catalogue_code: Mapped[str] = mapped_column(sa.ForeignKey("catalogue_item.code"))
    minutes: Mapped[int] = mapped_column(sa.Integer)
    credit_minutes: Mapped[int] = mapped_column(sa.BigInteger)
    policy_version: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(12))
    requested_by: Mapped[str] = mapped_column(sa.String(40))  # the person, a relative's id, or staff
    on_behalf_of: Mapped[str | None] = mapped_column(sa.String(40))  # the redeemer, when a proxy requested
    provider_kind: Mapped[str | None] = mapped_column(sa.String(12))
    provider_id: Mapped[str | None] = mapped_column(sa.String(40))
    completed_by: Mapped[str | None] = mapped_column(sa.String(40))
    cancelled_by: Mapped[str | None] = mapped_column(sa.String(40))
    hold_entry_id: Mapped[str] = mapped_column(sa.ForeignKey("entry.id"))
    release_entry_id: Mapped[str | None] = mapped_column(sa.ForeignKey("entry.id"))  # home: paid out or returned
    away_entry_id: Mapped[str | None] = mapped_column(sa.ForeignKey("entry.id"))  # serving bank's `away` entry
    link_entry_id: Mapped[str | None] = mapped_column(sa.ForeignKey("entry.id"))  # home: names the away entry
    requested_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]

    @property
    def is_away(self) -> bool:
        return self.home_bank_id != self.serving_bank_id


def get_redemption(session: Session, redemption_id: str) -> Redemption:
    """The redemption `redemption_id`; NotFound if none."""
    found = session.get(Redemption, redemption_id)
    if found is None:
        raise NotFound(f"no redemption {redemption_id!r}", field="redemption_id")
    return found


def redemptions_of(session: Session, person_id: str) -> list[Redemption]:
    """A person's redemptions, newest first."""
    return list(session.scalars(sa.select(Redemption).where(Redemption.redeemer_id == person_id)
                                .order_by(Redemption.requested_at.desc(), Redemption.id)))




def person_balance_at(session: Session, bank: Region, person_id: str) -> int:
    """A person's credit at one bank, read without opening an account."""
    return int(session.scalar(sa.select(Account.balance).where(
        Account.bank_id == bank.id, Account.unit == "credit", Account.kind == "person",
        Account.owner_id == person_id)) or 0)


def check_active(person: Volunteer | Elder, field: str) -> None:
    """Raises Refused(rule="status") unless the person's status is active."""
    if person.status != "active":
        raise Refused(f"{person.id} is {person.status}; only an active person's credit can be used", rule="status",
                      field=field)


def acting_for(session: Session, person: Volunteer | Elder, actor_id: str, region: Region, *, field: str) -> str | None:
    """Check that `actor_id` may use `person`'s credit for a service in `region`: the person
    themself, a relative of an elder allowed to redeem (a `Relative` id, or the registered person
    it links), or active staff covering the region of the service or the person's own region.

    Returns whom the actor acts on behalf of (None when acting for oneself). Raises NotPermitted.
    """
    if actor_id == person.id:
        return None
    if isinstance(person, Elder):
        relative = session.get(Relative, actor_id)
        if relative is None or relative.elder_id != person.id or relative.removed_at is not None:
            relative = people.relation_between(session, person.id, actor_id)
        if relative is not None:
            if not relative.may_redeem:
                raise NotPermitted(f"relative {relative.id} may confirm but not redeem for elder {person.id}; a "
                                   "coordinator must register them with may_redeem first", field=field)
            return person.id
    staff = session.get(Staff, actor_id)
    if staff is not None and staff.active:
        scope = get_region(session, staff.region_id)
        if covers(scope, region) or covers(scope, get_region(session, person.region_id)):
            return person.id
        raise NotPermitted(f"staff {actor_id} covers neither the region of the service nor {person.id}'s region",
                           field=field)
    raise NotPermitted(f"{actor_id} may not use {person.id}'s credit: only the person, a relative allowed to "
                       "redeem, or staff covering the region may", field=field)


def _check_minutes(minutes: int) -> None:
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 < minutes <= MAX_MINUTES:
        raise InvalidInput(f"minutes must be a whole number from 1 to {MAX_MINUTES}", field="minutes")


def request_redemption(
    session: Session,
    writer: Writer,
    *,
    redeemer_id: str,
    catalogue_code: str,
    minutes: int,
    region_id: str,
    requested_by: str,
    at: datetime,
    idempotency_key: str | None = None,
) -> Redemption:
    """Request `minutes` of the catalogue service `catalogue_code` in `region_id`, paid with the
    redeemer's credit, and hold that credit: entry "redemption" in the home bank, redeemer −X,
    escrow +X. X is the item's price, or minutes × the serving region's policy weight, rounded.

    Preconditions: the redeemer is active; `requested_by` is the redeemer, a relative of an elder
    allowed to redeem, or staff covering the region; a volunteer redeeming is at least their
    region's `redemption_age`; away from home, both banks accept each other; the balance covers X.
    Raises NotFound (redeemer, region, catalogue item), InvalidInput (minutes, a free item),
    Refused (rule status, redemption_age, accepted_banks; no bank covers the region),
    NotPermitted (requested_by), InsufficientCredit, Conflict (idempotency key reused).
    """
    redeemer = people.person(session, redeemer_id)
    region = get_region(session, region_id)
    home, serving = people.home_bank(session, redeemer.id), bank_of(session, region)
    assert home.log_id is not None and serving.log_id is not None
    store.lock_logs(session, [home.log_id, serving.log_id])
    params = {"redeemer": redeemer.id, "catalogue": catalogue_code, "minutes": minutes, "region": region.id,
              "by": requested_by}
    done = idempotency.replay(session, idempotency_key, "redemption.request", params)
    if done is not None:
        return get_redemption(session, done)
    session.refresh(redeemer)
    _check_minutes(minutes)
    check_active(redeemer, "redeemer_id")
    on_behalf_of = acting_for(session, redeemer, requested_by, region, field="requested_by")
    home_policy = policy.effective(session, get_region(session, redeemer.region_id))
    serving_policy = policy.effective(session, region, home_policy.version)
    if isinstance(redeemer, Volunteer):
        age = people.age_on(redeemer.birth_date, china_date(at))  # ages count China's calendar day
        if age < home_policy.redemption_age:
            raise Refused(f"volunteers redeem their own credit from age {home_policy.redemption_age}; "
                          f"{redeemer.id} is {age}", rule="redemption_age")
    interbank.check_accepted(home, home_policy, serving, serving_policy)
    item = catalogue.item_for(session, region, catalogue_code)
    credit = catalogue.credit_minutes(minutes, serving_policy.weight(item.code, item.weight_pct),
                                      serving_policy.rounding, item.price_minutes)
    if credit <= 0:
        raise InvalidInput(f"{item.code} costs no credit under this region's weights; nothing to redeem",
                           field="catalogue_code")
    held = person_balance_at(session, home, redeemer.id)
    if held < credit:
        raise InsufficientCredit(f"{redeemer.id} holds {held} credit minutes; {credit} are needed for "
                                 f"{minutes} minutes of {item.code}", needed=credit, balance=held)
    redemption_id = new_id("rdm")
    with session.begin_nested():
        entry = accounts.transfer(
            session, writer, bank=home, type="redemption", at=at, subject_id=redemption_id,
            policy_version=home_policy.version,
            body={"redemption": redemption_id, "action": "hold", "redeemer": redeemer.id, "catalogue": item.code,
                  "region": region.id, "serving_bank": serving.id, "minutes": minutes, "credit_minutes": credit,
                  "by": requested_by},
            moves=[(accounts.person_account(session, bank=home, person_id=redeemer.id, at=at), -credit),
                   (accounts.bank_account(session, home, "escrow", at), credit)],
        )
        redemption = Redemption(
            id=redemption_id, redeemer_id=redeemer.id, home_bank_id=home.id, serving_bank_id=serving.id,
            region_id=region.id, catalogue_code=item.code, minutes=minutes, credit_minutes=credit,
            policy_version=home_policy.version, status="requested", requested_by=requested_by,
            on_behalf_of=on_behalf_of, hold_entry_id=entry.id, requested_at=at,
        )
        session.add(redemption)
        session.flush()
        idempotency.remember(session, idempotency_key, "redemption.request", params, redemption.id, at)
    return redemption


def _locked(session: Session, redemption_id: str) -> tuple[Redemption, Region, Region]:
    """The redemption and its two banks, with both logs locked, then the row re-read under lock."""
    redemption = get_redemption(session, redemption_id)
    home, serving = get_region(session, redemption.home_bank_id), get_region(session, redemption.serving_bank_id)
    assert home.log_id is not None and serving.log_id is not None
    store.lock_logs(session, [home.log_id, serving.log_id])
    session.get(Redemption, redemption_id, with_for_update=True, populate_existing=True)
    return redemption, home, serving


def _check_requested(redemption: Redemption, at: datetime) -> None:
    if redemption.status != "requested":
        raise Conflict(f"redemption {redemption.id} is already {redemption.status}", field="redemption_id")
    if at < redemption.requested_at:
        raise InvalidInput("at is before the redemption was requested", field="at")


def _provider(
    session: Session, redemption: Redemption, serving: Region, volunteer_id: str | None, station_id: str | None
) -> tuple[str, str]:
    """Check the provider of a completed redemption; returns (kind, id)."""
    if (volunteer_id is None) == (station_id is None):
        raise InvalidInput("name exactly one provider: provider_volunteer_id or station_id", field="provider")
    item = session.get_one(catalogue.CatalogueItem, redemption.catalogue_code)
    if volunteer_id is not None:
        volunteer = people.get_volunteer(session, volunteer_id)
        if volunteer.id == redemption.redeemer_id:
            raise Refused("the redeemer cannot provide their own redeemed service", rule="provider", field="provider")
        check_active(volunteer, "provider_volunteer_id")
        if people.home_bank(session, volunteer.id).id != serving.id:
            raise Refused(f"the provider must be a volunteer of the serving bank {serving.name_zh}", rule="provider",
                          field="provider_volunteer_id")
        if not item.volunteer_eligible:
            raise Refused(f"volunteers may not give {item.code}; a station provides it", rule="volunteer_eligible")
        if item.training_required and not people.is_trained_for(session, volunteer.id, item.code):
            raise Refused(f"{item.code} needs a training certificate the provider lacks", rule="training_required")
        return "volunteer", volunteer.id
    station = session.get(Station, station_id)
    if station is None:
        raise NotFound(f"no station {station_id!r}", field="station_id")
    if bank_of(session, get_region(session, station.region_id)).id != serving.id:
        raise Refused(f"station {station.id} is not under the serving bank {serving.name_zh}", rule="provider",
                      field="station_id")
    return "station", station.id


def complete_redemption(
    session: Session,
    writer: Writer,
    *,
    redemption_id: str,
    completed_by: str,
    at: datetime,
    provider_volunteer_id: str | None = None,
    station_id: str | None = None,
    idempotency_key: str | None = None,
) -> Redemption:
    """Mark a requested redemption done and pay its held credit to the provider: a volunteer of the
    serving bank (who earns it) or a station under it (paid into the serving bank's backstop).

    At home: one "redemption" entry, escrow −X, provider or backstop +X. Away: the home bank's
    "redemption" entry (escrow −X, clearing[serving] +X), the serving bank's "away" entry
    (issuance −X, provider or backstop +X) naming it, and a "link" at home naming that.
    `completed_by` is staff covering the region of the service.
    Raises NotFound (redemption, staff, volunteer, station), NotPermitted (completed_by),
    InvalidInput (not exactly one provider), Refused (rule provider, status, volunteer_eligible,
    training_required), Conflict (not requested any more; idempotency key reused).
    """
    redemption, home, serving = _locked(session, redemption_id)
    params = {"redemption": redemption.id, "volunteer": provider_volunteer_id, "station": station_id,
              "by": completed_by}
    if idempotency.replay(session, idempotency_key, "redemption.complete", params) is not None:
        return redemption
    _check_requested(redemption, at)
    people.get_staff(session, completed_by, region_id=redemption.region_id)
    kind, provider_id = _provider(session, redemption, serving, provider_volunteer_id, station_id)
    credit = redemption.credit_minutes
    with session.begin_nested():
        escrow = accounts.bank_account(session, home, "escrow", at)
        target = (accounts.person_account(session, bank=serving, person_id=provider_id, at=at) if kind == "volunteer"
                  else accounts.bank_account(session, serving, "backstop", at))
        body = {"redemption": redemption.id, "action": "complete", "redeemer": redemption.redeemer_id,
                "catalogue": redemption.catalogue_code, "region": redemption.region_id, "minutes": redemption.minutes,
                "credit_minutes": credit, "provider_kind": kind, "provider": provider_id, "by": completed_by}
        if not redemption.is_away:
            release = accounts.transfer(session, writer, bank=home, type="redemption", body=body,
                                        moves=[(escrow, -credit), (target, credit)], at=at,
                                        subject_id=redemption.id, policy_version=redemption.policy_version)
        else:
            clearing = interbank.clearing_account(session, bank=home, other=serving, at=at)
            pair = interbank.write_pair(
                session, writer, first_bank=home, second_bank=serving, first_type="redemption", second_type="away",
                first_body={k: v for k, v in body.items() if k not in ("provider_kind", "provider")},
                second_body=body, first_moves=[(escrow, -credit), (clearing, credit)],
                second_moves=[(accounts.bank_account(session, serving, "issuance", at), -credit), (target, credit)],
                at=at, subject_id=redemption.id, policy_version=redemption.policy_version)
            release, redemption.away_entry_id, redemption.link_entry_id = pair.first, pair.second.id, pair.link.id
        redemption.status, redemption.provider_kind, redemption.provider_id = "completed", kind, provider_id
        redemption.completed_by, redemption.completed_at, redemption.release_entry_id = completed_by, at, release.id
        session.flush()
        idempotency.remember(session, idempotency_key, "redemption.complete", params, redemption.id, at)
    return redemption


def cancel_redemption(
    session: Session,
    writer: Writer,
    *,
    redemption_id: str,
    cancelled_by: str,
    at: datetime,
    idempotency_key: str | None = None,
) -> Redemption:
    """Cancel a requested redemption and return its hold: "redemption" entry at home, escrow −X,
    redeemer +X. `cancelled_by` may be whoever may request for the redeemer (see `acting_for`).

    Raises NotFound, NotPermitted (cancelled_by), Conflict (already completed or cancelled;
    idempotency key reused).
    """
    redemption, home, _serving = _locked(session, redemption_id)
    params = {"redemption": redemption.id, "by": cancelled_by}
    if idempotency.replay(session, idempotency_key, "redemption.cancel", params) is not None:
        return redemption
    _check_requested(redemption, at)
    redeemer = people.person(session, redemption.redeemer_id)
    acting_for(session, redeemer, cancelled_by, get_region(session, redemption.region_id), field="cancelled_by")
    credit = redemption.credit_minutes
    with session.begin_nested():
        entry = accounts.transfer(
            session, writer, bank=home, type="redemption", at=at, subject_id=redemption.id,
            body={"redemption": redemption.id, "action": "cancel", "redeemer": redeemer.id, "credit_minutes": credit,
                  "by": cancelled_by},
            moves=[(accounts.bank_account(session, home, "escrow", at), -credit),
                   (accounts.person_account(session, bank=home, person_id=redeemer.id, at=at), credit)],
        )
        redemption.status, redemption.cancelled_by, redemption.cancelled_at = "cancelled", cancelled_by, at
        redemption.release_entry_id = entry.id
        session.flush()
        idempotency.remember(session, idempotency_key, "redemption.cancel", params, redemption.id, at)
    return redemption


def entries_of(session: Session, redemption: Redemption) -> list[journal.Entry]:
    """The ledger entries of a redemption in both banks, oldest first."""
    return journal.entries_about(session, redemption.id)
