"""Who may call the service-record endpoints, and factories that make records in any state."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from apiworld import ROLES, SIGNED_IN, ApiWorld, Rule, id_number

from timebank import people, records_confirm, records_review
from timebank.records import ServiceRecord
from timebank.records_submit import submit_record

_n = itertools.count()
STAFF = frozenset({"coordinator", "administrator"})
STATES = ("submitted", "confirmed", "posted", "disputed")


def now() -> datetime:
    return datetime.now(timezone.utc)


def fresh_volunteer(world: ApiWorld, **kw: Any) -> str:
    """A new volunteer in 朝阳社区 (so one test's records never crowd another's day)."""
    birth = date(1970, 1, 1) + timedelta(days=next(_n))
    with world.session() as s:
        volunteer = people.register_volunteer(s, world.sealer(), region_id=world.ids["community"], name="测试志愿者",
                                              sex="M", birth_date=birth, id_number=id_number(birth), at=now(),
                                              kind=kw.pop("kind", "community"), phone="13800000001", **kw)
        s.commit()
        return volunteer.id


def free_slot(world: ApiWorld, volunteer_id: str, minutes: int = 1) -> tuple[datetime, datetime]:
    """A span of `minutes` a few hours ago that none of the volunteer's records overlaps."""
    moment = now()
    with world.session() as s:
        latest = s.scalar(sa.select(sa.func.max(ServiceRecord.ended_at)).where(
            ServiceRecord.volunteer_id == volunteer_id, ServiceRecord.ended_at > moment - timedelta(hours=9)))
    start = moment - timedelta(hours=8)
    if latest is not None:
        start = max(start, latest.replace(tzinfo=latest.tzinfo or timezone.utc) + timedelta(minutes=1))
    assert start + timedelta(minutes=minutes) < moment, "no free slot left today for this volunteer"
    return start, start + timedelta(minutes=minutes)


def make_record(world: ApiWorld, state: str = "submitted", *, volunteer: str | None = None, elder: str = "elder",
                minutes: int = 1, **kw: Any) -> tuple[str, str]:
    """A record in `state` (one of STATES) by `volunteer` (a key of world.ids, a volunteer id, or
    a fresh volunteer) for the elder `elder`, made through the use cases; returns (record id, its
    one-time code)."""
    ids = world.ids
    volunteer_id = ids.get(volunteer, volunteer) if volunteer else fresh_volunteer(world)
    started, ended = free_slot(world, volunteer_id, minutes)
    with world.session() as s:
        record, code = submit_record(s, world.writer(), world.sealer(), volunteer_id=volunteer_id,
                                     elder_id=ids[elder], catalogue_code=kw.pop("catalogue_code", "MEAL"),
                                     started_at=started, ended_at=ended, submitted_by=volunteer_id, at=now(),
                                     place=kw.pop("place", "朝阳社区3号楼"), notes=kw.pop("notes", "陪老人吃午饭"), **kw)
        staff = ids["coordinator"] if elder == "elder" else ids["other_coordinator"]
        if state in ("confirmed", "posted"):
            records_confirm.confirm_as_witness(s, world.writer(), record_id=record.id, staff_id=staff, at=now())
        if state == "posted":
            records_review.verify_record(s, world.writer(), record_id=record.id, staff_id=staff, at=now())
        if state == "disputed":
            records_review.dispute_record(s, world.writer(), record_id=record.id, by=ids[elder], reason="没有来",
                                          at=now())
        s.commit()
        assert code is not None
        return record.id, code


def _record_path(state: str, tail: str, body: Any = None, volunteer: str | None = None) -> Any:
    def sample(world: ApiWorld) -> tuple[str, Any]:
        record_id, _code = make_record(world, state, volunteer=volunteer)
        return f"/api/v1/records/{record_id}{tail}", body
    return sample


def _submit(world: ApiWorld) -> tuple[str, Any]:
    started, ended = free_slot(world, world.ids["volunteer"])
    return "/api/v1/records", {"volunteer_id": world.ids["volunteer"], "elder_id": world.ids["elder"],
                               "catalogue_code": "MEAL", "started_at": started.isoformat(),
                               "ended_at": ended.isoformat(), "place": "朝阳社区3号楼"}


def _confirm_code(world: ApiWorld) -> tuple[str, Any]:
    record_id, code = make_record(world)
    return f"/api/v1/records/{record_id}/confirm-code", {"code": code}


def _bulk(world: ApiWorld) -> tuple[str, Any]:
    record_id, _code = make_record(world, "confirmed")
    return "/api/v1/records/verify", {"record_ids": [record_id]}


def _queue(world: ApiWorld) -> tuple[str, Any]:
    return f"/api/v1/regions/{world.ids['community']}/queue?status=confirmed", None


SEES_VOLUNTEERS_RECORD = frozenset({"volunteer", "elder", "proxy"}) | STAFF

RULES = [
    Rule("POST", "/api/v1/records", frozenset({"volunteer"}) | STAFF, _submit),
    Rule("GET", "/api/v1/records", SIGNED_IN - {"auditor"}),
    Rule("GET", "/api/v1/records/{record_id}", SEES_VOLUNTEERS_RECORD,
         _record_path("submitted", "", volunteer="volunteer")),
    Rule("GET", "/api/v1/records/{record_id}/events", SEES_VOLUNTEERS_RECORD,
         _record_path("submitted", "/events", volunteer="volunteer")),
    # the code is the elder's: whoever holds it confirms, with or without an account
    Rule("POST", "/api/v1/records/{record_id}/confirm-code", frozenset(ROLES), _confirm_code),
    Rule("POST", "/api/v1/records/{record_id}/new-code", frozenset({"volunteer"}) | STAFF,
         _record_path("submitted", "/new-code", volunteer="volunteer")),
    Rule("POST", "/api/v1/records/{record_id}/confirm", frozenset({"proxy"}) | STAFF,
         _record_path("submitted", "/confirm")),
    Rule("POST", "/api/v1/records/{record_id}/verify", STAFF, _record_path("confirmed", "/verify")),
    # staff of any region may call it; records out of their scope are reported not_found one by one
    Rule("POST", "/api/v1/records/verify", STAFF | {"other_coordinator", "other_administrator"}, _bulk),
    Rule("POST", "/api/v1/records/{record_id}/reject", STAFF,
         _record_path("submitted", "/reject", {"reason": "时间不对"})),
    Rule("POST", "/api/v1/records/{record_id}/dispute", frozenset({"elder", "proxy"}) | STAFF,
         _record_path("submitted", "/dispute", {"reason": "没有来"})),
    Rule("POST", "/api/v1/records/{record_id}/resolve", STAFF,
         _record_path("disputed", "/resolve", {"outcome": "reinstate"})),
    Rule("POST", "/api/v1/records/{record_id}/reverse", frozenset({"administrator"}),
         _record_path("posted", "/reverse", {"reason": "重复登记"})),
    Rule("POST", "/api/v1/records/{record_id}/rating", frozenset({"elder", "proxy"}),
         _record_path("confirmed", "/rating", {"stars": 5, "comment": "很好"})),
    Rule("POST", "/api/v1/records/{record_id}/complaints", frozenset({"elder", "proxy"}),
         _record_path("submitted", "/complaints", {"text": "迟到了半小时"})),
    Rule("GET", "/api/v1/records/{record_id}/complaints", STAFF, _record_path("submitted", "/complaints")),
    Rule("GET", "/api/v1/regions/{region_id}/queue", STAFF, _queue),
]
