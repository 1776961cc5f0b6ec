"""Certificates: issuing from posted records, verifying against the ledger, supersession, the PDF."""

from __future__ import annotations

import base64
import io
from datetime import date

import pypdf
import pytest
import sqlalchemy as sa
from record_helpers import china, posted
from world import World

from ledger import canonical, merkle, store
from ledger.errors import CheckpointError
from ledger.note import Verifier
from timebank import certificate_pdf, recognition
from timebank.checks import CHINA
from timebank.certificates import (
    Certificate,
    issue_certificate,
    mask_name,
    open_signed,
    signed_certificate,
    verify_certificate,
)
from timebank.errors import InvalidInput, NotPermitted, Refused
from timebank.records_review import reverse_record

START, END = date(2026, 11, 1), date(2026, 11, 25)


def _issue(world: World, volunteer_id: str, by: str | None = None, **kw: object) -> Certificate:
    fields: dict[str, object] = dict(volunteer_id=volunteer_id, start=START, end=END, issued_by=by or volunteer_id,
                                     at=world.now)
    fields.update(kw)
    return issue_certificate(world.session, world.writer, world.sealer, **fields)  # type: ignore[arg-type]


def _served(world: World, name: str = "张志华") -> tuple[object, list[object]]:
    volunteer, elder = world.volunteer(name=name), world.elder()
    records = [posted(world, volunteer, elder, start=china(20, 9), span=90),
               posted(world, volunteer, elder, start=china(21, 9), span=30, code="MEAL")]
    return volunteer, records


def test_a_certificate_totals_the_posted_records_of_the_period_and_verifies(world: World) -> None:
    volunteer, records = _served(world)
    cert = _issue(world, volunteer.id)
    assert cert.number.startswith("TB-2026-") and len(cert.number) == len("TB-2026-000001")
    assert cert.minutes == 120 and cert.record_ids == [r.id for r in records]
    assert cert.unit_zh == world.haizhou.name_zh
    result = verify_certificate(world.session, world.sealer, number=cert.number)
    assert result.status == "valid" and result.problems == []
    assert result.facts["name"] == "张*华" and result.facts["hours"] == "2.00"
    assert len(result.records) == 2
    for rec in [r["deposit"] for r in result.records] + [result.certificate_entry]:
        cp = result.checkpoints[rec["log"]]
        verifier = Verifier.from_vkey(cp["vkey"])
        checkpoint = verifier.open_checkpoint(cp["note"].encode())
        leaf_hash = base64.b64decode(rec["leaf_hash"])
        merkle.verify_inclusion(rec["index"], checkpoint.size, leaf_hash,
                                [base64.b64decode(h) for h in rec["path"]], checkpoint.root)


def test_certificate_numbers_are_sequential_within_the_year(world: World) -> None:
    volunteer, _ = _served(world)
    first, second = _issue(world, volunteer.id), _issue(world, volunteer.id)
    assert int(second.number[-6:]) == int(first.number[-6:]) + 1


def test_no_name_reaches_the_ledger(world: World) -> None:
    volunteer, _ = _served(world, name="欧阳明月")
    cert = _issue(world, volunteer.id)
    log = world.haizhou.log_id
    assert log is not None
    size = store.stored_size(world.session, log)
    leaves = store.read_leaves(world.session, log, 0, size)
    assert not any("欧阳".encode() in leaf or "明月".encode() in leaf for leaf in leaves)
    leaf = canonical.decode(leaves[-1])
    assert leaf["type"] == "certificate" and leaf["number"] == cert.number and leaf["facts_digest"] == cert.digest


def test_a_certificate_with_an_altered_field_fails_verification(world: World) -> None:
    volunteer, _ = _served(world)
    cert = _issue(world, volunteer.id)
    world.session.execute(sa.update(Certificate).where(Certificate.id == cert.id).values(minutes=6000))
    world.session.expire_all()
    result = verify_certificate(world.session, world.sealer, number=cert.number)
    assert result.status == "invalid"
    assert any("digest" in p for p in result.problems)


def test_a_reversed_record_supersedes_the_certificate(world: World) -> None:
    volunteer, records = _served(world)
    cert = _issue(world, volunteer.id)
    reverse_record(world.session, world.writer, record_id=records[0].id, reason="录入错误",  # type: ignore[attr-defined]
                   approver_id=world.admin.id, at=world.now)
    result = verify_certificate(world.session, world.sealer, number=cert.number)
    assert result.status == "superseded"
    assert [r["record"] for r in result.reversed] == [records[0].id]  # type: ignore[attr-defined]


def test_staff_out_of_region_and_other_people_may_not_issue(world: World) -> None:
    volunteer, _ = _served(world)
    with pytest.raises(NotPermitted):
        _issue(world, volunteer.id, by=world.suqian_coordinator.id)
    with pytest.raises(NotPermitted):
        _issue(world, volunteer.id, by=world.volunteer().id)
    assert _issue(world, volunteer.id, by=world.coordinator.id).issued_by == world.coordinator.id


def test_a_period_without_verified_service_or_backwards_is_refused(world: World) -> None:
    volunteer, _ = _served(world)
    with pytest.raises(Refused):
        _issue(world, volunteer.id, start=date(2026, 1, 1), end=date(2026, 1, 31))
    with pytest.raises(InvalidInput):
        _issue(world, volunteer.id, start=END, end=START)


def test_the_signed_version_verifies_with_the_published_key(world: World) -> None:
    volunteer, _ = _served(world)
    cert = _issue(world, volunteer.id)
    signed = signed_certificate(world.session, world.writer, world.sealer, number=cert.number)
    assert signed.vkey == store.get_log(world.session, world.haizhou.log_id or "").vkey
    document = open_signed(signed.note, signed.vkey)
    assert document["number"] == cert.number and document["status"] == "valid"
    assert "张志华" not in signed.note.decode()
    with pytest.raises(CheckpointError):
        open_signed(signed.note.replace(b'"2.00"', b'"9.00"'), signed.vkey)


def test_the_pdf_text_layer_holds_the_title_number_and_name(world: World) -> None:
    volunteer, _ = _served(world)
    cert = _issue(world, volunteer.id)
    facts = verify_certificate(world.session, world.sealer, number=cert.number).facts
    facts = {**facts, "name": "张志华", "url": f"https://example.org/certificates/{cert.number}"}
    text = pypdf.PdfReader(io.BytesIO(certificate_pdf.render(facts, "zh"))).pages[0].extract_text()
    assert "志愿服务证明" in text and cert.number in text and "张志华" in text
    english = pypdf.PdfReader(io.BytesIO(certificate_pdf.render(facts, "en"))).pages[0].extract_text()
    assert "Certificate of Volunteer Service" in english


@pytest.mark.parametrize(("name", "masked"), [("张志华", "张*华"), ("李四", "李*"), ("欧阳明月", "欧**月"), ("A", "*")])
def test_names_are_masked_to_first_and_last(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_a_certificate_shows_the_star_level_and_awards_held_at_issue(world: World) -> None:
    volunteer, elder = world.volunteer(), world.elder()
    posted(world, volunteer, elder, span=60)
    recognition.grant_award(world.session, world.writer, volunteer_id=volunteer.id, name="最美志愿者",
                            granting_unit="海州区民政局", granted_on=world.now.date(), kind="honour",
                            by=world.admin.id, at=world.now)
    day = world.now.astimezone(CHINA).date()
    cert = issue_certificate(world.session, world.writer, world.sealer, volunteer_id=volunteer.id,
                             start=day.replace(day=1), end=day, issued_by=volunteer.id, at=world.now)
    assert [(r["kind"], r["name_zh"], r["unit"]) for r in cert.recognition] == [("honour", "最美志愿者", "海州区民政局")]
    result = verify_certificate(world.session, world.sealer, number=cert.number)
    assert result.status == "valid" and result.facts["recognition"][0]["name_zh"] == "最美志愿者"
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(certificate_pdf.render(
        {**result.facts, "name": "张志愿", "url": "https://timebank.test/certificates/x"}, "zh"))).pages)
    assert "最美志愿者" in text
