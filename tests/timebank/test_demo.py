"""The demo: built through the use cases, it verifies, reconciles, and leaks no personal data into
any leaf."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ledger import audit, store
from ledger.keys import Keyring
from ledger.writer import Writer
from timebank import care, people, records, users
from timebank.demo import DEMO_PASSWORD, load_demo
from timebank.reconcile import reconcile
from timebank.rekey import sealed_columns
from timebank.regions import list_banks
from timebank.sealing import Sealer


@pytest.fixture(scope="module")
def demo(databases: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Keyring, Sealer, dict]]:
    engine = databases.new_engine()  # type: ignore[attr-defined]
    keyring, sealer = Keyring(tmp_path_factory.mktemp("demo") / "keys"), Sealer.generate()
    with Session(engine) as session:
        result = load_demo(session, Writer(keyring), sealer, origin_host="demo.test",
                           now=datetime.fromisoformat("2026-11-25T09:30:00+00:00"), volunteers=40, elders=60, days=20)
    assert result.created
    yield engine, keyring, sealer, result.counts


def all_leaves(session: Session) -> Iterator[tuple[str, bytes]]:
    for log in store.list_logs(session):
        for data in store.read_leaves(session, log.id, 0, store.stored_size(session, log.id)):
            yield log.id, data


def test_the_demo_lives_through_every_kind_of_event(demo: tuple[Engine, Keyring, Sealer, dict]) -> None:
    counts = demo[3]
    assert counts["volunteers"] == 40 and counts["elders"] == 60
    for what in ("records", "verified", "rejected", "disputed", "gifts", "redemptions", "redemptions_away",
                 "estates", "care_agreements", "care_contacts", "point_spends", "students_linked"):
        assert counts.get(what, 0) >= 1, what


def test_every_demo_log_verifies_and_every_bank_reconciles(demo: tuple[Engine, Keyring, Sealer, dict]) -> None:
    engine, keyring = demo[0], demo[1]
    with Session(engine) as session:
        banks = list_banks(session)
        assert len(banks) == 4
        for bank in banks:
            info = store.get_log(session, bank.log_id)  # type: ignore[arg-type]
            report = audit.verify_log(session, info.id, keyring.signer(info.id, info.origin).verifier)
            assert report.ok, report.problem
            found = reconcile(session, bank)
            assert found.ok, found.differences
            assert found.leaves > 1


def test_no_leaf_of_the_demo_holds_a_name_phone_id_number_or_address(
    demo: tuple[Engine, Keyring, Sealer, dict],
) -> None:
    engine, sealer = demo[0], demo[2]
    secrets: set[str] = set()
    with Session(engine) as session:
        columns = sealed_columns()
        assert {people.Volunteer, people.Elder, people.Relative, records.ServiceRecord, care.Contact} <= set(columns)
        for model, names in columns.items():
            for row in session.scalars(sa.select(model)):
                for column in names:
                    value = sealer.open(getattr(row, column), where=people.where(row, column))
                    if value and len(value) >= 2:
                        secrets.add(value)
        assert len(secrets) > 300
        leaves = list(all_leaves(session))
    assert len(leaves) > 500
    for log_id, data in leaves:
        text = data.decode("utf-8")
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"log {log_id} leaf holds personal data: {leaked[:3]}"


def test_loading_the_demo_again_changes_nothing(demo: tuple[Engine, Keyring, Sealer, dict]) -> None:
    engine, keyring, sealer = demo[0], demo[1], demo[2]
    with Session(engine) as session:
        before = {log.id: store.stored_size(session, log.id) for log in store.list_logs(session)}
        again = load_demo(session, Writer(keyring), sealer, origin_host="demo.test",
                          now=datetime.fromisoformat("2026-11-26T09:30:00+00:00"), volunteers=10, elders=10, days=3)
        assert not again.created
        assert {log.id: store.stored_size(session, log.id) for log in store.list_logs(session)} == before


def test_the_demo_keeps_its_personal_data_sealed_in_the_database(demo: tuple[Engine, Keyring, Sealer, dict]) -> None:
    engine, sealer = demo[0], demo[2]
    with Session(engine) as session:
        volunteer = session.scalars(sa.select(people.Volunteer)).first()
        assert volunteer is not None
        name = people.opened(sealer, volunteer)["name"]
        raw = session.execute(sa.text("SELECT * FROM volunteer WHERE id = :id"), {"id": volunteer.id}).one()
    assert name and all(name not in str(value) for value in raw)


def test_the_demo_has_a_sign_in_account_for_each_role(demo: tuple[Engine, Keyring, Sealer, dict]) -> None:
    engine = demo[0]
    with Session(engine) as session:
        roles = {users.sign_in(session, username=name, password=DEMO_PASSWORD, address="test",
                               at=datetime.fromisoformat("2026-11-25T10:00:00+00:00")).role
                 for name in ("demo-admin", "demo-coordinator", "demo-volunteer", "demo-student", "demo-elder",
                              "demo-school", "demo-auditor")}
        session.rollback()
    assert roles == {"administrator", "coordinator", "volunteer", "elder", "school", "auditor"}
