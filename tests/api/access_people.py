"""Who may call each /api/v1 people endpoint: one Rule per (method, path)."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from apiworld import NOW, PASSWORD, ApiWorld, Rule, id_number

from timebank import people
from timebank.people import ID_WEIGHTS

STAFF = frozenset({"coordinator", "administrator"})
ALL_STAFF = STAFF | {"other_coordinator", "other_administrator"}
_serial = itertools.count(1)


def resident_id(birth: date, sex: str) -> str:
    """A fresh resident ID number whose birth date and sex digit agree with `birth` and `sex`."""
    n = next(_serial)
    body = f"3206{(n // 100) % 100:02d}{birth:%Y%m%d}{n % 100:02d}{1 if sex == 'M' else 2}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


def volunteer_body(world: ApiWorld, **changes: Any) -> dict[str, Any]:
    """A complete registration in 朝阳社区 with a fresh ID number."""
    birth = date(1985, 4, 2)
    body = {"region_id": world.ids["community"], "name": "周新人", "sex": "M", "birth_date": birth.isoformat(),
            "id_number": resident_id(birth, "M"), "phone": "13600000000", "kind": "community"}
    return {**body, **changes}


def elder_body(world: ApiWorld, **changes: Any) -> dict[str, Any]:
    birth = date(1938, 11, 20)
    body = {"region_id": world.ids["community"], "name": "吴爷爷", "sex": "M", "birth_date": birth.isoformat(),
            "id_number": resident_id(birth, "M"), "phone": "13500000000", "address": "朝阳社区5号楼", "tags": ["living_alone"]}
    return {**body, **changes}


def new_volunteer(world: ApiWorld) -> str:
    birth = date(1980, 1, 1)
    with world.session() as s:
        v = people.register_volunteer(s, world.sealer(), region_id=world.ids["community"], name="郑临时", sex="F",
                                      birth_date=birth, id_number=id_number(birth), kind="community", at=NOW)
        s.commit()
        return v.id


def new_elder(world: ApiWorld, tags: list[str] | None = None) -> str:
    birth = date(1941, 6, 6)
    with world.session() as s:
        e = people.register_elder(s, world.sealer(), region_id=world.ids["community"], name="冯奶奶", sex="F",
                                  birth_date=birth, id_number=id_number(birth), registered_by="test", tags=tags,
                                  at=NOW)
        s.commit()
        return e.id


def new_relative(world: ApiWorld) -> tuple[str, str]:
    with world.session() as s:
        r = people.add_relative(s, world.sealer(), elder_id=world.ids["elder"], relation="grandchild", name="刘孙子",
                                at=NOW)
        s.commit()
        return r.elder_id, r.id


def elder_code(world: ApiWorld) -> str:
    with world.session() as s:
        return s.get(people.Elder, world.ids["elder"]).short_code  # type: ignore[union-attr]


def sign_up_body(world: ApiWorld) -> dict[str, Any]:
    return volunteer_body(world, username=f"signup.{next(_serial)}", password=PASSWORD)


def _path(template: str, **ids: str) -> Any:
    return lambda world: (template.format(**{k: world.ids[v] for k, v in ids.items()}), None)


RULES: list[Rule] = [
    Rule("POST", "/api/v1/sign-up", frozenset({"anonymous"}),
         lambda w: ("/api/v1/sign-up", sign_up_body(w))),
    Rule("GET", "/api/v1/volunteers", ALL_STAFF | {"school"}, _path("/api/v1/volunteers")),
    Rule("POST", "/api/v1/volunteers", STAFF, lambda w: ("/api/v1/volunteers", volunteer_body(w))),
    Rule("GET", "/api/v1/volunteers/{volunteer_id}", STAFF | {"student", "school"},
         _path("/api/v1/volunteers/{v}", v="student")),
    Rule("POST", "/api/v1/volunteers/{volunteer_id}/status", frozenset({"administrator"}),
         lambda w: (f"/api/v1/volunteers/{new_volunteer(w)}/status", {"status": "suspended", "reason": "投诉核查中"})),
    Rule("GET", "/api/v1/volunteers/{volunteer_id}/status-history", STAFF | {"volunteer"},
         _path("/api/v1/volunteers/{v}/status-history", v="volunteer")),
    Rule("POST", "/api/v1/volunteers/{volunteer_id}/trainings", STAFF,
         lambda w: (f"/api/v1/volunteers/{w.ids['volunteer']}/trainings",
                    {"course": "助浴安全", "study_minutes": 90, "provider": "海州区民政局", "completed_on": "2024-03-01",
                     "certifies": ["BATH"]})),
    Rule("GET", "/api/v1/volunteers/{volunteer_id}/trainings", STAFF | {"volunteer"},
         _path("/api/v1/volunteers/{v}/trainings", v="volunteer")),
    Rule("GET", "/api/v1/elders", ALL_STAFF, _path("/api/v1/elders")),
    Rule("POST", "/api/v1/elders", STAFF, lambda w: ("/api/v1/elders", elder_body(w))),
    Rule("GET", "/api/v1/elders/{elder_id}", STAFF | {"elder", "proxy"}, _path("/api/v1/elders/{e}", e="elder")),
    Rule("GET", "/api/v1/elders/by-code/{short_code}", STAFF | {"volunteer", "student"},
         lambda w: (f"/api/v1/elders/by-code/{elder_code(w)}", None)),
    Rule("POST", "/api/v1/elders/{elder_id}/status", frozenset({"administrator"}),
         lambda w: (f"/api/v1/elders/{new_elder(w)}/status", {"status": "moved_away"})),
    Rule("POST", "/api/v1/elders/{elder_id}/tags", STAFF,
         lambda w: (f"/api/v1/elders/{new_elder(w)}/tags", {"tag": "empty_nest"})),
    Rule("DELETE", "/api/v1/elders/{elder_id}/tags/{tag}", STAFF,
         lambda w: (f"/api/v1/elders/{new_elder(w, ['dementia'])}/tags/dementia", None)),
    Rule("GET", "/api/v1/elders/{elder_id}/tags/history", STAFF, _path("/api/v1/elders/{e}/tags/history", e="elder")),
    Rule("POST", "/api/v1/elders/{elder_id}/relatives", STAFF,
         lambda w: (f"/api/v1/elders/{w.ids['elder']}/relatives", {"relation": "sibling", "name": "刘妹妹"})),
    Rule("GET", "/api/v1/elders/{elder_id}/relatives", STAFF | {"elder", "proxy"},
         _path("/api/v1/elders/{e}/relatives", e="elder")),
    Rule("DELETE", "/api/v1/elders/{elder_id}/relatives/{relative_id}", STAFF,
         lambda w: ("/api/v1/elders/{}/relatives/{}".format(*new_relative(w)), None)),
    Rule("PUT", "/api/v1/people/{person_id}/heir", STAFF | {"volunteer"},
         lambda w: (f"/api/v1/people/{w.ids['volunteer']}/heir", {"heir_id": w.ids["student"]})),
    Rule("GET", "/api/v1/people/{person_id}/access-log", frozenset({"administrator", "volunteer"}),
         _path("/api/v1/people/{p}/access-log", p="volunteer")),
]
