"""Schools (学生社区志愿服务计学分): students linked with consent, each school's credit rule and terms, reports."""

from __future__ import annotations

import csv
import io
from typing import Any

import sqlalchemy as sa
from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from timebank import journal, people, regions, schools
from timebank.errors import NotFound
from timebank.people import Volunteer
from timebank.regions import Organisation
from timebank.schools import School, StudentLink

from .. import auth
from ..access import log_access
from ..db import get_session
from ..paging import page
from ..transact import commits, writes
from . import schools_schemas as s
from .common import now, sealer, writer

blp = Blueprint("schools", __name__, url_prefix="/api/v1",
                description="Schools (学生社区志愿服务计学分): students linked with consent, each school's credit rule "
                            "and terms, reports.")

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- scope --------------------------------------------------------------------------------------

def _school(who: auth.Caller, school_id: str, *, administrator: bool = False) -> School:
    """The school, if the caller is it or (with `administrator`) an administrator covering it; else NotFound."""
    session = get_session()
    school = session.get(School, school_id)
    if school is not None:
        if who.role == "school" and who.subject_id == school.organisation_id:
            return school
        org = session.get(Organisation, school.organisation_id)
        if (administrator and who.role == "administrator" and who.region is not None and org is not None
                and regions.covers(who.region, regions.get_region(session, org.region_id))):
            return school
    raise NotFound(f"no school {school_id!r}", field="school_id")


def _out(school: School) -> dict[str, Any]:
    session = get_session()
    org = session.get(Organisation, school.organisation_id)
    return {"id": school.organisation_id, "name": org.name, "region_id": org.region_id,  # type: ignore[union-attr]
            "minutes_per_credit": school.minutes_per_credit, "rounding": school.rounding,
            "daily_cap_minutes": school.daily_cap_minutes, "term_cap_minutes": school.term_cap_minutes,
            "counted": school.counted, "terms": schools.terms_of(session, school.organisation_id)}


def _link_out(link: StudentLink, entry_id: str | None) -> dict[str, Any]:
    session = get_session()
    entry = session.get(journal.Entry, entry_id) if entry_id else None
    return {"id": link.id, "school_id": link.school_id, "volunteer_id": link.volunteer_id,
            "class_name": link.class_name, "linked_at": link.linked_at, "unlinked_at": link.unlinked_at,
            "receipt": entry.receipt() if entry is not None else None}


def _name(who: auth.Caller, volunteer_id: str) -> str:
    """A student's name, for their school only; the read is logged."""
    session = get_session()
    name = people.opened(sealer(), session.get(Volunteer, volunteer_id))["name"]  # type: ignore[arg-type]
    log_access(session, who, volunteer_id, ["name"])
    return name or ""


# --- schools, rules and terms -------------------------------------------------------------------

@blp.route("/schools", methods=["POST"])
@writes
@blp.arguments(s.SchoolBody)
@blp.response(201, s.SchoolOut)
def register(body: dict[str, Any]) -> dict[str, Any]:
    """Make an organisation in your subtree a school, with its credit rule (an administrator)."""
    who = auth.require("administrator")
    session = get_session()
    org = session.get(Organisation, body["organisation_id"])
    if org is None or who.region is None or not regions.covers(who.region, regions.get_region(session, org.region_id)):
        raise NotFound(f"no organisation {body['organisation_id']!r}", field="organisation_id")
    return _out(schools.register_school(session, at=now(), **body))


@blp.route("/schools/<school_id>")
class OneSchool(MethodView):
    @blp.response(200, s.SchoolOut)
    def get(self, school_id: str) -> dict[str, Any]:
        """A school's rule and terms: the school itself, or an administrator covering it."""
        who = auth.require("school", "administrator")
        return _out(_school(who, school_id, administrator=True))

    @writes
    @blp.arguments(s.RuleBody)
    @blp.response(200, s.SchoolOut)
    def put(self, body: dict[str, Any], school_id: str) -> dict[str, Any]:
        """Replace the credit rule (reports use the current rule): the school, or an administrator covering it."""
        who = auth.require("school", "administrator")
        school = _school(who, school_id, administrator=True)
        return _out(schools.change_rule(get_session(), school_id=school.organisation_id, at=now(), **body))


@blp.route("/schools/<school_id>/terms", methods=["POST"])
@writes
@blp.arguments(s.TermBody)
@blp.response(201, s.TermOut)
def add_term(body: dict[str, Any], school_id: str) -> Any:
    """Add a term (both ends inclusive, no overlaps): the school, or an administrator covering it."""
    who = auth.require("school", "administrator")
    school = _school(who, school_id, administrator=True)
    return schools.add_term(get_session(), school_id=school.organisation_id, at=now(), **body)


# --- students -----------------------------------------------------------------------------------

@blp.route("/schools/<school_id>/invitations", methods=["POST"])
@writes
@blp.response(201, s.InvitationOut)
def invite(school_id: str) -> dict[str, Any]:
    """A one-time code (8 characters, valid 14 days) for one student to link themself (the school).
    Shown once: only its hash is kept."""
    who = auth.require("school")
    school = _school(who, school_id)
    invitation, code = schools.invite(get_session(), school_id=school.organisation_id, at=now())
    return {"code": code, "expires_at": invitation.expires_at}


@blp.route("/schools/link", methods=["POST"])
@writes
@blp.arguments(s.LinkBody)
@blp.response(201, s.LinkOut)
def link(body: dict[str, Any]) -> dict[str, Any]:
    """Link yourself (a volunteer) to the school that gave you the code, consenting to it seeing your
    verified service; under 18, also a guardian's name and consent. Writes a "school" ledger entry."""
    who = auth.require("volunteer")
    session = get_session()
    made = schools.link_student(session, writer(), sealer(), volunteer_id=who.subject_id or "", at=now(), **body)
    changed = [f for f in ("guardian_name", "student_number") if body.get(f)]
    log_access(session, who, made.volunteer_id, changed, action="change")
    return _link_out(made, made.link_entry_id)


@blp.route("/schools/<school_id>/students/<volunteer_id>/unlink", methods=["POST"])
@writes
@blp.response(200, s.LinkOut)
def unlink(school_id: str, volunteer_id: str) -> dict[str, Any]:
    """End a student's link (the student, or the school); the history stays in the ledger."""
    who = auth.require("volunteer", "school")
    session = get_session()
    if who.role == "school":
        _school(who, school_id)
        if not schools.is_student(session, school_id, volunteer_id):
            raise NotFound(f"no linked student {volunteer_id!r}", field="volunteer_id")
    elif who.subject_id != volunteer_id:
        raise NotFound(f"no linked student {volunteer_id!r}", field="volunteer_id")
    ended = schools.unlink(session, writer(), school_id=school_id, volunteer_id=volunteer_id,
                           by=who.subject_id or who.user_id, at=now())
    return _link_out(ended, ended.unlink_entry_id)


@blp.route("/schools/<school_id>/students", methods=["GET"])
@commits
@blp.arguments(s.StudentsQuery, location="query")
@blp.response(200, s.StudentPage)
def students(query: dict[str, Any], school_id: str) -> dict[str, Any]:
    """The school's linked, consenting students (the school): name (each read logged), class and student number."""
    who = auth.require("school")
    school = _school(who, school_id)
    session = get_session()
    select = sa.select(StudentLink).where(StudentLink.school_id == school.organisation_id,
                                          StudentLink.unlinked_at.is_(None),
                                          StudentLink.volunteer_id.in_(schools.students_of(session, school_id)))
    if query["class_name"]:
        select = select.where(StudentLink.class_name == query["class_name"])
    rows, cursor = page(session, select, StudentLink.id, limit=query["limit"], cursor=query["cursor"])
    items = []
    for row in rows:
        items.append({"volunteer_id": row.volunteer_id, "name": _name(who, row.volunteer_id),
                      "class_name": row.class_name, "linked_at": row.linked_at,
                      "student_number": schools.opened(sealer(), row)["student_number"]})
        log_access(session, who, row.volunteer_id, ["student_number"])
    return {"items": items, "next": cursor}


# --- reports ------------------------------------------------------------------------------------

@blp.route("/schools/<school_id>/reports/student", methods=["GET"])
@commits
@blp.arguments(s.StudentReportQuery, location="query")
@blp.response(200, s.StudentReportOut)
def student_report(query: dict[str, Any], school_id: str) -> dict[str, Any]:
    """One student's term (the school): verified minutes by category, minutes counted after the
    caps, credits, and the records behind them with their ledger receipts."""
    who = auth.require("school")
    school = _school(who, school_id)
    got = schools.student_report(get_session(), school_id=school.organisation_id, **query)
    return {**got, "name": _name(who, got["volunteer_id"])}


def _class_report(query: dict[str, Any], school_id: str) -> dict[str, Any]:
    who = auth.require("school")
    school = _school(who, school_id)
    session = get_session()
    rows = schools.class_report(session, school_id=school.organisation_id, **query)
    return {"school_id": school.organisation_id, "class_name": query["class_name"],
            "term": schools.get_term(session, school.organisation_id, query["term_id"]),
            "minutes_per_credit": school.minutes_per_credit,
            "students": [{**row, "name": _name(who, row["volunteer_id"])} for row in rows]}


@blp.route("/schools/<school_id>/reports/class", methods=["GET"])
@commits
@blp.arguments(s.ClassReportQuery, location="query")
@blp.response(200, s.ClassReportOut)
def class_report(query: dict[str, Any], school_id: str) -> dict[str, Any]:
    """A class's term in one call (the school): each linked student's minutes, credits and records."""
    return _class_report(query, school_id)


COLUMNS = ("volunteer_id", "name", "class_name", "verified_minutes", "counted_minutes", "credits", "records")
HEADERS = ("志愿者编号 volunteer_id", "姓名 name", "班级 class", "核实分钟 verified_minutes",
           "计入分钟 counted_minutes", "学分 credits", "记录数 records")


def _table(report: dict[str, Any]) -> list[list[Any]]:
    return [[row["volunteer_id"], row["name"], row["class_name"] or "", row["verified_minutes"],
             row["counted_minutes"], row["credits"], len(row["records"])] for row in report["students"]]


def _filename(report: dict[str, Any], ext: str) -> str:
    return f"class-report-{report['term'].id}.{ext}"


def _download(body: bytes, content_type: str, filename: str) -> Response:
    return Response(body, content_type=content_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})


def _file_doc(content_type: str) -> dict[str, Any]:
    return {"responses": {"200": {"description": "the class report as a download",
                                  "content": {content_type: {"schema": {"type": "string", "format": "binary"}}}}}}


@blp.route("/schools/<school_id>/reports/class.csv", methods=["GET"])
@commits
@blp.arguments(s.ClassReportQuery, location="query")
@blp.doc(**_file_doc(CSV))
def class_report_csv(query: dict[str, Any], school_id: str) -> Response:
    """The class report as CSV (UTF-8 with a byte-order mark, for spreadsheets): one row a student."""
    report = _class_report(query, school_id)
    out = io.StringIO()
    table = csv.writer(out)
    table.writerow(HEADERS)
    table.writerows(_table(report))
    return _download(("\ufeff" + out.getvalue()).encode("utf-8"), f"{CSV}; charset=utf-8", _filename(report, "csv"))


@blp.route("/schools/<school_id>/reports/class.xlsx", methods=["GET"])
@commits
@blp.arguments(s.ClassReportQuery, location="query")
@blp.doc(**_file_doc(XLSX))
def class_report_xlsx(query: dict[str, Any], school_id: str) -> Response:
    """The class report as an XLSX workbook: a sheet of students and a sheet of the records behind them."""
    from openpyxl import Workbook

    report = _class_report(query, school_id)
    book = Workbook()
    sheet = book.active
    sheet.title = "学分 credits"
    sheet.append(list(HEADERS))
    for row in _table(report):
        sheet.append(row)
    records = book.create_sheet("记录 records")
    records.append(["volunteer_id", "record_id", "date", "catalogue_code", "category", "minutes", "counted", "log",
                    "index", "leaf_hash"])
    for student in report["students"]:
        for r in student["records"]:
            receipt = r["receipt"] or {}
            records.append([student["volunteer_id"], r["id"], r["date"].isoformat(), r["catalogue_code"],
                            r["category"], r["minutes"], r["counted"], receipt.get("log"), receipt.get("index"),
                            receipt.get("leaf_hash")])
    out = io.BytesIO()
    book.save(out)
    return _download(out.getvalue(), XLSX, _filename(report, "xlsx"))
