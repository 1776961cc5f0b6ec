"""/healthz and the start-up check: a tampered log is reported and frozen, the others keep working."""

from __future__ import annotations

import gc
import logging
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from livehttp import (
    NOW,
    SIZES,
    LiveServer,
    add_log,
    bare,
    change_leaf,
    delete_leaf,
    drop_triggers,
)
from sqlalchemy.orm import Session

from api.app import create_app
from api.migrate import SchemaBehind
from api.settings import Settings
from ledger.errors import LedgerError, LogTampered
from ledger.keys import key_path
from ledger.writer import Writer

TAMPERED, INTACT = "lianyungang", "suqian"
ENTRIES = 12


def healthz(server: LiveServer, status: int) -> dict[str, Any]:
    reply = server.get("/healthz")
    assert reply.status == status, reply.body
    assert reply.content_type == "application/json"
    body = reply.json()
    assert body["database"] == "ok"
    assert body["status"] == ("ok" if status == 200 else body["status"])
    return body  # type: ignore[no-any-return]


def append_one(server: LiveServer, log_id: str) -> int:
    """Append one entry through the app's own writer, committed; return its index."""
    writer: Writer = server.app.extensions["timebank.writer"]
    with Session(server.app.extensions["timebank.engine"]) as session:
        receipts = writer.append(session, log_id, [{"type": "deposit", "minutes": 30}], at=NOW)
        session.commit()
    return receipts[0].index


def refused(server: LiveServer, log_id: str, error: type[LedgerError] = LogTampered) -> LedgerError:
    writer: Writer = server.app.extensions["timebank.writer"]
    with Session(server.app.extensions["timebank.engine"]) as session:
        with pytest.raises(error) as caught:
            writer.append(session, log_id, [{"type": "deposit", "minutes": 30}], at=NOW)
        session.rollback()
    return caught.value


def logged_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


def test_healthz_is_ok_when_every_log_verifies(demo: LiveServer) -> None:
    body = healthz(demo, 200)
    assert body == {
        "status": "ok",
        "database": "ok",
        "logs": {log_id: {"ok": True, "size": sizes[-1], "problem": None} for log_id, sizes in SIZES.items()},
    }


@pytest.mark.parametrize(
    ("tamper", "where"),
    [
        pytest.param(lambda url: change_leaf(url, TAMPERED, 7), "index 7", id="changed-leaf"),
        pytest.param(lambda url: delete_leaf(url, TAMPERED, ENTRIES - 1), f"index {ENTRIES - 1}", id="deleted-last-leaf"),
        pytest.param(lambda url: delete_leaf(url, TAMPERED, 4), "index 4", id="deleted-middle-leaf"),
    ],
)
def test_a_log_tampered_before_start_is_reported_and_refuses_writes(
    deploy: Callable[..., Settings],
    serve: Callable[[Settings], LiveServer],
    caplog: pytest.LogCaptureFixture,
    tamper: Callable[[str], object],
    where: str,
) -> None:
    settings = deploy(entries=ENTRIES, batch=5)
    drop_triggers(settings.database_url)
    tamper(settings.database_url)
    caplog.set_level(logging.INFO)

    server = serve(settings)  # starts anyway: the other log and the reads stay available

    logs = healthz(server, 503)["logs"]
    assert logs[TAMPERED]["ok"] is False
    assert TAMPERED in logs[TAMPERED]["problem"] and where in logs[TAMPERED]["problem"]
    assert logs[INTACT] == {"ok": True, "size": ENTRIES, "problem": None}
    assert any(TAMPERED in message and where in message for message in logged_errors(caplog))
    assert not any(INTACT in message for message in logged_errors(caplog))

    assert TAMPERED in str(refused(server, TAMPERED))
    assert append_one(server, INTACT) == ENTRIES
    assert server.api(f"/logs/{INTACT}/checkpoint").body.split(b"\n")[1] == str(ENTRIES + 1).encode()
    assert healthz(server, 503)["logs"][TAMPERED]["ok"] is False


def test_a_log_whose_key_file_is_missing_is_reported_and_refuses_writes(
    deploy: Callable[..., Settings], serve: Callable[[Settings], LiveServer], caplog: pytest.LogCaptureFixture
) -> None:
    settings = deploy(entries=ENTRIES, batch=5)
    key_path(settings.key_dir, INTACT).unlink()
    caplog.set_level(logging.INFO)

    server = serve(settings)

    logs = healthz(server, 503)["logs"]
    assert logs[INTACT]["ok"] is False
    assert "key file" in logs[INTACT]["problem"] and "missing" in logs[INTACT]["problem"]
    assert logs[TAMPERED] == {"ok": True, "size": ENTRIES, "problem": None}
    assert any(INTACT in message and "missing" in message for message in logged_errors(caplog))
    refused(server, INTACT, LedgerError)
    assert not key_path(settings.key_dir, INTACT).exists()  # never silently replaced by a new key
    assert append_one(server, TAMPERED) == ENTRIES


def test_a_log_whose_last_leaf_vanishes_while_serving_is_frozen_on_the_next_append(
    deploy: Callable[..., Settings], serve: Callable[[Settings], LiveServer]
) -> None:
    settings = deploy(entries=ENTRIES, batch=5)
    server = serve(settings)
    healthz(server, 200)
    drop_triggers(settings.database_url)
    delete_leaf(settings.database_url, TAMPERED, ENTRIES - 1)

    refused(server, TAMPERED)
    refused(server, TAMPERED)  # stays frozen
    logs = healthz(server, 503)["logs"]
    assert logs[TAMPERED]["ok"] is False and TAMPERED in logs[TAMPERED]["problem"]
    assert logs[INTACT]["ok"] is True
    assert append_one(server, INTACT) == ENTRIES


def refuse_unmigrated(databases: Any, tmp_path: Path) -> list[warnings.WarningMessage]:
    """create_app on a never-migrated database; return the ResourceWarnings left behind (what
    it leaked is collected here, so it cannot fail some later test instead)."""
    settings = bare(databases.new_url(migrated=False), tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(SchemaBehind, match="timebank db upgrade"):
            create_app(settings)
        gc.collect()
    return [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_an_unmigrated_database_is_refused_with_the_command_to_run(databases: Any, tmp_path: Path) -> None:
    refuse_unmigrated(databases, tmp_path)


def test_refusing_an_unmigrated_database_leaves_no_connection_open(databases: Any, tmp_path: Path) -> None:
    leaked = refuse_unmigrated(databases, tmp_path)
    assert not leaked, f"create_app left its engine's connections open: {leaked[0].message}"


def test_a_key_whose_base64_holds_a_plus_sign_still_loads_after_a_restart(
    databases: Any, tmp_path: Path, serve: Callable[[Settings], LiveServer]
) -> None:
    # Roughly every other fresh key has a '+' in its base64; ledger.note once split key files
    # on every '+', so after a restart such a log could no longer sign.
    settings = bare(databases.new_url(), tmp_path)
    add_log(settings, "plus", [3, 2], plus=True)
    server = serve(settings)
    assert healthz(server, 200)["logs"]["plus"] == {"ok": True, "size": 5, "problem": None}
    assert append_one(server, "plus") == 5
