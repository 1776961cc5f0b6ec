"""Balances re-derived from the ledger equal the kept ones; an edited balance or posting row is reported."""

from __future__ import annotations

import sqlalchemy as sa
from world import World

from timebank import accounts
from timebank.accounts import Account
from timebank.reconcile import reconcile


def give(world: World, person_id: str, minutes: int) -> Account:
    bank = world.haizhou
    issuance = accounts.bank_account(world.session, bank, "issuance", world.now)
    acc = accounts.person_account(world.session, bank=bank, person_id=person_id, at=world.now)
    accounts.transfer(world.session, world.writer, bank=bank, type="deposit", body={"test": True},
                      moves=[(issuance, -minutes), (acc, minutes)], at=world.now)
    return acc


def test_a_fresh_bank_reconciles(world: World) -> None:
    found = reconcile(world.session, world.haizhou)
    assert found.ok, found.differences
    assert found.leaves == 1  # the opening entry


def test_balances_after_transfers_equal_the_ledger(world: World) -> None:
    volunteer = world.volunteer()
    acc = give(world, volunteer.id, 90)
    give(world, volunteer.id, 30)
    assert accounts.balance_of(world.session, acc.id) == 120
    found = reconcile(world.session, world.haizhou)
    assert found.ok, found.differences
    assert found.leaves == 3


def test_a_balance_edited_in_the_database_is_reported(world: World) -> None:
    volunteer = world.volunteer()
    acc = give(world, volunteer.id, 90)
    world.session.execute(sa.update(Account).where(Account.id == acc.id).values(balance=900))
    found = reconcile(world.session, world.haizhou)
    assert not found.ok
    assert any(acc.id in d and "balance 900, ledger says 90" in d for d in found.differences), found.differences


def test_an_account_missing_from_the_table_is_reported(world: World) -> None:
    volunteer = world.volunteer()
    acc = give(world, volunteer.id, 45)
    world.session.execute(sa.text("UPDATE account SET bank_id = :other WHERE id = :id"),
                          {"other": world.suqian.id, "id": acc.id})
    found = reconcile(world.session, world.haizhou)
    assert any("not in the accounts table" in d for d in found.differences), found.differences


def test_other_banks_are_not_disturbed(world: World) -> None:
    give(world, world.volunteer().id, 60)
    assert reconcile(world.session, world.suqian).ok
    assert reconcile(world.session, world.lyg).ok
