"""Who may call each endpoint of /api/v1 balances, history, redemptions, gifts, estates, points and
expiry; and the plain helpers that give people credit and make the objects the calls act on."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from apiworld import PASSWORD, ApiWorld, Rule, id_number

from timebank import accounts, journal, people, redemption, users

B = "/api/v1"


def now() -> datetime:
    return datetime.now(timezone.utc)


def give(world: ApiWorld, person_id: str, minutes: int, unit: str = "credit",
         at: datetime | None = None) -> journal.Entry:
    """Credit (or points) straight into a person's home-bank account, as a verified record would."""
    with world.session() as s:
        at = at or now()
        bank = people.home_bank(s, person_id)
        entry = accounts.transfer(
            s, world.writer(), bank=bank, type="deposit", at=at, body={"test_deposit": person_id, "unit": unit},
            moves=[(accounts.bank_account(s, bank, "issuance", at, unit=unit), -minutes),
                   (accounts.person_account(s, bank=bank, person_id=person_id, at=at, unit=unit), minutes)])
        s.commit()
        return entry


def new_elder(world: ApiWorld, region: str = "community", *, user: bool = False) -> str:
    """A new elder in `region` (a key of world.ids); with `user`, signed-in as world.as_user(<id>)."""
    with world.session() as s:
        birth = date(1941, 2, 3)
        elder = people.register_elder(s, world.sealer(), region_id=world.ids[region], name="周爷爷", sex="M",
                                      birth_date=birth, id_number=id_number(birth), registered_by="test",
                                      phone="13912345678", address="朝阳社区9号楼", at=now())
        if user:
            made = users.create_user(s, username=f"u.{elder.id[-12:].lower()}", password=PASSWORD, role="elder",
                                     subject_id=elder.id, at=now())
            world.usernames[elder.id] = made.username
        s.commit()
        return elder.id


def new_volunteer(world: ApiWorld, region: str = "community", *, user: bool = False,
                  birth: date = date(1955, 1, 2)) -> str:
    """A new volunteer (old enough to redeem by default); with `user`, signed-in as world.as_user(<id>)."""
    with world.session() as s:
        volunteer = people.register_volunteer(s, world.sealer(), region_id=world.ids[region], name="吴志愿", sex="M",
                                              birth_date=birth, id_number=id_number(birth), kind="community",
                                              phone="13812345678", at=now())
        if user:
            made = users.create_user(s, username=f"u.{volunteer.id[-12:].lower()}", password=PASSWORD,
                                     role="volunteer", subject_id=volunteer.id, at=now())
            world.usernames[volunteer.id] = made.username
        s.commit()
        return volunteer.id


def requested(world: ApiWorld, redeemer: str | None = None, region: str = "community", minutes: int = 30) -> str:
    """A redemption of MEAL requested by the redeemer (the world's elder by default), credit given first."""
    redeemer = redeemer or world.ids["elder"]
    give(world, redeemer, minutes)
    with world.session() as s:
        found = redemption.request_redemption(s, world.writer(), redeemer_id=redeemer, catalogue_code="MEAL",
                                              minutes=minutes, region_id=world.ids[region], requested_by=redeemer,
                                              at=now())
        s.commit()
        return found.id


def deceased_with_credit(world: ApiWorld, minutes: int = 45) -> str:
    """A new elder of 朝阳社区 holding credit, whose death is recorded."""
    elder_id = new_elder(world)
    give(world, elder_id, minutes)
    with world.session() as s:
        people.set_status(s, world.writer(), subject_id=elder_id, status="deceased", by=world.ids["coordinator"],
                          at=now())
        s.commit()
    return elder_id


# --- samples ------------------------------------------------------------------------------------

def _balance(world: ApiWorld) -> tuple[str, Any]:
    return f"{B}/people/{world.ids['elder']}/balance", None


def _history(world: ApiWorld) -> tuple[str, Any]:
    return f"{B}/people/{world.ids['student']}/history", None


def _request(world: ApiWorld) -> tuple[str, Any]:
    give(world, world.ids["elder"], 30)
    return f"{B}/redemptions", {"redeemer_id": world.ids["elder"], "catalogue_code": "MEAL", "minutes": 30,
                                "region_id": world.ids["community"]}


def _one(world: ApiWorld) -> tuple[str, Any]:
    return f"{B}/redemptions/{requested(world)}", None


def _complete(world: ApiWorld) -> tuple[str, Any]:
    return f"{B}/redemptions/{requested(world)}/complete", {"provider_volunteer_id": world.ids["volunteer"]}


def _cancel(world: ApiWorld) -> tuple[str, Any]:
    return f"{B}/redemptions/{requested(world)}/cancel", None


GIVERS = ("volunteer", "student", "elder", "other_volunteer", "other_elder")


def _gift(world: ApiWorld) -> tuple[str, Any]:
    for giver in GIVERS:
        give(world, world.ids[giver], 1)
    return f"{B}/gifts", {"recipient_id": new_elder(world), "minutes": 1, "relation": "parent"}


def _gifts(world: ApiWorld) -> tuple[str, Any]:
    return f"{B}/people/{world.ids['elder']}/gifts", None


def _estate(world: ApiWorld) -> tuple[str, Any]:
    return f"{B}/people/{deceased_with_credit(world)}/estate", None


def _spend(world: ApiWorld) -> tuple[str, Any]:
    give(world, world.ids["volunteer"], 1, unit="point")
    return f"{B}/points/spend", {"volunteer_id": world.ids["volunteer"], "points": 1, "shop": "love_market",
                                 "item": "大米一袋"}


def _expire(world: ApiWorld) -> tuple[str, Any]:
    return f"{B}/banks/{world.ids['haizhou']}/expire", None


STAFF = frozenset({"coordinator", "administrator"})
ELDER_SIDE = frozenset({"elder", "proxy"}) | STAFF

RULES: list[Rule] = [
    Rule("GET", "/api/v1/people/{person_id}/balance", ELDER_SIDE, _balance),
    Rule("GET", "/api/v1/people/{person_id}/history", frozenset({"student", "school"}) | STAFF, _history),
    Rule("POST", "/api/v1/redemptions", ELDER_SIDE, _request),
    Rule("GET", "/api/v1/redemptions", frozenset({"volunteer", "student", "elder", "proxy", "coordinator",
                                                  "administrator", "other_coordinator", "other_administrator",
                                                  "other_volunteer", "other_elder"}), None),
    Rule("GET", "/api/v1/redemptions/{redemption_id}", ELDER_SIDE, _one),
    Rule("POST", "/api/v1/redemptions/{redemption_id}/complete", STAFF, _complete),
    Rule("POST", "/api/v1/redemptions/{redemption_id}/cancel", ELDER_SIDE, _cancel),
    Rule("POST", "/api/v1/gifts", frozenset(GIVERS), _gift),
    Rule("GET", "/api/v1/people/{person_id}/gifts", frozenset({"elder"}) | STAFF, _gifts),
    Rule("POST", "/api/v1/people/{person_id}/estate", STAFF, _estate),
    Rule("POST", "/api/v1/points/spend", frozenset({"volunteer"}) | STAFF, _spend),
    Rule("POST", "/api/v1/banks/{bank_id}/expire", frozenset({"administrator"}), _expire),
]
