"""Helpers of the live-HTTP tests: build a deployment, serve it for real, fetch with urllib, tamper."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.serving import WSGIRequestHandler, make_server

from api.app import create_app
from api.settings import Settings
from ledger import store
from ledger.database import create_engine, drop_append_only_ddl, leaves
from ledger.keys import Keyring, key_path
from ledger.note import Signer
from ledger.writer import Writer
from ledger_fill import BANKS, load_demo

API = "/api/v1/ledger"
TEXT = "text/plain; charset=utf-8"
NOW = datetime(2026, 11, 25, 9, 30, 0, tzinfo=timezone.utc)
ORIGIN_HOST = "timebank.test"
DEMO_LOGS = tuple(log_id for log_id, _ in BANKS)
HUGE = 2**63  # one past what a BIGINT holds


def origin(log_id: str) -> str:
    return f"{ORIGIN_HOST}/{log_id}"


def demo_sizes(entries: int, batch: int) -> list[int]:
    """The signed sizes `load_demo` leaves behind: 0, then one per batch."""
    return sorted({0, *range(batch, entries, batch), entries})


# What the shared `demo` server holds (tests/api/conftest.py).
DEMO_ENTRIES, DEMO_BATCH = 37, 5
DEMO_SIZES = demo_sizes(DEMO_ENTRIES, DEMO_BATCH)
BULK_LOG = "bulk"
BULK_BATCHES = [1 + 7 * k % 13 for k in range(160)]  # 1112 entries in 160 uneven batches
BULK_SIZES = [0, *itertools.accumulate(BULK_BATCHES)]
SIZES = {**{log_id: DEMO_SIZES for log_id in DEMO_LOGS}, BULK_LOG: BULK_SIZES}


# -- HTTP -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """One HTTP response, read whole."""

    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def fetch(url: str) -> Reply:
    """GET `url`; 4xx and 5xx are replies too, not exceptions."""
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:
            return Reply(resp.status, resp.headers.get("Content-Type", ""), resp.read())
    except urllib.error.HTTPError as err:
        try:
            return Reply(err.code, err.headers.get("Content-Type", ""), err.read())
        finally:
            err.close()


def assert_shape(obj: Any, fields: dict[str, type]) -> None:
    """`obj` is a JSON object with exactly these keys, in this order, of exactly these types."""
    assert isinstance(obj, dict), obj
    assert list(obj) == list(fields)
    for key, kind in fields.items():
        assert type(obj[key]) is kind, f"{key}: {obj[key]!r} is not {kind.__name__}"


def error_of(reply: Reply, status: int) -> dict[str, Any]:
    """The one JSON error shape: {"code", "status", "message", "errors"}."""
    assert reply.status == status, reply.body
    assert reply.content_type == "application/json"
    body = reply.json()
    assert_shape(body, {"code": str, "status": int, "message": str, "errors": dict})
    assert body["status"] == status
    assert body["code"] and body["message"]
    return body


@dataclass(frozen=True)
class LiveServer:
    """A running server: its base URL, the app it serves and that app's settings."""

    base: str
    app: Flask
    settings: Settings

    @property
    def ledger_url(self) -> str:
        return self.base + API

    def get(self, path: str, params: Mapping[str, object] | None = None) -> Reply:
        return fetch(self.base + path + ("?" + urlencode(params) if params else ""))

    def api(self, path: str, **params: object) -> Reply:
        """GET API + path with query `params`."""
        return self.get(API + path, params)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # the app logs what matters; one line per request would drown the test output


@contextmanager
def serving(settings: Settings) -> Iterator[LiveServer]:
    """create_app(settings) served by werkzeug on a free port in a thread, stopped on exit."""
    app = create_app(settings)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name=f"live-{server.port}", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.port}", app, settings)
    finally:
        server.shutdown()
        thread.join(timeout=30)
        server.server_close()
        app.extensions["timebank.engine"].dispose()


# -- keys and deployments -------------------------------------------------------------------------


def deterministic_signer(name: str, *, plus: bool | None = None, tag: str = "") -> Signer:
    """A reproducible key for `name`; another `tag` gives another key of that name. With
    plus=True the base64 of both its skey and vkey holds a '+', with plus=False neither does
    (ledger.note once split keys on every '+' and so refused about half of all keys)."""
    for n in itertools.count():
        signer = Signer.from_seed(name, hashlib.sha256(f"{name}#{tag}#{n}".encode()).digest())
        has_plus = (signer.skey.count("+") > 4, signer.vkey.count("+") > 2)
        if plus is None or has_plus == (plus, plus):
            return signer
    raise AssertionError("unreachable")


def plant_key(key_dir: Path, log_id: str, *, plus: bool | None = None, name: str | None = None) -> Signer:
    """Write log `log_id`'s key file (mode 0600) before the log is created, as an operator may."""
    signer = deterministic_signer(name or origin(log_id), plus=plus)
    key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(key_path(key_dir, log_id), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(signer.skey + "\n")
    return signer


@contextmanager
def session_on(url: str) -> Iterator[Session]:
    """A session on a short-lived engine of its own."""
    engine = create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def console_env(url: str, root: Path) -> dict[str, str]:
    """The environment of a `timebank` command run on database `url` with its instance and keys
    under `root` (root/instance, root/keys), and nothing of the caller's own timebank settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMEBANK_")}
    for name in ("DATABASE_URL", "SECRET_KEY", "PORT"):
        env.pop(name, None)
    env.update(DATABASE_URL=url, TIMEBANK_INSTANCE=str(root / "instance"), TIMEBANK_KEY_DIR=str(root / "keys"),
               TIMEBANK_ORIGIN_HOST=ORIGIN_HOST)
    return env


def bare(url: str, root: Path) -> Settings:
    """Settings serving database `url` with keys in root/keys."""
    return Settings(database_url=url, instance_path=root, key_dir=root / "keys", secret_key="test", origin_host=ORIGIN_HOST)


def build(url: str, root: Path, *, entries: int = 37, batch: int = 5) -> Settings:
    """Load the demo banks into the migrated database `url` (keys in root/keys) and return the
    settings that serve it."""
    settings = bare(url, root)
    for log_id in DEMO_LOGS:
        plant_key(settings.key_dir, log_id)
    with session_on(url) as session:
        writer = Writer(Keyring(settings.key_dir))
        load_demo(session, writer, origin_host=ORIGIN_HOST, now=NOW, entries_per_bank=entries, batch=batch)
    return settings


def add_log(settings: Settings, log_id: str, batches: Sequence[int], *, plus: bool | None = None) -> list[int]:
    """Plant a key file and create log `log_id` with it, then append batches of these sizes, one
    signed checkpoint each; return the signed sizes."""
    signer = plant_key(settings.key_dir, log_id, plus=plus)
    sizes = [0]
    with session_on(settings.database_url) as session:
        store.create_log(session, log_id=log_id, origin=origin(log_id), signer=signer, at=NOW)
        session.commit()
        for k, count in enumerate(batches):
            first = sizes[-1]
            entries = [{"type": "deposit", "n": first + i, "minutes": 30 + (first + i) % 90} for i in range(count)]
            store.append(session, log_id, entries, signer=signer, at=NOW + timedelta(minutes=k))
            session.commit()
            sizes.append(first + count)
    return sizes


def key_file_vkey(settings: Settings, log_id: str) -> str:
    """The verifier key of log `log_id`'s key file (read from disk, not from the server)."""
    return Keyring(settings.key_dir).signer(log_id, origin(log_id)).vkey


# -- tampering ------------------------------------------------------------------------------------


def drop_triggers(url: str) -> None:
    """Remove the append-only triggers, as someone with write access to the database could."""
    engine = create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            # the ledger's triggers only: the function stays, the domain's history tables use it too
            for statement in drop_append_only_ddl(engine.dialect.name, with_function=False):
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def change_leaf(url: str, log_id: str, seq: int) -> bytes:
    """Change one digit of leaf `seq`'s "minutes" (still canonical JSON); return the new bytes."""
    with session_on(url) as session:
        where = (leaves.c.log_id == log_id) & (leaves.c.seq == seq)
        data = bytes(session.execute(sa.select(leaves.c.data).where(where)).scalar_one())
        at = data.index(b'"minutes":') + len(b'"minutes":')
        digit = data[at] - ord("0")
        changed = data[:at] + str(digit % 9 + 1).encode() + data[at + 1 :]
        assert changed != data
        session.execute(sa.update(leaves).where(where).values(data=changed))
        session.commit()
    return changed


def delete_leaf(url: str, log_id: str, seq: int) -> None:
    with session_on(url) as session:
        session.execute(sa.delete(leaves).where((leaves.c.log_id == log_id) & (leaves.c.seq == seq)))
        session.commit()


# -- a naive RFC 6962 reference, independent of ledger.merkle --------------------------------------


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def mth(leaf_list: Sequence[bytes]) -> bytes:
    """RFC 6962 Merkle tree hash of `leaf_list` (the plain recursive definition)."""
    if not leaf_list:
        return hashlib.sha256(b"").digest()
    if len(leaf_list) == 1:
        return leaf_hash(leaf_list[0])
    k = 1 << ((len(leaf_list) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + mth(leaf_list[:k]) + mth(leaf_list[k:])).digest()
