"""The demo: a network of banks in two cities with a few months of life, built only through the
use cases (so everything in it obeys the rules and is in the ledger).

江苏省 → 连云港市 (bank) → 海州区 (bank), 连云区 (bank), 赣榆区; 宿迁市 (bank) → 宿城区. Streets,
communities and grids below; about 200 volunteers (students of two schools among them), 300
elders, three months of service records, redemptions, gifts, care agreements, points spent, one
redemption across banks and one estate. Personal details are generated (demo_people).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.writer import Writer

from . import catalogue, care, gifts, people, points, policy, records_confirm, records_feedback, records_review
from . import records_submit, redemption, regions, schools, users
from .accounts import Account
from .banks import open_bank
from .checks import CHINA
from .demo_people import DemoPeople
from .errors import DomainError
from .people import Elder, Volunteer
from .regions import Region
from .sealing import Sealer

PROVINCE_CODE = "320000"
# (code, 中文, English, level, parent code, bank log id or None, ID-number area)
TREE = (
    ("320700", "连云港市", "Lianyungang", "city", PROVINCE_CODE, "lianyungang", "320700"),
    ("320706", "海州区", "Haizhou", "county", "320700", "haizhou", "320706"),
    ("320706001", "新南街道", "Xinnan Street", "township", "320706", None, ""),
    ("320706001001", "朝阳社区", "Chaoyang Community", "community", "320706001", None, "320706"),
    ("320706001002", "新东社区", "Xindong Community", "community", "320706001", None, "320706"),
    ("320706002", "幸福路街道", "Xingfulu Street", "township", "320706", None, ""),
    ("320706002001", "幸福社区", "Xingfu Community", "community", "320706002", None, "320706"),
    ("320703", "连云区", "Lianyun", "county", "320700", "lianyun", "320703"),
    ("320703001", "连岛街道", "Liandao Street", "township", "320703", None, ""),
    ("320703001001", "海滨社区", "Haibin Community", "community", "320703001", None, "320703"),
    ("320703001002", "墟沟社区", "Xugou Community", "community", "320703001", None, "320703"),
    ("320707", "赣榆区", "Ganyu", "county", "320700", None, "320707"),
    ("320707001", "青口镇", "Qingkou Town", "township", "320707", None, ""),
    ("320707001001", "城南社区", "Chengnan Community", "community", "320707001", None, "320707"),
    ("321300", "宿迁市", "Suqian", "city", PROVINCE_CODE, "suqian", "321300"),
    ("321302", "宿城区", "Sucheng", "county", "321300", None, "321302"),
    ("321302001", "项里街道", "Xiangli Street", "township", "321302", None, ""),
    ("321302001001", "项里社区", "Xiangli Community", "community", "321302001", None, "321302"),
)
SCHOOLS = ("连云港市海州高级中学志愿服务队", "江苏海洋大学青年志愿者协会")
KIND_WEIGHTS = (("community", 30), ("party_member", 20), ("youth", 15), ("elder_helping_elder", 20),
                ("left_behind_woman", 5), ("student", 25))
TAGS = ("living_alone", "empty_nest", "semi_disabled", "disabled", "dementia", "low_income", "lost_only_child",
        "left_behind", "serious_illness")
EVERYDAY = ("MEAL", "CLEAN", "VISIT", "COMPANY", "SHOPPING", "ERRAND", "MEDICAL", "MOBILITY", "TEACH", "CULTURE")
TRAINED = ("BATH", "HOMECARE")
DEMO_PASSWORD = "timebank-demo-2026"  # the demo's sign-in accounts (printed by `timebank demo load`)
AGES = {"student": (16, 22), "elder_helping_elder": (60, 72), "youth": (18, 35)}


@dataclass
class DemoResult:
    """What the demo load made."""

    created: bool
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class _Town:
    """The demo's cast, kept while loading."""

    regions: dict[str, Region] = field(default_factory=dict)
    coordinators: dict[str, str] = field(default_factory=dict)  # community code → staff id
    admins: dict[str, str] = field(default_factory=dict)  # bank code → staff id
    stations: dict[str, str] = field(default_factory=dict)  # bank code → station id
    volunteers: list[Volunteer] = field(default_factory=list)
    elders: list[Elder] = field(default_factory=list)
    trained: set[str] = field(default_factory=set)
    children: dict[str, str] = field(default_factory=dict)  # volunteer id → parent elder id
    proxies: dict[str, str] = field(default_factory=dict)  # elder id → relative id who may confirm
    agreements: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n


def is_loaded(session: Session) -> bool:
    return session.scalar(sa.select(Region.id).where(Region.code == PROVINCE_CODE)) is not None


def load_demo(
    session: Session,
    writer: Writer,
    sealer: Sealer,
    *,
    origin_host: str,
    now: datetime,
    volunteers: int = 200,
    elders: int = 300,
    days: int = 90,
    seed: int = 2026,
    progress: Callable[[int], None] | None = None,
) -> DemoResult:
    """Build the demo network and live through `days` days up to `now`, committing once a day
    (`progress` gets 1 a day). Does nothing if the demo is loaded already."""
    if is_loaded(session):
        return DemoResult(False)
    keep, session.expire_on_commit = session.expire_on_commit, False  # the cast stays loaded between days
    try:
        return _load(session, writer, sealer, origin_host=origin_host, now=now, volunteers=volunteers, elders=elders,
                     days=days, seed=seed, progress=progress)
    finally:
        session.expire_on_commit = keep


def _load(session: Session, writer: Writer, sealer: Sealer, *, origin_host: str, now: datetime, volunteers: int,
          elders: int, days: int, seed: int, progress: Callable[[int], None] | None) -> DemoResult:
    rng = random.Random(seed)
    fake = DemoPeople(seed)
    start = datetime.combine((now.astimezone(CHINA) - timedelta(days=days)).date(), time(8), CHINA)
    town = _Town()
    _build_network(session, writer, sealer, town, origin_host, start.astimezone(timezone.utc))
    _register_people(session, sealer, town, rng, fake, volunteers, elders, start.astimezone(timezone.utc))
    _schools(session, writer, sealer, fake, town, start.astimezone(timezone.utc))
    _accounts(session, town, start.astimezone(timezone.utc))
    session.commit()
    for day in range(days):
        _live_one_day(session, writer, sealer, town, rng, start + timedelta(days=day), now)
        if day == days - 3:
            with session.begin_nested():
                _estate(session, writer, town, (start + timedelta(days=day, hours=12)).astimezone(timezone.utc))
        session.commit()
        if progress:
            progress(1)
    return DemoResult(True, dict(sorted(town.counts.items())))


# --- the network ---------------------------------------------------------------------------------

def _build_network(session: Session, writer: Writer, sealer: Sealer, town: _Town, origin_host: str,
                   at: datetime) -> None:
    province = regions.create_region(session, level="province", name_zh="江苏省", name_en="Jiangsu", code=PROVINCE_CODE,
                                     at=at)
    town.regions[PROVINCE_CODE] = province
    for code, zh, en, level, parent, log_id, _area in TREE:
        region = regions.create_region(session, level=level, name_zh=zh, name_en=en, code=code, at=at,
                                       parent_id=town.regions[parent].id)
        town.regions[code] = region
        if log_id:
            open_bank(session, writer, region_id=region.id, log_id=log_id, origin=f"{origin_host}/{log_id}", at=at)
            admin = people.register_staff(session, sealer, region_id=region.id, role="administrator",
                                          name=f"{zh}民政局管理员", at=at)
            town.admins[code] = admin.id
            station = regions.create_station(session, region_id=region.id, name=f"{zh}居家养老服务中心", at=at)
            town.stations[code] = station.id
        if level == "community":
            staff = people.register_staff(session, sealer, region_id=region.id, role="coordinator",
                                          name=f"{zh}网格员", at=at)
            town.coordinators[code] = staff.id
    brand = regions.create_organisation(session, region_id=town.regions["320700"].id, kind="brand", name="时间银行",
                                        at=at)
    regions.create_organisation(session, region_id=town.regions["320700"].id, kind="brand", name="以老助老", at=at)
    for name in SCHOOLS:
        regions.create_organisation(session, region_id=town.regions["320706"].id, kind="team", name=name, at=at,
                                    brand_id=brand.id)
    # a city-wide rule: bathing counts 1.3; a district overrides its daily cap
    policy.set_policy(session, writer, region_id=town.regions["320700"].id, changes={"weights": {"BATH": 130}},
                      set_by=town.admins["320700"], at=at)
    policy.set_policy(session, writer, region_id=town.regions["320703"].id, changes={"daily_cap_minutes": 360},
                      set_by=town.admins["320703"], at=at)
    catalogue.add_item(session, region_id=town.regions["320706"].id, code="HZ-HAIRCUT", name_zh="上门理发",
                       name_en="Haircut at home", category="daily_living", price_minutes=45, at=at)


def _communities(town: _Town) -> list[str]:
    return [code for code, *_rest in TREE if len(code) == 12]


def _area(code: str) -> str:
    return next(area for c, *_rest, area in TREE if c == code)


def _register_people(session: Session, sealer: Sealer, town: _Town, rng: random.Random, fake: DemoPeople,
                     volunteers: int, elders: int, at: datetime) -> None:
    communities = _communities(town)
    schools = {o.name: o.id for o in session.scalars(sa.select(regions.Organisation))}
    kinds = [k for k, w in KIND_WEIGHTS for _ in range(w)]
    today = at.date()
    for n in range(elders):
        code = communities[n % len(communities)]
        sex = fake.sex()
        birth = fake.birth(62, 96, today)
        age = people.age_on(birth, today)
        tags = (["age_80_plus"] if age >= 80 else []) + rng.sample(TAGS, rng.choice((0, 1, 1, 2)))
        elder = people.register_elder(
            session, sealer, region_id=town.regions[code].id, name=fake.name(sex), sex=sex, birth_date=birth,
            id_number=fake.id_number(_area(code), birth, sex), registered_by=town.coordinators[code],
            phone=fake.phone(), address=fake.address(town.regions[code].name_zh), tags=tags, at=at)
        town.elders.append(elder)
    town.count("elders", elders)
    for n in range(volunteers):
        code = communities[n % len(communities)]
        kind = rng.choice(kinds)
        sex = fake.sex()
        birth = fake.birth(*AGES.get(kind, (25, 59)), today)
        organisation = schools[SCHOOLS[n % 2]] if kind == "student" else None
        volunteer = people.register_volunteer(
            session, sealer, region_id=town.regions[code].id, name=fake.name(sex), sex=sex, birth_date=birth,
            id_number=fake.id_number(_area(code), birth, sex), kind=kind, phone=fake.phone(),
            address=fake.address(town.regions[code].name_zh), organisation_id=organisation, at=at)
        town.volunteers.append(volunteer)
        if kind != "student" and rng.random() < 0.2:
            people.add_training(session, volunteer_id=volunteer.id, course="养老护理员（初级）", study_minutes=16 * 60,
                                provider="连云港市养老服务指导中心", completed_on=today - timedelta(days=30),
                                recorded_by=town.coordinators[code], certifies=list(TRAINED), at=at)
            town.trained.add(volunteer.id)
    town.count("volunteers", volunteers)
    # some volunteers are children of elders in their own community (gifts go to them)
    for volunteer in town.volunteers:
        if volunteer.kind in ("community", "party_member", "youth") and rng.random() < 0.25:
            parent = rng.choice([e for e in town.elders if e.region_id == volunteer.region_id])
            if parent.id in town.children.values():
                continue
            people.add_relative(session, sealer, elder_id=parent.id, relation="child",
                                name=people.opened(sealer, volunteer)["name"] or "", person_id=volunteer.id,
                                may_confirm=False, may_redeem=True, at=at)
            town.children[volunteer.id] = parent.id
    for elder in town.elders:
        if rng.random() < 0.3:
            sex = fake.sex()
            relative = people.add_relative(session, sealer, elder_id=elder.id, relation=rng.choice(("child", "spouse")),
                                           name=fake.name(sex), phone=fake.phone(), may_confirm=True,
                                           may_redeem=True, at=at)
            town.proxies[elder.id] = relative.id


def _schools(session: Session, writer: Writer, sealer: Sealer, fake: DemoPeople, town: _Town, at: datetime) -> None:
    """Both schools register (20 hours of service a credit, at most 8 a day) with this term, and
    every student links to theirs with consent (a guardian's too, under 18)."""
    orgs = {o.id: o for o in session.scalars(sa.select(regions.Organisation).where(
        regions.Organisation.name.in_(SCHOOLS)))}
    term_start = at.astimezone(CHINA).date().replace(day=1)
    for org in orgs.values():
        schools.register_school(session, organisation_id=org.id, minutes_per_credit=1200, at=at)
        schools.add_term(session, school_id=org.id, name="2026-2027 第一学期", starts_on=term_start,
                         ends_on=term_start + timedelta(days=180), at=at)
    for n, student in enumerate(v for v in town.volunteers if v.kind == "student" and v.organisation_id in orgs):
        _, code = schools.invite(session, school_id=student.organisation_id or "", at=at)
        minor = people.age_on(student.birth_date, at.astimezone(CHINA).date()) < 18
        schools.link_student(session, writer, sealer, code=code, volunteer_id=student.id, guardian_consent=minor,
                             guardian_name=fake.name(fake.sex()) if minor else None,
                             class_name=f"高{1 + n % 3}({1 + n % 5})班", student_number=f"2026{n:04d}", at=at)
        town.count("students_linked")


def _accounts(session: Session, town: _Town, at: datetime) -> None:
    """One sign-in account a role, all with DEMO_PASSWORD, in 海州区 and its 朝阳社区."""
    community = town.regions["320706001001"]
    volunteer = next(v for v in town.volunteers if v.region_id == community.id and v.kind != "student")
    student = next((v for v in town.volunteers if v.kind == "student"), volunteer)
    elder = next(e for e in town.elders if e.region_id == community.id)
    school = session.scalar(sa.select(regions.Organisation).where(regions.Organisation.name == SCHOOLS[0]))
    accounts = {"demo-admin": ("administrator", town.admins["320706"]),
                "demo-coordinator": ("coordinator", town.coordinators["320706001001"]),
                "demo-volunteer": ("volunteer", volunteer.id), "demo-student": ("volunteer", student.id),
                "demo-elder": ("elder", elder.id), "demo-school": ("school", school.id if school else None),
                "demo-auditor": ("auditor", None)}
    for username, (role, subject) in accounts.items():
        users.create_user(session, username=username, password=DEMO_PASSWORD, role=role, subject_id=subject, at=at)
    town.count("sign_in_accounts", len(accounts))


# --- a day ---------------------------------------------------------------------------------------

def _live_one_day(session: Session, writer: Writer, sealer: Sealer, town: _Town, rng: random.Random,
                  day: datetime, now: datetime) -> None:
    """One day: yesterday's records confirmed, the day before's verified, today's services given and
    submitted, and the day's redemptions, gifts, visits and shopping. Events run in time order."""
    actions: list[tuple[datetime, int, Callable[[datetime], Any]]] = []
    serial = iter(range(10**6))

    def at(hour: float) -> datetime:
        return (day.replace(hour=0) + timedelta(hours=hour)).astimezone(timezone.utc)

    def plan(hour: float, action: Callable[[datetime], Any]) -> None:
        when = at(hour)
        if when <= now:
            actions.append((when, next(serial), action))

    for volunteer in rng.sample(town.volunteers, k=min(len(town.volunteers), rng.randrange(8, 16))):
        _plan_service(town, rng, volunteer, day, plan, session, writer, sealer)
    if rng.random() < 0.5:
        plan(15.5, lambda when: _gift(session, writer, town, rng, when))
    if rng.random() < 0.6:
        plan(16.0, lambda when: _redeem(session, writer, town, rng, when))
    if rng.random() < 0.3:
        plan(16.5, lambda when: _shop(session, writer, town, rng, when))
    if day.weekday() == 0 and len(town.agreements) < 40:
        plan(9.0, lambda when: _agreements(session, writer, sealer, town, rng, when))
    for k, agreement_id in enumerate(town.agreements):
        if rng.random() < 0.4:
            plan(18 + k / 100, lambda when, a=agreement_id: _contact(session, sealer, town, a, when))
    for _when, _n, action in sorted(actions, key=lambda a: (a[0], a[1])):
        try:
            with session.begin_nested():
                action(_when)
        except DomainError:
            town.count("refused")  # a refusal the rules made (e.g. not enough credit): life goes on


def _plan_service(town: _Town, rng: random.Random, volunteer: Volunteer, day: datetime,
                  plan: Callable[[float, Callable[[datetime], Any]], None], session: Session, writer: Writer,
                  sealer: Sealer) -> None:
    neighbours = [e for e in town.elders if e.region_id == volunteer.region_id and e.status == "active"]
    elder = rng.choice(neighbours)
    code = rng.choice(TRAINED) if volunteer.id in town.trained and rng.random() < 0.3 else rng.choice(EVERYDAY)
    start_hour = rng.choice((8.5, 9, 9.5, 10, 14, 14.5, 15))
    minutes = rng.choice((30, 45, 60, 60, 90, 120))
    community = next(c for c in _communities(town) if town.regions[c].id == volunteer.region_id)
    coordinator = town.coordinators[community]
    state: dict[str, Any] = {}

    def submit(when: datetime) -> None:
        started = (day.replace(hour=0) + timedelta(hours=start_hour)).astimezone(timezone.utc)
        record, code_ = records_submit.submit_record(
            session, writer, sealer, volunteer_id=volunteer.id, elder_id=elder.id, catalogue_code=code,
            started_at=started, ended_at=started + timedelta(minutes=minutes), submitted_by=volunteer.id,
            place="老人家中", paid=rng.random() < 0.03, at=when)
        state.update(record=record.id, code=code_)
        town.count("records")

    def confirm(when: datetime) -> None:
        roll = rng.random()
        if roll < 0.05:
            records_review.dispute_record(session, writer, record_id=state["record"], by=elder.id,
                                          reason="老人表示当天没有接受服务", at=when)
            town.count("disputed")
            return
        if roll < 0.65:
            records_confirm.confirm_with_code(session, writer, record_id=state["record"], code=state["code"], at=when)
        elif elder.id in town.proxies:
            records_confirm.confirm_as_proxy(session, writer, record_id=state["record"],
                                             relative_id=town.proxies[elder.id], at=when)
        else:
            records_confirm.confirm_as_witness(session, writer, record_id=state["record"], staff_id=coordinator,
                                               at=when)
        state["confirmed"] = True
        if rng.random() < 0.5:
            records_feedback.rate_record(session, writer, sealer, record_id=state["record"], by=elder.id,
                                         stars=rng.choice((4, 5, 5, 5, 3)), at=when)

    def verify(when: datetime) -> None:
        if not state.get("confirmed"):
            return
        if rng.random() < 0.03:
            records_review.reject_record(session, writer, record_id=state["record"], staff_id=coordinator,
                                         reason="服务时长与签到记录不符", at=when)
            town.count("rejected")
            return
        records_review.verify_record(session, writer, record_id=state["record"], staff_id=coordinator, at=when)
        town.count("verified")

    plan(start_hour + minutes / 60 + 0.5, submit)
    plan(24 + 11 + rng.random(), lambda when: state.get("record") and confirm(when))
    plan(48 + 9 + rng.random(), lambda when: state.get("record") and verify(when))


def _gift(session: Session, writer: Writer, town: _Town, rng: random.Random, when: datetime) -> None:
    rich = _holding(session, [v for v in town.volunteers if v.id in town.children], 120)
    if not rich:
        return
    giver = rng.choice(rich)
    gifts.give_credit(session, writer, giver_id=giver.id, recipient_id=town.children[giver.id], relation="parent",
                      minutes=rng.choice((60, 120)), at=when)
    town.count("gifts")


def _redeem(session: Session, writer: Writer, town: _Town, rng: random.Random, when: datetime) -> None:
    holders = [e for e in _holding(session, town.elders, 60) if e.status == "active"]
    if not holders:
        return
    elder = rng.choice(holders)
    code = rng.choice(("MEAL", "CLEAN", "BATH", "HZ-HAIRCUT" if _bank_code(town, elder) == "320706" else "VISIT"))
    away = town.counts.get("redemptions_away", 0) == 0 and _bank_code(town, elder) == "320706"
    region = town.regions["321302001001"] if away else _region_of(town, elder)
    requested_by = town.proxies.get(elder.id, elder.id)
    held = redemption.request_redemption(session, writer, redeemer_id=elder.id, catalogue_code=code, minutes=60,
                                         region_id=region.id, requested_by=requested_by, at=when)
    serving = "321300" if away else _bank_code(town, elder)
    if rng.random() < 0.1 and not away:
        redemption.cancel_redemption(session, writer, redemption_id=held.id, cancelled_by=requested_by, at=when)
        town.count("redemptions_cancelled")
        return
    staff = town.coordinators["321302001001"] if away else town.coordinators[_community_code(town, elder)]
    providers = [v for v in town.volunteers if _bank_code_of_region(town, v.region_id) == serving
                 and v.id != elder.id and (code != "BATH" or v.id in town.trained)]
    if code == "BATH" or not providers or rng.random() < 0.3:
        redemption.complete_redemption(session, writer, redemption_id=held.id, completed_by=staff,
                                       station_id=town.stations[serving], at=when + timedelta(hours=1))
    else:
        redemption.complete_redemption(session, writer, redemption_id=held.id, completed_by=staff,
                                       provider_volunteer_id=rng.choice(providers).id, at=when + timedelta(hours=1))
    town.count("redemptions_away" if away else "redemptions")


def _estate(session: Session, writer: Writer, town: _Town, when: datetime) -> None:
    """An elder who was given credit dies; it passes to the child who gave it."""
    parents = {elder_id: child for child, elder_id in town.children.items()}
    heirs = [e for e in _holding(session, town.elders, 1) if e.id in parents]
    if not heirs:
        return
    elder = heirs[0]
    gifts.set_heir(session, person_id=elder.id, heir_id=parents[elder.id])
    staff = town.coordinators[_community_code(town, elder)]
    people.set_status(session, writer, subject_id=elder.id, status="deceased", by=staff, at=when)
    gifts.settle_estate(session, writer, person_id=elder.id, settled_by=staff, at=when)
    town.count("estates")


def _shop(session: Session, writer: Writer, town: _Town, rng: random.Random, when: datetime) -> None:
    rich = _holding(session, town.volunteers, 3, unit="point")
    if rich:
        points.spend_points(session, writer, volunteer_id=rng.choice(rich).id, points=rng.choice((1, 2, 3)),
                            shop=rng.choice(points.SHOPS), item=rng.choice(("大米一袋", "食用油", "洗衣液", "毛巾")),
                            at=when)
        town.count("point_spends")


def _agreements(session: Session, writer: Writer, sealer: Sealer, town: _Town, rng: random.Random,
                when: datetime) -> None:
    signed = {a.elder_id for a in session.scalars(sa.select(care.CareAgreement))}
    alone = [e for e in town.elders if e.id not in signed and e.status == "active"
             and "living_alone" in people.current_tags(session, e.id)]
    for elder in alone[:8]:
        carers = [v for v in town.volunteers if v.region_id == elder.region_id]
        agreement = care.sign_agreement(session, writer, sealer, elder_id=elder.id, carer_kind="volunteer",
                                        carer_id=rng.choice(carers).id, signed_by=town.coordinators[
                                            _community_code(town, elder)], starts_on=when.astimezone(CHINA).date(),
                                        at=when)
        town.agreements.append(agreement.id)
        town.count("care_agreements")


def _contact(session: Session, sealer: Sealer, town: _Town, agreement_id: str, when: datetime) -> None:
    agreement = care.get_agreement(session, agreement_id)
    if agreement.ends_on is not None:
        return
    care.log_contact(session, sealer, agreement_id=agreement_id, kind="call" if when.day % 2 else "visit",
                     happened_at=when - timedelta(minutes=30), by=agreement.carer_id or agreement.signed_by,
                     minutes=15, at=when)
    town.count("care_contacts")


def _holding(session: Session, people_: list[Volunteer] | list[Elder], minimum: int, unit: str = "credit") -> list[Any]:
    """Those of `people_` whose account holds at least `minimum` (one query)."""
    rich = set(session.scalars(sa.select(Account.owner_id).where(
        Account.kind == "person", Account.unit == unit, Account.balance >= minimum)))
    return [p for p in people_ if p.id in rich]


def _region_of(town: _Town, person: Volunteer | Elder) -> Region:
    return next(r for r in town.regions.values() if r.id == person.region_id)


def _community_code(town: _Town, person: Volunteer | Elder) -> str:
    return next(code for code, r in town.regions.items() if r.id == person.region_id)


def _bank_code_of_region(town: _Town, region_id: str) -> str:
    region = next(r for r in town.regions.values() if r.id == region_id)
    for ancestor in reversed(region.ancestor_ids):
        code, bank = next((c, r) for c, r in town.regions.items() if r.id == ancestor)
        if bank.is_bank:
            return code
    raise LookupError(region_id)


def _bank_code(town: _Town, person: Volunteer | Elder) -> str:
    return _bank_code_of_region(town, person.region_id)

