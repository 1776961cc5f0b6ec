"""Recognition: star ratings and other schemes by verified hours, levels reached once, awards, leaderboards.

Hours are the service `minutes` of the volunteer's posted (verified, not reversed) records,
divided by 60: the time actually given, not the credit it earned (credit weights differ by
catalogue item and bank; a star level measures time). A level is reached when those minutes are at
least `hours * 60`. A level reached is recorded once (a `LevelReached` row and a "recognition"
ledger entry) and is never deleted: a later reversal that takes the volunteer below the threshold
leaves the record (it happened, and the ledger keeps it) while `current_level` drops and the
volunteer's standing marks the recorded level as not currently held.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger import store
from ledger.writer import Writer

from . import checks, journal, people
from .checks import china_date, china_days
from .errors import Conflict, InvalidInput
from .model import Base, new_id
from .people import Volunteer
from .records import ServiceRecord
from .regions import Region, get_region, in_subtree
from .sealing import Sealer

KINDS = ("cumulative", "annual")
AWARD_KINDS = ("award", "honour")
NATIONAL_STAR = "CN-STAR"
NATIONAL_LEVELS = [
    {"level": n, "name_zh": f"{n}星级志愿者", "name_en": f"{n}-star volunteer", "hours": hours}
    for n, hours in ((1, 100), (2, 300), (3, 600), (4, 1000), (5, 1500))
]
MAX_LEVELS = 30
MAX_HOURS = 100_000
MAX_AGE = 150


class Scheme(Base):
    """A recognition scheme: thresholds of verified hours, cumulative (ever) or annual (per calendar
    year in China time, with age bands). `region_id` None is national; otherwise it applies to
    volunteers of that region's subtree."""

    __tablename__ = "recognition_scheme"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    region_id: Mapped[str | None] = mapped_column(sa.ForeignKey("region.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[str] = mapped_column(sa.String(16))
    # [{level, name_zh, name_en, hours, min_age?, max_age?}]; ages (inclusive) only in annual schemes
    levels: Mapped[list[Any]] = mapped_column(sa.JSON)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(sa.String(40))
    created_at: Mapped[datetime]


class LevelReached(Base):
    """A level of a scheme a volunteer reached, recorded once (per period for annual schemes; the
    period of a cumulative scheme is "")."""

    __tablename__ = "level_reached"
    __table_args__ = (sa.UniqueConstraint("volunteer_id", "scheme_id", "level", "period",
                                          name="uq_level_reached_once"),)

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    volunteer_id: Mapped[str] = mapped_column(sa.ForeignKey("volunteer.id"), index=True)
    scheme_id: Mapped[str] = mapped_column(sa.ForeignKey("recognition_scheme.id"))
    level: Mapped[int] = mapped_column(sa.Integer)
    period: Mapped[str] = mapped_column(sa.String(8))
    hours: Mapped[int] = mapped_column(sa.Integer)  # the threshold
    minutes: Mapped[int] = mapped_column(sa.Integer)  # verified minutes when it was reached
    entry_id: Mapped[str] = mapped_column(sa.ForeignKey("entry.id"))
    at: Mapped[datetime]


class Award(Base):
    """An award or honour (敬老文明号, 最美志愿者) with its granting unit: public facts, not personal data.
    The ledger entry commits to name, unit and date (salted), as it holds no free text."""

    __tablename__ = "recognition_award"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    volunteer_id: Mapped[str] = mapped_column(sa.ForeignKey("volunteer.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(8))
    name: Mapped[str] = mapped_column(sa.String(200))
    granting_unit: Mapped[str] = mapped_column(sa.String(200))
    granted_on: Mapped[date]
    salt: Mapped[str] = mapped_column(sa.String(40))
    by: Mapped[str] = mapped_column(sa.String(40))
    entry_id: Mapped[str] = mapped_column(sa.ForeignKey("entry.id"))
    at: Mapped[datetime]


class LeaderboardEntry(Base):
    """A volunteer's choice to appear on leaderboards, under a name they chose or their masked name
    (taken when they opted in, with their consent; the real name is never shown)."""

    __tablename__ = "leaderboard_opt_in"

    volunteer_id: Mapped[str] = mapped_column(sa.ForeignKey("volunteer.id"), primary_key=True)
    opted_in: Mapped[bool] = mapped_column(sa.Boolean)
    display_name: Mapped[str | None] = mapped_column(sa.String(40))
    at: Mapped[datetime]


# --- schemes ------------------------------------------------------------------------------------

def _int(value: Any, field: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput(f"{field} must be a whole number from {low} to {high}", field=field)
    return value


def check_levels(kind: str, levels: Any) -> list[dict[str, Any]]:
    """The levels, checked: 1–30 of them, numbered uniquely, hours rising with the level within each
    age band; age bands (annual schemes only) must not overlap. Raises InvalidInput."""
    if not isinstance(levels, list) or not 1 <= len(levels) <= MAX_LEVELS:
        raise InvalidInput(f"levels must be a list of 1 to {MAX_LEVELS} levels", field="levels")
    out: list[dict[str, Any]] = []
    for item in levels:
        if not isinstance(item, dict):
            raise InvalidInput("each level must be an object {level, name_zh, name_en, hours}", field="levels")
        row = {"level": _int(item.get("level"), "levels.level", 1, MAX_LEVELS),
               "name_zh": checks.name(item.get("name_zh"), "levels.name_zh", 50),
               "name_en": checks.name(item.get("name_en"), "levels.name_en", 50),
               "hours": _int(item.get("hours"), "levels.hours", 1, MAX_HOURS)}
        ages = (item.get("min_age"), item.get("max_age"))
        if kind == "annual":
            row["min_age"] = _int(ages[0] if ages[0] is not None else 0, "levels.min_age", 0, MAX_AGE)
            row["max_age"] = _int(ages[1] if ages[1] is not None else MAX_AGE, "levels.max_age", 0, MAX_AGE)
            if row["min_age"] > row["max_age"]:
                raise InvalidInput("levels.min_age must not be above levels.max_age", field="levels.min_age")
        elif ages != (None, None):
            raise InvalidInput("age bands (min_age, max_age) belong to annual schemes only", field="levels.min_age")
        out.append(row)
    bands: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for row in out:
        bands.setdefault((row.get("min_age", 0), row.get("max_age", MAX_AGE)), []).append(row)
    for band in bands.values():
        band.sort(key=lambda r: r["level"])
        if len({r["level"] for r in band}) != len(band):
            raise InvalidInput("each level number may appear once (per age band)", field="levels.level")
        if any(a["hours"] >= b["hours"] for a, b in zip(band, band[1:], strict=False)):
            raise InvalidInput("hours must rise with the level", field="levels.hours")
    spans = sorted(bands)
    if any(a[1] >= b[0] for a, b in zip(spans, spans[1:], strict=False)):
        raise InvalidInput("age bands must not overlap", field="levels.min_age")
    return sorted(out, key=lambda r: (r.get("min_age", 0), r["level"]))


def create_scheme(
    session: Session, *, region_id: str | None, code: str, name_zh: str, name_en: str, kind: str,
    levels: Any, by: str | None, at: datetime,
) -> Scheme:
    """A new scheme for a region's subtree (None: national). Raises InvalidInput, NotFound (region),
    Conflict (the code is taken)."""
    code = checks.name(code, "code", 40)
    if not all(c.isascii() and (c.isalnum() or c in "-_") for c in code):
        raise InvalidInput("code may hold only ASCII letters, digits, '-' and '_'", field="code")
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}", field="kind")
    checked = check_levels(kind, levels)
    region = get_region(session, region_id) if region_id is not None else None
    names = checks.name(name_zh, "name_zh", 100), checks.name(name_en, "name_en", 100)
    if session.scalar(sa.select(Scheme.id).where(Scheme.code == code)) is not None:
        raise Conflict(f"a scheme with code {code!r} exists already; choose another code", field="code")
    scheme = Scheme(id=new_id("sch"), region_id=region.id if region else None, code=code, name_zh=names[0],
                    name_en=names[1], kind=kind, levels=checked, active=True, created_by=by, created_at=at)
    session.add(scheme)
    session.flush()
    return scheme


def ensure_national_schemes(session: Session, at: datetime) -> None:
    """Seed the national star rating (星级志愿者: 1★ 100 h … 5★ 1500 h, cumulative) once; idempotent."""
    if session.scalar(sa.select(Scheme.id).where(Scheme.code == NATIONAL_STAR)) is not None:
        return
    try:  # a concurrent request may seed it first: its row wins, ours is dropped
        with session.begin_nested():
            create_scheme(session, region_id=None, code=NATIONAL_STAR, name_zh="星级志愿者认定",
                          name_en="National star rating", kind="cumulative", levels=NATIONAL_LEVELS, by=None, at=at)
    except sa.exc.IntegrityError:
        pass


def list_schemes(session: Session, at: datetime) -> list[Scheme]:
    """Every scheme, national ones seeded first, by code."""
    ensure_national_schemes(session, at)
    return list(session.scalars(sa.select(Scheme).order_by(Scheme.code)))


def schemes_for(session: Session, region: Region, at: datetime) -> list[Scheme]:
    """The active schemes that apply to volunteers of `region`: national and those of its ancestors."""
    ensure_national_schemes(session, at)
    return list(session.scalars(sa.select(Scheme).where(
        Scheme.active.is_(True), sa.or_(Scheme.region_id.is_(None), Scheme.region_id.in_(region.ancestor_ids)),
    ).order_by(Scheme.code)))


# --- hours and levels ---------------------------------------------------------------------------

def verified_minutes(session: Session, volunteer_id: str, start: datetime | None = None,
                     end: datetime | None = None) -> int:
    """Service minutes of the volunteer's posted records (service started in [start, end) if given)."""
    query = sa.select(sa.func.coalesce(sa.func.sum(ServiceRecord.minutes), 0)).where(
        ServiceRecord.volunteer_id == volunteer_id, ServiceRecord.status == "posted")
    if start is not None:
        query = query.where(ServiceRecord.started_at >= start)
    if end is not None:
        query = query.where(ServiceRecord.started_at < end)
    return int(session.scalar(query) or 0)


def _periods(scheme: Scheme, at: datetime) -> list[tuple[str, datetime | None, datetime | None, date]]:
    """(period, start, end, day for the age band): a cumulative scheme has one; an annual one the
    calendar year of `at` and the one before (a record verified in January may count for December)."""
    today = china_date(at)
    if scheme.kind == "cumulative":
        return [("", None, None, today)]
    years = (today.year - 1, today.year)
    return [(str(y), *china_days(date(y, 1, 1), date(y + 1, 1, 1)), min(today, date(y, 12, 31))) for y in years]


def _levels_for(scheme: Scheme, birth_date: date, day: date) -> list[dict[str, Any]]:
    if scheme.kind == "cumulative":
        return list(scheme.levels)
    age = people.age_on(birth_date, day)
    return [lv for lv in scheme.levels if lv["min_age"] <= age <= lv["max_age"]]


def _held(levels: list[dict[str, Any]], minutes: int) -> list[dict[str, Any]]:
    return [lv for lv in levels if minutes >= lv["hours"] * 60]


def current_level(session: Session, *, volunteer_id: str, scheme: Scheme, at: datetime) -> dict[str, Any] | None:
    """The highest level of `scheme` the volunteer's verified hours give now (annual: this year),
    or None. Raises NotFound."""
    volunteer = people.get_volunteer(session, volunteer_id)
    period, start, end, day = _periods(scheme, at)[-1]
    held = _held(_levels_for(scheme, volunteer.birth_date, day), verified_minutes(session, volunteer.id, start, end))
    return held[-1] if held else None


def evaluate(session: Session, writer: Writer, *, volunteer_id: str, at: datetime) -> list[LevelReached]:
    """Record every level newly reached by the volunteer in the schemes of their region, each once,
    with a "recognition" ledger entry in their home bank. Returns the new records (none when
    nothing changed). Raises NotFound, Refused (no bank covers the volunteer)."""
    volunteer = people.get_volunteer(session, volunteer_id)
    bank = people.home_bank(session, volunteer.id)
    schemes = schemes_for(session, get_region(session, volunteer.region_id), at)
    store.lock_logs(session, [bank.log_id])  # type: ignore[list-item]
    made: list[LevelReached] = []
    for scheme in schemes:
        recorded = {(r.level, r.period) for r in session.scalars(sa.select(LevelReached).where(
            LevelReached.volunteer_id == volunteer.id, LevelReached.scheme_id == scheme.id))}
        for period, start, end, day in _periods(scheme, at):
            minutes = verified_minutes(session, volunteer.id, start, end)
            for level in _held(_levels_for(scheme, volunteer.birth_date, day), minutes):
                if (level["level"], period) in recorded:
                    continue
                row_id = new_id("lvl")
                body = {"level_reached": row_id, "volunteer": volunteer.id, "scheme": scheme.code,
                        "level": level["level"], "hours": level["hours"], "minutes": minutes}
                if period:
                    body["period"] = period
                entry = journal.write(session, writer, bank=bank, type="recognition", body=body, at=at,
                                      subject_id=volunteer.id)
                row = LevelReached(id=row_id, volunteer_id=volunteer.id, scheme_id=scheme.id, level=level["level"],
                                   period=period, hours=level["hours"], minutes=minutes, entry_id=entry.id, at=at)
                session.add(row)
                made.append(row)
    session.flush()
    return made


def standing(session: Session, *, volunteer_id: str, at: datetime) -> list[dict[str, Any]]:
    """Per applicable scheme: verified minutes (annual: this year), the current and next level, and
    every level recorded with whether it is currently held. Raises NotFound."""
    volunteer = people.get_volunteer(session, volunteer_id)
    out = []
    for scheme in schemes_for(session, get_region(session, volunteer.region_id), at):
        periods = _periods(scheme, at)
        now_held: dict[str, set[int]] = {}
        minutes_now = 0
        levels_now: list[dict[str, Any]] = []
        for period, start, end, day in periods:
            minutes_now = verified_minutes(session, volunteer.id, start, end)
            levels_now = _levels_for(scheme, volunteer.birth_date, day)
            now_held[period] = {lv["level"] for lv in _held(levels_now, minutes_now)}
        held = _held(levels_now, minutes_now)
        rows = session.scalars(sa.select(LevelReached).where(
            LevelReached.volunteer_id == volunteer.id, LevelReached.scheme_id == scheme.id,
        ).order_by(LevelReached.period, LevelReached.level))
        reached = [{"row": r, "held": r.level in now_held.get(r.period, set())} for r in rows]
        out.append({"scheme": scheme, "period": periods[-1][0] or None, "minutes": minutes_now,
                    "current": held[-1] if held else None,
                    "next": next((lv for lv in levels_now if minutes_now < lv["hours"] * 60), None),
                    "reached": reached})
    return out


# --- awards -------------------------------------------------------------------------------------

def grant_award(
    session: Session, writer: Writer, *, volunteer_id: str, name: str, granting_unit: str, granted_on: date,
    kind: str, by: str, at: datetime,
) -> Award:
    """Record an award or honour granted to a volunteer by `granting_unit`, entered by an
    administrator covering them, with a ledger entry. Raises InvalidInput, NotFound, NotPermitted,
    Refused (no bank)."""
    if kind not in AWARD_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(AWARD_KINDS)}", field="kind")
    name = checks.name(name, "name", 200)
    granting_unit = checks.name(granting_unit, "granting_unit", 200)
    granted_on = checks.a_date(granted_on, "granted_on")
    if granted_on > china_date(at) or granted_on.year < 1949:
        raise InvalidInput("granted_on must be a real date, not in the future", field="granted_on")
    volunteer = people.get_volunteer(session, volunteer_id)
    people.get_staff(session, by, region_id=volunteer.region_id, role="administrator")
    bank = people.home_bank(session, volunteer.id)
    store.lock_logs(session, [bank.log_id])  # type: ignore[list-item]
    award_id = new_id("awd")
    salt, digest = journal.commitment(name, granting_unit, granted_on.isoformat())
    entry = journal.write(session, writer, bank=bank, type="recognition", at=at, subject_id=volunteer.id,
                          body={"award": award_id, "volunteer": volunteer.id, "kind": kind,
                                "granted_on": granted_on.isoformat(), "commitment": digest})
    award = Award(id=award_id, volunteer_id=volunteer.id, kind=kind, name=name, granting_unit=granting_unit,
                  granted_on=granted_on, salt=salt, by=by, entry_id=entry.id, at=at)
    session.add(award)
    session.flush()
    return award


def awards_of(session: Session, volunteer_id: str) -> list[Award]:
    return list(session.scalars(sa.select(Award).where(Award.volunteer_id == volunteer_id)
                                .order_by(Award.granted_on, Award.id)))


# --- leaderboards -------------------------------------------------------------------------------

def set_leaderboard_opt_in(
    session: Session, sealer: Sealer, *, volunteer_id: str, on: bool, display_name: str | None, at: datetime,
) -> LeaderboardEntry:
    """Opt in (under `display_name`, or the masked real name when none) or out of leaderboards.
    Raises InvalidInput, NotFound."""
    if not isinstance(on, bool):
        raise InvalidInput("on must be true or false", field="on")
    chosen = checks.text(display_name, "display_name", 40, multiline=False)
    volunteer = people.get_volunteer(session, volunteer_id)
    if on and chosen is None:
        chosen = people.masked_name(people.opened(sealer, volunteer)["name"])
    row = session.get(LeaderboardEntry, volunteer.id)
    if row is None:
        row = LeaderboardEntry(volunteer_id=volunteer.id, opted_in=on, display_name=None, at=at)
        session.add(row)
    row.opted_in, row.display_name, row.at = on, chosen if on else None, at
    session.flush()
    return row


def leaderboard(session: Session, *, region_id: str, start: date, end: date, limit: int = 20) -> list[dict[str, Any]]:
    """Opted-in volunteers of the region's subtree ranked by verified service minutes of services on
    China days `start`–`end` (both included): rank, display name and minutes only. Raises NotFound,
    InvalidInput."""
    region = get_region(session, region_id)
    if end < start:
        raise InvalidInput("end must not be before start", field="to")
    if not 1 <= limit <= 200:
        raise InvalidInput("limit must be from 1 to 200", field="limit")
    lo, hi = china_days(start, end + timedelta(days=1))
    total = sa.func.sum(ServiceRecord.minutes).label("minutes")
    rows = session.execute(
        sa.select(LeaderboardEntry.display_name, total)
        .join(Volunteer, Volunteer.id == LeaderboardEntry.volunteer_id)
        .join(ServiceRecord, ServiceRecord.volunteer_id == Volunteer.id)
        .where(LeaderboardEntry.opted_in.is_(True), in_subtree(Volunteer.region_id, region),
               ServiceRecord.status == "posted", ServiceRecord.started_at >= lo, ServiceRecord.started_at < hi)
        .group_by(LeaderboardEntry.volunteer_id, LeaderboardEntry.display_name)
        .order_by(total.desc(), LeaderboardEntry.display_name).limit(limit)).all()
    return [{"rank": i, "display_name": name, "minutes": int(minutes)} for i, (name, minutes) in enumerate(rows, 1)]

