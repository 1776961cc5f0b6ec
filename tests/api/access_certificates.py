"""Who may call the certificate endpoints, and a factory that issues a certificate through the use cases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from access_records import make_record, now
from apiworld import ROLES, ApiWorld, Rule

from timebank.certificates import issue_certificate
from timebank.checks import china_date

B = "/api/v1"
OWNER_AND_STAFF = frozenset({"volunteer", "coordinator", "administrator"})


def period() -> dict[str, str]:
    """The last three China days, today included: covers every record make_record makes."""
    today = china_date(now())
    return {"start": (today - timedelta(days=2)).isoformat(), "end": today.isoformat()}


def served(world: ApiWorld, volunteer: str = "volunteer") -> str:
    """A posted record of `volunteer` (a key of world.ids or an id) in `period()`; returns its id."""
    record_id, _ = make_record(world, "posted", volunteer=volunteer, minutes=30)
    return record_id


def issued(world: ApiWorld, volunteer: str = "volunteer", *, fresh: bool = False) -> str:
    """The number of a certificate of `volunteer` (made once per world unless `fresh`)."""
    key = f"certificate:{volunteer}"
    if fresh or key not in world.ids:
        served(world, volunteer)
        volunteer_id = world.ids.get(volunteer, volunteer)
        with world.session() as s:
            cert = issue_certificate(s, world.writer(), world.sealer(), volunteer_id=volunteer_id,
                                     start=china_date(now()) - timedelta(days=2), end=china_date(now()),
                                     issued_by=volunteer_id, at=now())
            s.commit()
            world.ids[key] = cert.number
    return world.ids[key]


def _issue(world: ApiWorld) -> tuple[str, Any]:
    if "certificate:served" not in world.ids:
        world.ids["certificate:served"] = served(world)
    return f"{B}/certificates", {"volunteer_id": world.ids["volunteer"], **period()}


RULES: list[Rule] = [
    Rule("POST", f"{B}/certificates", OWNER_AND_STAFF, _issue),
    Rule("GET", f"{B}/certificates/{{number}}", frozenset(ROLES), lambda w: (f"{B}/certificates/{issued(w)}", None)),
    Rule("GET", f"{B}/certificates/{{number}}/signed", frozenset(ROLES),
         lambda w: (f"{B}/certificates/{issued(w)}/signed", None)),
    Rule("GET", f"{B}/certificates/{{number}}.pdf", OWNER_AND_STAFF,
         lambda w: (f"{B}/certificates/{issued(w)}.pdf", None)),
    Rule("GET", f"{B}/volunteers/{{volunteer_id}}/certificates", OWNER_AND_STAFF,
         lambda w: (f"{B}/volunteers/{w.ids['volunteer']}/certificates", None)),
]
