"""A deployment for the /api/v1 tests: the app on a database of its own, a small network, and a
signed-in test client for every role (and for people out of scope)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from api.app import create_app
from api.settings import Settings
from ledger.database import create_engine
from ledger.keys import Keyring
from ledger.writer import Writer
from timebank import people, schools, sealing, users
from timebank.banks import open_bank
from timebank.people import ID_WEIGHTS
from timebank.regions import create_organisation, create_region

PASSWORD = "correct horse battery staple"
NOW = datetime.now(timezone.utc)
_serial = iter(range(1, 10_000))


def id_number(birth: date) -> str:
    body = f"320706{birth:%Y%m%d}{next(_serial) % 1000:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


class ApiClient:
    """A test client signed in as one user (or anonymous), sending the CSRF token with changes."""

    def __init__(self, client: FlaskClient, csrf: str | None = None, token: str | None = None) -> None:
        self.client, self.csrf, self.token = client, csrf, token

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        sent = dict(headers or {})
        if self.csrf:
            sent.setdefault("X-CSRF-Token", self.csrf)
        if self.token:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        return sent

    def get(self, path: str, **kw: Any) -> TestResponse:
        return self.client.get(path, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> TestResponse:
        return self.client.post(path, json=json, headers=self._headers(kw.pop("headers", None)), **kw)

    def put(self, path: str, json: Any = None, **kw: Any) -> TestResponse:
        return self.client.put(path, json=json, headers=self._headers(kw.pop("headers", None)), **kw)

    def patch(self, path: str, json: Any = None, **kw: Any) -> TestResponse:
        return self.client.patch(path, json=json, headers=self._headers(kw.pop("headers", None)), **kw)

    def delete(self, path: str, **kw: Any) -> TestResponse:
        return self.client.delete(path, headers=self._headers(kw.pop("headers", None)), **kw)


@dataclass
class ApiWorld:
    """The app and what is in it. `ids` names the objects; `usernames` the users by role.

    Regions: 江苏省 (province) → 连云港市 (bank `lyg`) → 海州区 (bank `haizhou`) → 朝阳社区 (community);
    江苏省 → 宿迁市 (bank `suqian`) → 幸福社区 (suqian_community).
    People in 朝阳社区: volunteer, student (linked to the school, with consent), elder (with a proxy relative who may
    confirm and redeem); in 幸福社区: other_volunteer, other_elder.
    Users (role → username): volunteer, student (a volunteer), elder, proxy, coordinator and
    administrator (of 海州区), school, auditor; out of scope: other_coordinator and
    other_administrator (of 宿迁市), other_volunteer, other_elder.
    """

    app: Flask
    settings: Settings
    ids: dict[str, str] = field(default_factory=dict)
    usernames: dict[str, str] = field(default_factory=dict)
    _clients: dict[str, ApiClient] = field(default_factory=dict)

    def anonymous(self) -> ApiClient:
        return ApiClient(self.app.test_client())

    def client_for(self, role: str, *, fresh: bool = False) -> ApiClient:
        """A signed-in client for the role ("anonymous": none), kept for reuse unless `fresh`."""
        if role == "anonymous":
            return self.anonymous()
        if fresh:
            return self.as_user(role)
        if role not in self._clients:
            self._clients[role] = self.as_user(role)
        return self._clients[role]

    def as_user(self, name: str) -> ApiClient:
        """A client signed in (browser session) as the user of that name (see the class docstring)."""
        client = self.app.test_client()
        response = client.post("/api/v1/auth/sign-in", json={"username": self.usernames[name], "password": PASSWORD})
        assert response.status_code == 200, response.json
        return ApiClient(client, csrf=response.json["csrf_token"])

    @contextmanager
    def session(self) -> Iterator[Session]:
        engine = self.app.extensions["timebank.engine"]
        with Session(engine) as session:
            yield session

    def writer(self) -> Writer:
        return self.app.extensions["timebank.writer"]

    def sealer(self) -> sealing.Sealer:
        return self.app.extensions["timebank.sealer"]


def build(url: str, root: Path) -> ApiWorld:
    """Migrated database `url` → the network, people and users above, and the app on it."""
    settings = Settings(database_url=url, instance_path=root, key_dir=root / "keys", secret_key="test-secret",
                        origin_host="timebank.test", personal_data_keys=root / "personal-data.keys")
    sealer = sealing.load_or_create(settings.personal_data_key_file)
    engine = create_engine(url)
    ids: dict[str, str] = {}
    names: dict[str, str] = {}
    with Session(engine) as s:
        writer = Writer(Keyring(settings.key_dir))

        def region(key: str, level: str, zh: str, en: str, parent: str | None) -> str:
            ids[key] = create_region(s, level=level, name_zh=zh, name_en=en, at=NOW,
                                     parent_id=ids[parent] if parent else None).id
            return ids[key]

        def bank(key: str, log_id: str) -> None:
            open_bank(s, writer, region_id=ids[key], log_id=log_id, origin=f"timebank.test/{log_id}", at=NOW)

        region("province", "province", "江苏省", "Jiangsu", None)
        region("lyg", "city", "连云港市", "Lianyungang", "province")
        bank("lyg", "lyg")
        region("haizhou", "county", "海州区", "Haizhou", "lyg")
        bank("haizhou", "haizhou")
        region("community", "community", "朝阳社区", "Chaoyang", "haizhou")
        region("suqian", "city", "宿迁市", "Suqian", "province")
        bank("suqian", "suqian")
        region("suqian_community", "community", "幸福社区", "Xingfu", "suqian")
        ids["school"] = create_organisation(s, region_id=ids["haizhou"], kind="team", name="海州高级中学志愿服务队",
                                            at=NOW).id

        def staff(key: str, region_key: str, role: str, name: str) -> None:
            ids[key] = people.register_staff(s, sealer, region_id=ids[region_key], role=role, name=name, at=NOW).id

        staff("coordinator", "haizhou", "coordinator", "王协调")
        staff("administrator", "haizhou", "administrator", "李管理")
        staff("other_coordinator", "suqian", "coordinator", "赵协调")
        staff("other_administrator", "suqian", "administrator", "钱管理")

        def volunteer(key: str, region_key: str, **kw: Any) -> None:
            birth = kw.pop("birth_date", date(1990, 5, 17))
            ids[key] = people.register_volunteer(s, sealer, region_id=ids[region_key], name=kw.pop("name", "张志愿"),
                                                 sex="F", birth_date=birth, id_number=id_number(birth),
                                                 kind=kw.pop("kind", "community"), phone="13800000000", at=NOW,
                                                 **kw).id

        def elder(key: str, region_key: str) -> None:
            birth = date(1940, 3, 8)
            ids[key] = people.register_elder(s, sealer, region_id=ids[region_key], name="刘奶奶", sex="F",
                                             birth_date=birth, id_number=id_number(birth), registered_by="test",
                                             phone="13900000000", address="朝阳社区3号楼", at=NOW).id

        volunteer("volunteer", "community")
        volunteer("student", "community", kind="student", organisation_id=ids["school"], name="陈同学",
                  birth_date=date(2009, 9, 1))
        elder("elder", "community")
        ids["proxy"] = people.add_relative(s, sealer, elder_id=ids["elder"], relation="child", name="刘儿子",
                                           phone="13700000000", may_confirm=True, may_redeem=True, at=NOW).id
        volunteer("other_volunteer", "suqian_community", name="孙志愿")
        elder("other_elder", "suqian_community")

        subjects = {"volunteer": "volunteer", "student": "volunteer", "elder": "elder", "proxy": "proxy",
                    "coordinator": "coordinator", "administrator": "administrator", "school": "school",
                    "auditor": "auditor", "other_coordinator": "coordinator",
                    "other_administrator": "administrator", "other_volunteer": "volunteer", "other_elder": "elder"}
        for name, role in subjects.items():
            user = users.create_user(s, username=f"{name}.user", password=PASSWORD, role=role,
                                     subject_id=None if role == "auditor" else ids[name], at=NOW)
            names[name] = user.username
            ids[f"user:{name}"] = user.id
        # the student is linked to the school, consenting (and, being under 18, with a guardian's consent)
        schools.register_school(s, organisation_id=ids["school"], minutes_per_credit=1200, at=NOW)
        _, code = schools.invite(s, school_id=ids["school"], at=NOW)
        schools.link_student(s, writer, sealer, code=code, volunteer_id=ids["student"], guardian_consent=True,
                             guardian_name="陈家长", class_name="高一(3)班", student_number="20260301", at=NOW)
        s.commit()
    engine.dispose()
    return ApiWorld(create_app(settings), settings, ids, names)


# --- the role × endpoint matrix -----------------------------------------------------------------

ROLES = ("anonymous", "volunteer", "student", "elder", "proxy", "coordinator", "administrator", "school", "auditor",
         "other_coordinator", "other_administrator", "other_volunteer", "other_elder")
SIGNED_IN = frozenset(ROLES) - {"anonymous"}


@dataclass(frozen=True)
class Rule:
    """Who may call one endpoint. `path` is the OpenAPI template (e.g. /api/v1/records/{record_id}).
    `sample(world)` gives a concrete path and JSON body for one attempt; it is called afresh for
    every role (so it may create the object the call acts on, through the use cases). An allowed
    role must not get 401, 403 or 404; any other role must get one of them; nobody gets a 5xx."""

    method: str
    path: str
    allowed: frozenset[str]
    sample: Any = None  # Callable[[ApiWorld], tuple[str, Any]]
    fresh_session: bool = False  # for calls that end or change the session (sign-out, password)

    def attempt(self, world: ApiWorld, role: str) -> TestResponse:
        path, body = self.sample(world) if self.sample else (self.path, None)
        client = world.client_for(role, fresh=self.fresh_session)
        call = getattr(client, self.method.lower())
        return call(path) if self.method in ("GET", "DELETE") else call(path, json=body)
