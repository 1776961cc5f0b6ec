"""Re-sealing after a key rotation: every value moves to the new key, nothing else changes, and an
old key is retired only when nothing is sealed with it any more."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from world import World, id_number

from timebank import care, people, rekey
from timebank.errors import Conflict
from timebank.people import Elder, Relative, Staff, Volunteer
from timebank.sealing import Sealer, SealError


def populate(world: World) -> None:
    """People of every kind, a care agreement with a sealed carer name and a contact with a sealed note."""
    s = world.session
    volunteers = [world.volunteer(address="解放路1号"), world.volunteer(phone=None)]
    elder = world.elder(health="半失能")
    people.add_relative(s, world.sealer, elder_id=elder.id, relation="child", name="刘儿子", phone="13700000000",
                        person_id=volunteers[0].id, at=world.now)
    people.add_relative(s, world.sealer, elder_id=elder.id, relation="friend", name="邻居陈", at=world.now)
    agreement = care.sign_agreement(s, world.writer, world.sealer, elder_id=elder.id, carer_kind="neighbour",
                                    carer_name="邻居陈阿姨", signed_by=world.coordinator.id,
                                    starts_on=date(2026, 11, 2), at=world.now)
    care.log_contact(s, world.sealer, agreement_id=agreement.id, kind="visit", by=world.coordinator.id,
                     happened_at=world.now - timedelta(days=1), at=world.now, note="一切安好")
    care.log_contact(s, world.sealer, agreement_id=agreement.id, kind="call", by=world.coordinator.id,
                     happened_at=world.now - timedelta(days=2), at=world.now)


def snapshot(session: Session) -> dict[str, dict[str, dict[str, Any]]]:
    """Every row of every table with sealed columns, as the database holds it."""
    session.flush()
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for model in rekey.sealed_columns():
        table: sa.Table = model.__table__  # type: ignore[attr-defined]
        out[table.name] = {row.id: dict(row._mapping) for row in session.execute(sa.select(table))}
    return out


def opened_all(session: Session, sealer: Sealer) -> dict[str, str | None]:
    """Every sealed value of every row, opened with `sealer`."""
    out: dict[str, str | None] = {}
    for model, columns in rekey.sealed_columns().items():
        for row in session.scalars(sa.select(model)):
            for column in columns:
                where = people.where(row, column)
                out[where] = sealer.open(getattr(row, column), where=where)
    return out


def sealed_values(session: Session) -> int:
    """How many sealed values (not None) the database holds."""
    return sum(getattr(row, column) is not None for model, columns in rekey.sealed_columns().items()
               for row in session.scalars(sa.select(model)) for column in columns)


def test_reseal_moves_every_value_to_the_new_key_and_changes_nothing_else(world: World) -> None:
    s, old = world.session, world.sealer
    populate(world)
    plain = opened_all(s, old)
    before = snapshot(s)
    new = old.rotated()
    total = sealed_values(s)
    assert total == sum(v is not None for v in plain.values()) > 15
    assert rekey.pending(s, new) == total
    assert rekey.reseal(s, new) == total
    retired = new.without({old.current})
    assert opened_all(s, retired) == plain
    with pytest.raises(SealError):
        opened_all(s, old)
    after = snapshot(s)
    assert after.keys() == before.keys()
    for table, rows in before.items():
        assert after[table].keys() == rows.keys()
        for row_id, row in rows.items():
            changed = {k for k in row if row[k] != after[table][row_id][k]}
            assert all(k.endswith("_sealed") for k in changed), (table, changed)
    assert rekey.retire_check(s, new, old.current) == 0
    assert rekey.pending(s, new) == 0
    assert rekey.reseal(s, new) == 0  # a second run does nothing
    assert snapshot(s) == after


def test_values_already_under_the_current_key_are_left_alone(world: World) -> None:
    s, old = world.session, world.sealer
    volunteer = world.volunteer()
    new = old.rotated()
    late = people.register_staff(s, new, region_id=world.grid.id, role="coordinator", name="新协调", at=world.now)
    kept = late.name_sealed
    assert rekey.reseal(s, new) == sealed_values(s) - 1
    assert late.name_sealed == kept
    assert people.opened(new.without({old.current}), volunteer)["name"] == "张志愿"


def test_reseal_works_in_pages_and_reports_progress(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    s = world.session
    for _ in range(7):
        world.volunteer()
    monkeypatch.setattr(rekey, "PAGE", 3)
    new = world.sealer.rotated()
    pages: list[int] = []
    total = rekey.reseal(s, new, progress=pages.append)
    volunteer_pages = pages[:3]
    assert volunteer_pages == [3 * 3, 3 * 3, 1 * 3]  # name, ID number and phone of 3, 3 and 1 volunteers
    assert sum(pages) == total == sealed_values(s)


def test_an_old_key_counts_what_it_still_seals_until_resealed(world: World) -> None:
    s, old = world.session, world.sealer
    populate(world)
    total = sealed_values(s)
    new = old.rotated()
    assert rekey.retire_check(s, new, old.current) == total
    assert rekey.key_usage(s, new) == {old.current: total, new.current: 0, None: 0}
    rekey.reseal(s, new)
    world.volunteer()  # a process still running with the old key file seals with the old key
    assert rekey.retire_check(s, new, old.current) == 3
    assert rekey.key_usage(s, new) == {old.current: 3, new.current: total, None: 0}
    with pytest.raises(SealError, match="current key"):
        rekey.retire_check(s, new, new.current)


def test_a_value_under_a_key_nobody_holds_is_counted_and_stops_reseal(world: World) -> None:
    s = world.session
    volunteer = world.volunteer()
    stranger = Sealer.generate()
    volunteer.address_sealed = stranger.seal("别处", where=people.where(volunteer, "address_sealed"))
    assert rekey.key_usage(s, world.sealer)[None] == 1
    with pytest.raises(SealError, match="does not hold"):
        rekey.reseal(s, world.sealer.rotated())


def test_every_sealed_column_is_covered_and_extra_columns_merge(world: World) -> None:
    assert rekey.uncovered() == []
    columns = rekey.sealed_columns({Volunteer: ("name_sealed",), Staff: ("name_sealed",)})
    assert columns[Volunteer] == people.SEALED_COLUMNS[Volunteer]
    assert {Volunteer, Elder, Relative, Staff, care.CareAgreement, care.Contact} <= columns.keys()
    with pytest.raises(ValueError, match="region_id"):
        rekey.sealed_columns({Volunteer: ("region_id",)})


def test_reseal_leaves_the_blind_index_so_duplicates_are_still_found(world: World) -> None:
    number = id_number()
    volunteer = world.volunteer(id_number=number)
    index = volunteer.id_index
    new = world.sealer.rotated()
    rekey.reseal(world.session, new)
    assert volunteer.id_index == index == new.blind_index(number, purpose="volunteer-id")
    with pytest.raises(Conflict):
        people.register_volunteer(world.session, new, region_id=world.community.id, name="重复", sex="M",
                                  birth_date=date(1990, 1, 1), id_number=number, kind="youth", at=world.now)
