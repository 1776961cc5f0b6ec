"""Who may call each endpoint of /api/v1 care agreements, contacts, compliance and visit rate; and
the helper that makes an agreement between the world's elder and volunteer afresh."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from access_credits import now
from apiworld import ApiWorld, Rule

from timebank import care
from timebank.care import CareAgreement
from timebank.checks import CHINA, china_date

B = "/api/v1"


def china_noon(day: date) -> str:
    return datetime.combine(day, time(12), CHINA).isoformat()


def sign(world: ApiWorld, elder_id: str, carer_id: str | None = None, *, starts_on: date | None = None,
         carer_kind: str = "volunteer", carer_name: str | None = None) -> str:
    """A care agreement signed by the world's coordinator."""
    with world.session() as s:
        agreement = care.sign_agreement(s, world.writer(), world.sealer(), elder_id=elder_id, carer_kind=carer_kind,
                                        carer_id=carer_id, carer_name=carer_name, signed_by=world.ids["coordinator"],
                                        starts_on=starts_on or china_date(now()) - timedelta(days=30), at=now())
        s.commit()
        return agreement.id


def pair_agreement(world: ApiWorld) -> tuple[str, date]:
    """A new open agreement between the world's elder and volunteer (its carer), and its first day:
    the previous one is ended on its first day and the new one starts the day after."""
    elder, carer = world.ids["elder"], world.ids["volunteer"]
    with world.session() as s:
        last = s.scalar(sa.select(CareAgreement).where(CareAgreement.elder_id == elder, CareAgreement.carer_id == carer)
                        .order_by(CareAgreement.starts_on.desc()).limit(1))
        if last is None:
            start = china_date(now()) - timedelta(days=1500)
        else:
            if last.ended_at is None:
                care.end_agreement(s, world.writer(), agreement_id=last.id, ends_on=last.starts_on,
                                   by=world.ids["coordinator"], at=now())
                s.commit()
            start = (last.ends_on or last.starts_on) + timedelta(days=1)
    return sign(world, elder, carer, starts_on=start), start


def this_monday() -> date:
    today = china_date(now())
    return today - timedelta(days=today.weekday())


def _sign(world: ApiWorld) -> tuple[str, Any]:
    return f"{B}/care-agreements", {"elder_id": world.ids["elder"], "carer_kind": "neighbour",
                                    "carer_name": "隔壁王阿姨", "starts_on": china_date(now()).isoformat()}


def _list(world: ApiWorld) -> tuple[str, Any]:
    return f"{B}/care-agreements?region_id={world.ids['community']}", None


def _one(world: ApiWorld) -> tuple[str, Any]:
    return f"{B}/care-agreements/{pair_agreement(world)[0]}", None


def _end(world: ApiWorld) -> tuple[str, Any]:
    agreement_id, start = pair_agreement(world)
    return f"{B}/care-agreements/{agreement_id}/end", {"ends_on": start.isoformat()}


def _log(world: ApiWorld) -> tuple[str, Any]:
    agreement_id, start = pair_agreement(world)
    return f"{B}/care-agreements/{agreement_id}/contacts", {"kind": "visit", "happened_at": china_noon(start),
                                                            "minutes": 30, "note": "老人说膝盖疼"}


def _contacts(world: ApiWorld) -> tuple[str, Any]:
    return f"{B}/care-agreements/{pair_agreement(world)[0]}/contacts", None


def _compliance(world: ApiWorld) -> tuple[str, Any]:
    return f"{B}/regions/{world.ids['haizhou']}/care-compliance?week_start={this_monday().isoformat()}", None


def _visit_rate(world: ApiWorld) -> tuple[str, Any]:
    return f"{B}/regions/{world.ids['haizhou']}/visit-rate?month={china_date(now()).replace(day=1).isoformat()}", None


STAFF = frozenset({"coordinator", "administrator"})

RULES: list[Rule] = [
    Rule("POST", "/api/v1/care-agreements", STAFF, _sign),
    Rule("GET", "/api/v1/care-agreements", STAFF, _list),
    Rule("GET", "/api/v1/care-agreements/{agreement_id}", STAFF | {"elder", "proxy", "volunteer"}, _one),
    Rule("POST", "/api/v1/care-agreements/{agreement_id}/end", STAFF, _end),
    Rule("POST", "/api/v1/care-agreements/{agreement_id}/contacts", STAFF | {"volunteer"}, _log),
    Rule("GET", "/api/v1/care-agreements/{agreement_id}/contacts", STAFF | {"volunteer"}, _contacts),
    Rule("GET", "/api/v1/regions/{region_id}/care-compliance", STAFF, _compliance),
    Rule("GET", "/api/v1/regions/{region_id}/visit-rate", STAFF | {"auditor"}, _visit_rate),
]
