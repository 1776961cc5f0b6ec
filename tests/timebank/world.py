"""Plain factory functions for the domain tests: a network of three banks, people with valid
(generated) ID numbers."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from ledger.writer import Writer
from timebank import people
from timebank.banks import open_bank
from timebank.people import ID_WEIGHTS, Elder, Staff, Volunteer
from timebank.regions import Region, create_region
from timebank.sealing import Sealer

_serial = itertools.count(1)


def id_number(birth: date = date(1990, 1, 1), area: str = "320703") -> str:
    """A fresh, valid 18-character resident ID number (with its check digit)."""
    body = f"{area}{birth:%Y%m%d}{next(_serial) % 1000:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


@dataclass
class World:
    """江苏省 → 连云港市 (bank lyg) → 海州区 (bank haizhou) → 新南街道 → 朝阳社区 → 网格一;
    江苏省 → 宿迁市 (bank suqian) → 宿城区 → 幸福社区. Staff: a coordinator and an administrator in
    海州区, a coordinator in 宿迁市, an administrator of the whole province."""

    session: Session
    writer: Writer
    sealer: Sealer
    now: datetime
    province: Region
    lyg: Region
    haizhou: Region
    street: Region
    community: Region
    grid: Region
    suqian: Region
    sucheng: Region
    suqian_community: Region
    coordinator: Staff
    admin: Staff
    suqian_coordinator: Staff
    province_admin: Staff

    def volunteer(self, region: Region | None = None, **kw: Any) -> Volunteer:
        return make_volunteer(self.session, self.sealer, region or self.community, self.now, **kw)

    def elder(self, region: Region | None = None, **kw: Any) -> Elder:
        return make_elder(self.session, self.sealer, region or self.community, self.now, **kw)


def make_world(session: Session, writer: Writer, sealer: Sealer, now: datetime) -> World:
    def region(level: str, zh: str, en: str, parent: Region | None) -> Region:
        return create_region(session, level=level, name_zh=zh, name_en=en, at=now,
                             parent_id=parent.id if parent else None)

    def bank(r: Region, log_id: str) -> Region:
        return open_bank(session, writer, region_id=r.id, log_id=log_id, origin=f"timebank.test/{log_id}", at=now)

    province = region("province", "江苏省", "Jiangsu", None)
    lyg = bank(region("city", "连云港市", "Lianyungang", province), "lyg")
    haizhou = bank(region("county", "海州区", "Haizhou", lyg), "haizhou")
    street = region("township", "新南街道", "Xinnan Street", haizhou)
    community = region("community", "朝阳社区", "Chaoyang Community", street)
    grid = region("grid", "网格一", "Grid 1", community)
    suqian = bank(region("city", "宿迁市", "Suqian", province), "suqian")
    sucheng = region("county", "宿城区", "Sucheng", suqian)
    suqian_community = region("community", "幸福社区", "Xingfu Community", sucheng)
    coordinator = people.register_staff(session, sealer, region_id=haizhou.id, role="coordinator", name="王协调", at=now)
    admin = people.register_staff(session, sealer, region_id=haizhou.id, role="administrator", name="李管理", at=now)
    suqian_coordinator = people.register_staff(session, sealer, region_id=suqian.id, role="coordinator",
                                               name="赵协调", at=now)
    province_admin = people.register_staff(session, sealer, region_id=province.id, role="administrator",
                                           name="省管理员", at=now)
    return World(session, writer, sealer, now, province, lyg, haizhou, street, community, grid, suqian, sucheng,
                 suqian_community, coordinator, admin, suqian_coordinator, province_admin)


def make_volunteer(session: Session, sealer: Sealer, region: Region, now: datetime, **kw: Any) -> Volunteer:
    birth = kw.pop("birth_date", date(1990, 5, 17))
    fields: dict[str, Any] = dict(name="张志愿", sex="F", birth_date=birth, id_number=id_number(birth),
                                  kind="community", phone="13800000000")
    fields.update(kw)
    return people.register_volunteer(session, sealer, region_id=region.id, at=now, **fields)


def make_elder(session: Session, sealer: Sealer, region: Region, now: datetime, **kw: Any) -> Elder:
    birth = kw.pop("birth_date", date(1940, 3, 8))
    fields: dict[str, Any] = dict(name="刘奶奶", sex="F", birth_date=birth, id_number=id_number(birth),
                                  registered_by="stf_test", phone="13900000000", address="朝阳社区3号楼")
    fields.update(kw)
    return people.register_elder(session, sealer, region_id=region.id, at=now, **fields)
