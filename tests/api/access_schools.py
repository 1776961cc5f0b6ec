"""Who may call each /api/v1/schools endpoint: one Rule per (method, path)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from typing import Any

from apiworld import NOW, ApiWorld, Rule

from timebank import schools
from timebank.checks import china_date
from timebank.regions import create_organisation

B = "/api/v1/schools"
_serial = itertools.count(1)


def school_ready(world: ApiWorld) -> str:
    """Make the world's school organisation a school (1 credit per 20 h, at most 8 h a day) with a
    term around today, and link the world's student (under 18: with a guardian's consent) to it. Idempotent.
    Returns the term id."""
    with world.session() as s:
        school_id = world.ids["school"]
        if s.get(schools.School, school_id) is None:
            schools.register_school(s, organisation_id=school_id, minutes_per_credit=1200, daily_cap_minutes=480,
                                    at=NOW)
        if not schools.terms_of(s, school_id):
            today = china_date(datetime.now(timezone.utc))
            schools.add_term(s, school_id=school_id, name="本学期", starts_on=today - timedelta(days=120),
                             ends_on=today + timedelta(days=30), at=NOW)
        if not schools.is_student(s, school_id, world.ids["student"]):
            _, code = schools.invite(s, school_id=school_id, at=NOW)
            schools.link_student(s, world.writer(), world.sealer(), code=code, volunteer_id=world.ids["student"],
                                 guardian_consent=True, guardian_name="陈家长", class_name="高一(3)班",
                                 student_number="20260301", at=NOW)
        term = schools.terms_of(s, school_id)[0].id
        s.commit()
    return term


def _organisation(world: ApiWorld) -> tuple[str, Any]:
    with world.session() as s:
        org = create_organisation(s, region_id=world.ids["community"], kind="team",
                                  name=f"海州第{next(_serial)}中学", at=NOW)
        s.commit()
        return B, {"organisation_id": org.id, "minutes_per_credit": 1200, "rounding": "floor",
                   "daily_cap_minutes": 480}


def _school(suffix: str = "", body: Any = None) -> Any:
    def sample(world: ApiWorld) -> tuple[str, Any]:
        school_ready(world)
        return f"{B}/{world.ids['school']}{suffix}", body
    return sample


def _term(world: ApiWorld) -> tuple[str, Any]:
    school_ready(world)
    year = 2030 + next(_serial)
    return f"{B}/{world.ids['school']}/terms", {"name": f"{year} 第一学期", "starts_on": f"{year}-09-01",
                                               "ends_on": f"{year}-12-31"}


def _link(world: ApiWorld) -> tuple[str, Any]:
    """A fresh code; a volunteer linked by an earlier attempt is unlinked first, so the world ends
    with only its student linked."""
    school_ready(world)
    with world.session() as s:
        for key in ("volunteer", "other_volunteer"):
            if schools.is_student(s, world.ids["school"], world.ids[key]):
                schools.unlink(s, world.writer(), school_id=world.ids["school"], volunteer_id=world.ids[key],
                               by=world.ids[key], at=NOW)
        _, code = schools.invite(s, school_id=world.ids["school"], at=NOW)
        s.commit()
    return f"{B}/link", {"code": code, "student_consent": True, "guardian_consent": True, "guardian_name": "家长",
                         "class_name": "高一(3)班"}


def _unlink(world: ApiWorld) -> tuple[str, Any]:
    school_ready(world)
    return f"{B}/{world.ids['school']}/students/{world.ids['student']}/unlink", None


def _student_report(world: ApiWorld) -> tuple[str, Any]:
    term = school_ready(world)
    return f"{B}/{world.ids['school']}/reports/student?volunteer_id={world.ids['student']}&term_id={term}", None


def _class(ext: str) -> Any:
    def sample(world: ApiWorld) -> tuple[str, Any]:
        term = school_ready(world)
        return f"{B}/{world.ids['school']}/reports/class{ext}?class_name=高一(3)班&term_id={term}", None
    return sample


RULE = {"minutes_per_credit": 1200, "rounding": "floor", "daily_cap_minutes": 480, "term_cap_minutes": None,
        "counted": None}
VOLUNTEERS = frozenset({"volunteer", "student", "other_volunteer"})

RULES: list[Rule] = [
    Rule("POST", B, frozenset({"administrator"}), _organisation),
    Rule("GET", f"{B}/{{school_id}}", frozenset({"school", "administrator"}), _school()),
    Rule("PUT", f"{B}/{{school_id}}", frozenset({"school", "administrator"}), _school(body=RULE)),
    Rule("POST", f"{B}/{{school_id}}/terms", frozenset({"school", "administrator"}), _term),
    Rule("POST", f"{B}/{{school_id}}/invitations", frozenset({"school"}), _school("/invitations")),
    Rule("POST", f"{B}/link", VOLUNTEERS, _link),
    Rule("POST", f"{B}/{{school_id}}/students/{{volunteer_id}}/unlink", frozenset({"student", "school"}), _unlink),
    Rule("GET", f"{B}/{{school_id}}/students", frozenset({"school"}), _school("/students")),
    Rule("GET", f"{B}/{{school_id}}/reports/student", frozenset({"school"}), _student_report),
    Rule("GET", f"{B}/{{school_id}}/reports/class", frozenset({"school"}), _class("")),
    Rule("GET", f"{B}/{{school_id}}/reports/class.csv", frozenset({"school"}), _class(".csv")),
    Rule("GET", f"{B}/{{school_id}}/reports/class.xlsx", frozenset({"school"}), _class(".xlsx")),
]
