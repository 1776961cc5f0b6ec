"""Certificates (志愿服务证明) through /api/v1 and the public verification page."""

from __future__ import annotations

import io

import pypdf
import sqlalchemy as sa
from access_certificates import RULES, issued, period, served
from apiworld import ROLES, ApiWorld

from ledger import store
from timebank import users
from timebank.certificates import Certificate, open_signed
from timebank.records_review import reverse_record

B = "/api/v1"


def test_the_app_serves_the_public_verification_page(api_world: ApiWorld) -> None:
    assert "certificate_page" in api_world.app.blueprints


def test_every_role_gets_exactly_the_certificate_endpoints_it_is_allowed(api_world: ApiWorld) -> None:
    wrong = []
    for rule in RULES:
        for role in ROLES:
            path, body = rule.sample(api_world)
            call = getattr(api_world.client_for(role), rule.method.lower())
            response = call(path) if rule.method == "GET" else call(path, json=body)
            denied = response.status_code in (401, 403, 404)
            if response.status_code >= 500 or denied == (role in rule.allowed):
                wrong.append((rule.method, rule.path, role, response.status_code))
    assert wrong == []


def test_a_volunteer_issues_their_own_certificate_and_anyone_verifies_it(api_world: ApiWorld) -> None:
    served(api_world)
    response = api_world.client_for("volunteer").post(f"{B}/certificates",
                                                      json={"volunteer_id": api_world.ids["volunteer"], **period()})
    assert response.status_code == 201, response.json
    number = response.json["number"]
    assert number.startswith("TB-") and response.json["facts"]["name"] == "张*愿"
    assert response.json["receipt"]["log"] == "haizhou"
    public = api_world.anonymous().get(f"{B}/certificates/{number}")
    assert public.status_code == 200
    assert public.json["status"] == "valid" and public.json["facts"]["hours"] == response.json["facts"]["hours"]
    assert "张志愿" not in public.get_data(as_text=True)
    assert public.json["records"] and public.json["checkpoints"]["haizhou"]["note"]


def test_staff_out_of_scope_and_other_volunteers_cannot_issue_or_see_it(api_world: ApiWorld) -> None:
    number = issued(api_world)
    body = {"volunteer_id": api_world.ids["volunteer"], **period()}
    assert api_world.client_for("other_coordinator").post(f"{B}/certificates", json=body).status_code == 404
    assert api_world.client_for("other_volunteer").post(f"{B}/certificates", json=body).status_code == 404
    assert api_world.client_for("other_volunteer").get(f"{B}/certificates/{number}.pdf").status_code == 404
    assert api_world.client_for("elder").post(f"{B}/certificates", json=body).status_code == 403


def test_bad_periods_are_refused_naming_the_field(api_world: ApiWorld) -> None:
    client = api_world.client_for("volunteer")
    days = period()
    backwards = client.post(f"{B}/certificates", json={"volunteer_id": api_world.ids["volunteer"],
                                                        "start": days["end"], "end": days["start"]})
    assert backwards.status_code == 400 and "end" in backwards.json["errors"]
    empty = client.post(f"{B}/certificates", json={"volunteer_id": api_world.ids["volunteer"],
                                                    "start": "2020-01-01", "end": "2020-01-31"})
    assert empty.status_code == 422 and "verified" in empty.json["message"]
    unknown = client.post(f"{B}/certificates", json={"volunteer_id": api_world.ids["volunteer"], "x": 1, **days})
    assert unknown.status_code == 400


def test_an_idempotent_retry_returns_the_same_certificate(api_world: ApiWorld) -> None:
    served(api_world)
    client = api_world.client_for("coordinator")
    body = {"volunteer_id": api_world.ids["volunteer"], **period()}
    headers = {"Idempotency-Key": "cert-retry-1"}
    first = client.post(f"{B}/certificates", json=body, headers=headers)
    again = client.post(f"{B}/certificates", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json == again.json
    with api_world.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Certificate)
                        .where(Certificate.number == first.json["number"])) == 1


def test_the_pdf_holds_the_title_number_and_name_and_its_read_is_logged(api_world: ApiWorld) -> None:
    number = issued(api_world)
    response = api_world.client_for("coordinator").get(f"{B}/certificates/{number}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pypdf.PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert "志愿服务证明" in text and number in text and "张志愿" in text
    assert f"http://localhost/certificates/{number}" in text
    english = api_world.client_for("volunteer").get(f"{B}/certificates/{number}.pdf?lang=en")
    assert "Certificate of Volunteer Service" in pypdf.PdfReader(io.BytesIO(english.data)).pages[0].extract_text()
    assert api_world.client_for("volunteer").get(f"{B}/certificates/{number}.pdf?lang=fr").status_code == 400
    with api_world.session() as s:
        rows = users.access_log(s, api_world.ids["volunteer"])
    assert any(row.user_id == api_world.ids["user:coordinator"] and "name" in row.fields for row in rows)


def test_the_signed_version_verifies_with_the_published_key(api_world: ApiWorld) -> None:
    number = issued(api_world)
    response = api_world.anonymous().get(f"{B}/certificates/{number}/signed")
    assert response.status_code == 200
    with api_world.session() as s:
        published = store.get_log(s, "haizhou").vkey
    assert response.json["vkey"] == published
    document = open_signed(response.json["note"].encode(), published)
    assert document["number"] == number and document["status"] == "valid"


def test_a_reversed_record_shows_the_certificate_superseded(api_world: ApiWorld) -> None:
    record_id = served(api_world)
    number = issued(api_world, fresh=True)
    with api_world.session() as s:
        reverse_record(s, api_world.writer(), record_id=record_id, reason="重复录入",
                       approver_id=api_world.ids["administrator"], at=s.get(Certificate, s.scalar(
                           sa.select(Certificate.id).where(Certificate.number == number))).issued_at)
        s.commit()
    response = api_world.anonymous().get(f"{B}/certificates/{number}")
    assert response.json["status"] == "superseded"
    assert [r["record"] for r in response.json["reversed"]] == [record_id]
    page = api_world.anonymous().get(f"/certificates/{number}")
    assert page.status_code == 200 and 'data-state="superseded"' in page.get_data(as_text=True)


def test_the_public_page_shows_the_facts_in_chinese_first_then_english(api_world: ApiWorld) -> None:
    number = issued(api_world)
    page = api_world.anonymous().get(f"/certificates/{number}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "志愿服务证明核验" in html and number in html and "张*愿" in html
    assert "张志愿" not in html and "default-src 'self'" in page.headers["Content-Security-Policy"]
    english = api_world.anonymous().get(f"/certificates/{number}?lang=en").get_data(as_text=True)
    assert "Certificate verification" in english
    assert api_world.anonymous().get("/certificates/TB-1999-000000").status_code == 404


def test_unknown_numbers_are_not_found(api_world: ApiWorld) -> None:
    for path in ("/certificates/TB-1999-000000", "/certificates/TB-1999-000000/signed"):
        assert api_world.anonymous().get(B + path).status_code == 404
    assert api_world.client_for("volunteer").get(f"{B}/certificates/TB-1999-000000.pdf").status_code == 404


def test_a_volunteer_lists_their_certificates(api_world: ApiWorld) -> None:
    number = issued(api_world)
    response = api_world.client_for("volunteer").get(f"{B}/volunteers/{api_world.ids['volunteer']}/certificates")
    assert response.status_code == 200
    assert number in [item["number"] for item in response.json["items"]]
    assert api_world.client_for("other_coordinator").get(
        f"{B}/volunteers/{api_world.ids['volunteer']}/certificates").status_code == 404
