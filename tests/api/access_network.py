"""Who may call the network endpoints: regions, banks, stations, organisations, staff, the catalogue,
policy, statistics and settlement."""

from __future__ import annotations

import itertools
from datetime import datetime, timezone
from typing import Any

from apiworld import NOW, SIGNED_IN, ApiWorld, Rule

from ledger import store
from timebank import accounts, interbank, regions
from timebank.regions import create_region, get_region

_n = itertools.count(1)
STAFF = frozenset({"coordinator", "administrator"})
SCOPED_READERS = frozenset({"coordinator", "administrator", "auditor"})
ADMIN = frozenset({"administrator"})
V1 = "/api/v1"


def new_region(world: ApiWorld, parent: str = "community", level: str = "grid") -> str:
    """A new region under `parent` (a key of world.ids), committed."""
    with world.session() as session:
        region = create_region(session, level=level, name_zh=f"测试网格{next(_n)}", name_en="Test grid",
                               parent_id=world.ids[parent], at=datetime.now(timezone.utc))
        session.commit()
        return region.id


def owe(world: ApiWorld, debtor: str = "haizhou", creditor: str = "suqian", minutes: int = 60) -> None:
    """Make `debtor` owe `creditor` `minutes` of clearing credit, as a redemption away from home
    leaves it: a pair of entries (debtor: issuance → clearing; creditor: issuance → backstop)."""
    at = datetime.now(timezone.utc)
    with world.session() as session:
        a, b = get_region(session, world.ids[debtor]), get_region(session, world.ids[creditor])
        store.lock_logs(session, sorted([a.log_id or "", b.log_id or ""]))
        interbank.write_pair(
            session, world.writer(), first_bank=a, second_bank=b, first_type="redemption", second_type="away",
            first_body={"test": "owe"}, second_body={"test": "owe"},
            first_moves=[(interbank.clearing_account(session, bank=a, other=b, at=at), minutes),
                         (accounts.bank_account(session, a, "issuance", at), -minutes)],
            second_moves=[(accounts.bank_account(session, b, "issuance", at), -minutes),
                          (accounts.bank_account(session, b, "backstop", at), minutes)], at=at)
        session.commit()


def _region_body(world: ApiWorld) -> tuple[str, Any]:
    return f"{V1}/regions", {"parent_id": world.ids["haizhou"], "level": "township", "name_zh": "矩阵街道",
                             "name_en": "Matrix street"}


def _bank(world: ApiWorld) -> tuple[str, Any]:
    region_id = new_region(world, "haizhou", "township")
    return f"{V1}/regions/{region_id}/bank", {"log_id": f"matrix-{next(_n)}-{region_id[-6:]}"}


def _staff(world: ApiWorld) -> tuple[str, Any]:
    return f"{V1}/staff", {"region_id": world.ids["community"], "role": "coordinator", "name": "周网格"}


def _blacklist(world: ApiWorld) -> tuple[str, Any]:
    """A fresh team in 朝阳社区, to blacklist."""
    with world.session() as session:
        team = regions.create_organisation(session, region_id=world.ids["community"], kind="team",
                                           name=f"矩阵队{next(_n)}", at=NOW)
        session.commit()
        return f"{V1}/organisations/{team.id}/status", {"status": "blacklisted", "reason": "虚报服务时长"}


def _item(world: ApiWorld) -> tuple[str, Any]:
    return f"{V1}/catalogue", {"region_id": world.ids["haizhou"], "code": f"MATRIX-{next(_n)}", "name_zh": "读报",
                               "name_en": "Reading aloud", "category": "emotional"}


def _policy(world: ApiWorld) -> tuple[str, Any]:
    return f"{V1}/regions/{new_region(world)}/policy", {"changes": {"daily_cap_minutes": 420}}


def _settle(world: ApiWorld) -> tuple[str, Any]:
    owe(world, minutes=5)
    return f"{V1}/settlement", {"bank_a_id": world.ids["haizhou"], "bank_b_id": world.ids["suqian"]}


def _at(template: str, **keys: str) -> Any:
    """A sample that fills `{name}` in the path with world.ids[key]."""
    return lambda world: (template.format(**{name: world.ids[key] for name, key in keys.items()}), None)


def _post(template: str, body: dict[str, Any], **keys: str) -> Any:
    return lambda world: (template.format(**{name: world.ids[key] for name, key in keys.items()}), body)


RULES = [
    Rule("GET", f"{V1}/regions", SIGNED_IN),
    Rule("POST", f"{V1}/regions", ADMIN, _region_body),
    Rule("GET", f"{V1}/regions/{{region_id}}", SIGNED_IN, _at(V1 + "/regions/{r}", r="community")),
    Rule("POST", f"{V1}/regions/{{region_id}}/bank", ADMIN, _bank),
    Rule("GET", f"{V1}/regions/{{region_id}}/stations", SIGNED_IN, _at(V1 + "/regions/{r}/stations", r="haizhou")),
    Rule("POST", f"{V1}/regions/{{region_id}}/stations", ADMIN,
         _post(V1 + "/regions/{r}/stations", {"name": "朝阳站"}, r="community")),
    Rule("GET", f"{V1}/regions/{{region_id}}/organisations", SIGNED_IN,
         _at(V1 + "/regions/{r}/organisations", r="haizhou")),
    Rule("POST", f"{V1}/regions/{{region_id}}/organisations", ADMIN,
         _post(V1 + "/regions/{r}/organisations", {"kind": "team", "name": "朝阳以老助老队"}, r="community")),
    Rule("POST", f"{V1}/organisations/{{organisation_id}}/status", ADMIN, _blacklist),
    Rule("POST", f"{V1}/staff", ADMIN, _staff),
    Rule("GET", f"{V1}/staff/{{staff_id}}", STAFF, _at(V1 + "/staff/{s}", s="coordinator")),
    Rule("GET", f"{V1}/catalogue", SIGNED_IN, _at(V1 + "/catalogue?region_id={r}", r="community")),
    Rule("POST", f"{V1}/catalogue", ADMIN, _item),
    Rule("GET", f"{V1}/policy/knobs", SIGNED_IN),
    Rule("GET", f"{V1}/regions/{{region_id}}/policy", SIGNED_IN, _at(V1 + "/regions/{r}/policy", r="community")),
    Rule("POST", f"{V1}/regions/{{region_id}}/policy", ADMIN, _policy),
    Rule("GET", f"{V1}/regions/{{region_id}}/policy/history", SCOPED_READERS,
         _at(V1 + "/regions/{r}/policy/history", r="community")),
    Rule("GET", f"{V1}/regions/{{region_id}}/stats", SCOPED_READERS, _at(V1 + "/regions/{r}/stats", r="haizhou")),
    Rule("GET", f"{V1}/settlement", frozenset({"administrator", "other_administrator", "auditor"})),
    Rule("POST", f"{V1}/settlement", frozenset({"administrator", "other_administrator"}), _settle),
]
