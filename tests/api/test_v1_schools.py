"""/api/v1/schools: registering a school and its rule and terms, linking students with consent,
the school's scope, and term reports as JSON, CSV and XLSX."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from access_records import make_record
from access_schools import RULES, school_ready
from access_people import resident_id
from apiworld import NOW, ROLES, ApiWorld

from timebank import people, records_review, schools, users
from timebank.errors import Refused
from timebank.regions import create_organisation

B = "/api/v1/schools"
DENIED = {401, 403, 404}


@pytest.fixture(scope="module")
def term(api_world: ApiWorld) -> str:
    return school_ready(api_world)


def _volunteer(world: ApiWorld, birth: date = date(2000, 1, 2), name: str = "林同学") -> str:
    with world.session() as s:
        made = people.register_volunteer(s, world.sealer(), region_id=world.ids["community"], name=name, sex="M",
                                         birth_date=birth, id_number=resident_id(birth, "M"),
                                         kind="student", phone="13300000000", at=NOW).id
        s.commit()
        return made


def _access(world: ApiWorld, subject_id: str) -> list[tuple[str, str, list[str]]]:
    with world.session() as s:
        return [(row.user_id, row.action, row.fields) for row in users.access_log(s, subject_id)]


def _other_school(world: ApiWorld) -> str:
    """A second school, with its own linked adult student; returns that student's id."""
    student = _volunteer(world, name="别校生")
    with world.session() as s:
        org = create_organisation(s, region_id=world.ids["haizhou"], kind="team", name="海州第二中学", at=NOW)
        schools.register_school(s, organisation_id=org.id, minutes_per_credit=1200, at=NOW)
        _, code = schools.invite(s, school_id=org.id, at=NOW)
        schools.link_student(s, world.writer(), world.sealer(), code=code, volunteer_id=student, class_name="高一(3)班",
                             at=NOW)
        s.commit()
    return student


def test_every_schools_rule_holds_for_every_role(api_world: ApiWorld) -> None:
    wrong = []
    for rule in RULES:
        for role in ROLES:
            response = rule.attempt(api_world, role)
            allowed = role in rule.allowed
            if response.status_code >= 500 or (allowed and response.status_code in DENIED) or (
                    not allowed and response.status_code not in DENIED):
                wrong.append(f"{rule.method} {rule.path} {role}: {response.status_code} {response.json}")
    assert not wrong, "\n".join(wrong)


def test_an_administrator_registers_a_school_and_it_sets_its_rule_and_terms(api_world: ApiWorld, term: str) -> None:
    admin = api_world.client_for("administrator")
    with api_world.session() as s:
        org = create_organisation(s, region_id=api_world.ids["haizhou"], kind="team", name="海州大学", at=NOW).id
        s.commit()
    made = admin.post(B, json={"organisation_id": org, "minutes_per_credit": 1200, "daily_cap_minutes": 480})
    assert made.status_code == 201, made.json
    assert made.json == {"id": org, "name": "海州大学", "region_id": api_world.ids["haizhou"], "minutes_per_credit": 1200,
                         "rounding": "floor", "daily_cap_minutes": 480, "term_cap_minutes": None, "counted": None,
                         "terms": []}
    assert admin.post(B, json={"organisation_id": org, "minutes_per_credit": 1200}).status_code == 409
    other = api_world.client_for("other_administrator").post(B, json={"organisation_id": org,
                                                                      "minutes_per_credit": 60})
    assert other.status_code == 404
    changed = admin.put(f"{B}/{org}", json={"minutes_per_credit": 1200, "rounding": "half_up",
                                            "daily_cap_minutes": 480, "term_cap_minutes": 2400,
                                            "counted": ["emotional", "MEAL"]})
    assert changed.status_code == 200 and changed.json["counted"] == ["MEAL", "emotional"]
    bad = admin.put(f"{B}/{org}", json={"minutes_per_credit": 1200, "counted": ["NOPE"]})
    assert bad.status_code == 400 and "counted" in bad.json["message"]
    first = admin.post(f"{B}/{org}/terms", json={"name": "2026-2027 第一学期", "starts_on": "2026-09-01",
                                                 "ends_on": "2027-01-20"})
    assert first.status_code == 201 and first.json["name"] == "2026-2027 第一学期"
    clash = admin.post(f"{B}/{org}/terms", json={"name": "重叠", "starts_on": "2027-01-20", "ends_on": "2027-02-01"})
    assert clash.status_code == 409 and "overlaps" in clash.json["message"]
    missing = admin.post(f"{B}/{org}", json={"minutes_per_credit": 0})
    assert missing.status_code in (400, 405)
    assert api_world.client_for("school").get(f"{B}/{org}").status_code == 404


def test_a_minor_links_only_with_a_guardians_consent_and_a_retry_replays(fresh_api_world: ApiWorld) -> None:
    world = fresh_api_world
    school_ready(world)
    school = world.as_user("school")
    code = school.post(f"{B}/{world.ids['school']}/invitations").json["code"]
    assert len(code) == 8
    with world.session() as s:  # the world's student is linked; unlink to link again over HTTP
        schools.unlink(s, world.writer(), school_id=world.ids["school"], volunteer_id=world.ids["student"],
                       by=world.ids["school"], at=NOW)
        s.commit()
    student = world.as_user("student")
    assert school.get(f"/api/v1/volunteers/{world.ids['student']}").status_code == 404
    refused = student.post(f"{B}/link", json={"code": code, "student_consent": True})
    assert refused.status_code == 422 and "guardian" in refused.json["message"]
    no_consent = student.post(f"{B}/link", json={"code": code, "student_consent": False})
    assert no_consent.status_code == 422
    body = {"code": code, "student_consent": True, "guardian_consent": True, "guardian_name": "陈家长",
            "class_name": "高一(3)班", "student_number": "20260301"}
    key = {"Idempotency-Key": "link-once"}
    linked = student.post(f"{B}/link", json=body, headers=key)
    assert linked.status_code == 201, linked.json
    assert set(linked.json["receipt"]) == {"log", "index", "leaf_hash"}
    again = student.post(f"{B}/link", json=body, headers=key)
    assert again.status_code == 201 and again.json == linked.json
    assert student.post(f"{B}/link", json=body).status_code == 422  # the code is used
    assert (world.ids["user:student"], "change", ["guardian_name", "student_number"]) in _access(
        world, world.ids["student"])
    assert school.get(f"/api/v1/volunteers/{world.ids['student']}").status_code == 200
    ended = student.post(f"{B}/{world.ids['school']}/students/{world.ids['student']}/unlink")
    assert ended.status_code == 200 and ended.json["unlinked_at"] is not None
    assert school.get(f"/api/v1/volunteers/{world.ids['student']}").status_code == 404
    assert school.get(f"/api/v1/people/{world.ids['student']}/balance").status_code == 404


def test_a_school_reads_its_students_with_names_and_each_read_is_logged(api_world: ApiWorld, term: str) -> None:
    school = api_world.client_for("school")
    listed = school.get(f"{B}/{api_world.ids['school']}/students?class_name=高一(3)班")
    assert listed.status_code == 200
    mine = [i for i in listed.json["items"] if i["volunteer_id"] == api_world.ids["student"]]
    assert mine == [{"volunteer_id": api_world.ids["student"], "name": "陈同学", "class_name": "高一(3)班",
                     "student_number": "20260301", "linked_at": mine[0]["linked_at"]}]
    assert "phone" not in mine[0] and "id_number" not in mine[0]
    log = _access(api_world, api_world.ids["student"])
    assert (api_world.ids["user:school"], "read", ["name"]) in log


def test_the_student_report_counts_verified_records_with_their_receipts(api_world: ApiWorld, term: str) -> None:
    record, _ = make_record(api_world, "posted", volunteer="student", minutes=50, catalogue_code="VISIT")
    reversed_, _ = make_record(api_world, "posted", volunteer="student", minutes=30)
    with api_world.session() as s:
        records_review.reverse_record(s, api_world.writer(), record_id=reversed_, reason="重复登记",
                                      approver_id=api_world.ids["administrator"], at=NOW)
        s.commit()
    school = api_world.client_for("school")
    url = f"{B}/{api_world.ids['school']}/reports/student?volunteer_id={api_world.ids['student']}&term_id={term}"
    got = school.get(url)
    assert got.status_code == 200, got.json
    ids = [r["id"] for r in got.json["records"]]
    assert record in ids and reversed_ not in ids
    one = next(r for r in got.json["records"] if r["id"] == record)
    assert one["minutes"] == 50 and one["counted"] and set(one["receipt"]) == {"log", "index", "leaf_hash"}
    assert got.json["name"] == "陈同学" and got.json["minutes_by_category"]["emotional"] >= 50
    assert got.json["credits"] == got.json["counted_minutes"] // 1200


def test_the_class_report_comes_as_json_csv_and_xlsx(api_world: ApiWorld, term: str) -> None:
    from openpyxl import load_workbook

    school = api_world.client_for("school")
    query = f"class_name=高一(3)班&term_id={term}"
    base = f"{B}/{api_world.ids['school']}/reports/class"
    got = school.get(f"{base}?{query}")
    assert got.status_code == 200 and got.json["minutes_per_credit"] == 1200
    assert api_world.ids["student"] in {row["volunteer_id"] for row in got.json["students"]}
    as_csv = school.get(f"{base}.csv?{query}")
    assert as_csv.status_code == 200 and as_csv.content_type.startswith("text/csv")
    assert "attachment" in as_csv.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(as_csv.data.decode("utf-8-sig"))))
    assert rows[0][1] == "姓名 name" and "陈同学" in {row[1] for row in rows[1:]}
    as_xlsx = school.get(f"{base}.xlsx?{query}")
    assert as_xlsx.status_code == 200
    book = load_workbook(io.BytesIO(as_xlsx.data))
    names = [row[1] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert "陈同学" in names and book.worksheets[1].max_row >= 2
    missing = school.get(f"{base}.csv?class_name=高一(3)班")
    assert missing.status_code == 400 and "term_id" in str(missing.json)


def test_another_schools_student_an_unlinked_one_and_a_guessed_id_are_not_found(api_world: ApiWorld,
                                                                                   term: str) -> None:
    school = api_world.client_for("school")
    elsewhere = _other_school(api_world)
    unlinked = _volunteer(api_world, name="未绑定")
    for volunteer in (elsewhere, unlinked, "vol_guessed00000000"):
        url = f"{B}/{api_world.ids['school']}/reports/student?volunteer_id={volunteer}&term_id={term}"
        assert school.get(url).status_code == 404
        assert school.get(f"/api/v1/volunteers/{volunteer}").status_code == 404
        assert school.post(f"{B}/{api_world.ids['school']}/students/{volunteer}/unlink").status_code == 404
    listed = {i["volunteer_id"] for i in school.get(f"{B}/{api_world.ids['school']}/students").json["items"]}
    assert elsewhere not in listed and unlinked not in listed
    assert school.get(f"{B}/sch_guessed00000000").status_code == 404
    with api_world.session() as s:
        other = s.get(schools.StudentLink, schools.active_link(s, elsewhere).id).school_id  # type: ignore[union-attr]
    assert school.get(f"{B}/{other}").status_code == 404
    other_term = f"{B}/{api_world.ids['school']}/reports/class?class_name=x&term_id=trm_guessed0000000"
    assert school.get(other_term).status_code == 404


def test_an_under_18_student_without_a_guardian_is_never_seen(api_world: ApiWorld, term: str) -> None:
    minor = _volunteer(api_world, birth=date(2010, 3, 3), name="小同学")
    with api_world.session() as s:
        _, code = schools.invite(s, school_id=api_world.ids["school"], at=NOW)
        s.commit()
    with api_world.session() as s, pytest.raises(Refused):
        schools.link_student(s, api_world.writer(), api_world.sealer(), code=code, volunteer_id=minor, at=NOW)
    url = f"{B}/{api_world.ids['school']}/reports/student?volunteer_id={minor}&term_id={term}"
    assert api_world.client_for("school").get(url).status_code == 404


def test_the_openapi_document_gives_the_downloads_their_content_types(api_world: ApiWorld) -> None:
    paths = api_world.anonymous().get("/api/v1/openapi.json").json["paths"]
    csv_doc = paths["/api/v1/schools/{school_id}/reports/class.csv"]["get"]["responses"]["200"]["content"]
    xlsx_doc = paths["/api/v1/schools/{school_id}/reports/class.xlsx"]["get"]["responses"]["200"]["content"]
    assert "text/csv" in csv_doc
    assert "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" in xlsx_doc
