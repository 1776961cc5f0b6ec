"""`timebank ledger rotate-key`: a log's signing key rotated with an overlap, through the console
script, a restarted app, a live server and the independent Go verifier."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from livehttp import NOW, LiveServer, add_log, bare, console_env, drop_triggers, key_file_vkey, origin, session_on

from api.app import create_app
from api.settings import Settings
from ledger import store
from ledger.database import checkpoints
from ledger.keys import Keyring, load_key, next_key_path, retired_key_path
from ledger.note import SIGNATURE_DASH, Checkpoint, Verifier
from ledger.writer import Writer

TIMEBANK = Path(sys.executable).with_name("timebank")
BUILD = Path(__file__).resolve().parent.parent / "external" / "build.sh"
GO_SOURCES = Path("/usr/share/gocode/src/golang.org/x/mod/sumdb/note")
LOG = "rota"


@pytest.fixture(scope="module")
def go_verifier(need_tool: Callable[[bool, str], None], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/external/c2sp_verify.go, built once for this module."""
    need_tool(
        shutil.which("go") is not None and GO_SOURCES.is_dir(),
        "the external verifier needs Go and golang.org/x/mod (golang-go, golang-golang-x-mod-dev)",
    )
    binary = tmp_path_factory.mktemp("go") / "c2sp_verify"
    built = subprocess.run(["bash", str(BUILD), str(binary)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    return binary


def timebank(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = console_env(settings.database_url, settings.instance_path)
    env["TIMEBANK_KEY_DIR"] = str(settings.key_dir)
    result = subprocess.run([str(TIMEBANK), *args], env=env, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def ok(settings: Settings, *args: str) -> str:
    result = timebank(settings, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def append(settings: Settings, count: int, start: int) -> None:
    """Append through a Writer as the service does, with a keyring loaded before any rotation step."""
    with session_on(settings.database_url) as session:
        entries = [{"type": "deposit", "n": start + i, "minutes": 30} for i in range(count)]
        Writer(Keyring(settings.key_dir)).append(session, LOG, entries, at=NOW + timedelta(hours=1))
        session.commit()


def frozen_after_restart(settings: Settings) -> dict[str, str]:
    app = create_app(settings)
    try:
        return dict(app.extensions["timebank.writer"].frozen)
    finally:
        app.extensions["timebank.engine"].dispose()


def go(binary: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=600)


def signature_lines(note: str) -> list[str]:
    return [line for line in note.split("\n") if line.startswith(SIGNATURE_DASH)]


def test_rotating_a_log_key_through_the_command_line(
    databases: Any, tmp_path: Path, go_verifier: Path, serve: Callable[[Settings], LiveServer]
) -> None:
    settings = bare(databases.new_url(), tmp_path)
    add_log(settings, LOG, [3, 4])
    old = key_file_vkey(settings, LOG)

    nothing = timebank(settings, "ledger", "rotate-key", LOG, "--finish")
    assert nothing.returncode == 1 and "no key rotation of log 'rota' is in progress" in nothing.stderr
    assert timebank(settings, "ledger", "rotate-key", LOG).returncode == 2
    assert timebank(settings, "ledger", "rotate-key", "nosuch", "--begin").returncode == 1

    begun = ok(settings, "ledger", "rotate-key", LOG, "--begin")
    new = begun.strip().split("\n")[-1]
    assert Verifier.from_vkey(new).name == origin(LOG) and new != old
    assert next_key_path(settings.key_dir, LOG).exists()
    again = timebank(settings, "ledger", "rotate-key", LOG, "--begin")
    assert again.returncode == 1 and "in progress" in again.stderr
    assert frozen_after_restart(settings) == {}  # restart during the overlap

    append(settings, 3, 7)
    note = ok(settings, "ledger", "checkpoint", LOG)
    assert len(signature_lines(note)) == 2
    saved = tmp_path / "cosigned.checkpoint"
    saved.write_text(note, encoding="utf-8")
    for vkey in (old, new):  # golang.org/x/mod/sumdb/note opens it with either key alone
        opened = go(go_verifier, "-checkpoint", str(saved), "-vkey", vkey)
        assert opened.returncode == 0, opened.stdout + opened.stderr
        assert f"OK checkpoint origin={origin(LOG)} size=10 " in opened.stdout
    server = serve(settings)  # a verifier that knows only the old key checks the whole log
    full = go(go_verifier, "-url", server.ledger_url, "-log", LOG, "-vkey", old)
    assert full.returncode == 0, full.stdout + full.stderr

    finished = ok(settings, "ledger", "rotate-key", LOG, "--finish")
    old_id = Verifier.from_vkey(old).key_id.hex()
    retired = retired_key_path(settings.key_dir, LOG, old_id)
    assert f"retired key {old_id} at size 10" in finished and new in finished and str(retired) in finished
    assert key_file_vkey(settings, LOG) == new and not next_key_path(settings.key_dir, LOG).exists()
    assert ok(settings, "ledger", "list").split("\n")[0].endswith(new)
    assert frozen_after_restart(settings) == {}  # restart after the overlap

    append(settings, 2, 10)
    note = ok(settings, "ledger", "checkpoint", LOG)
    assert len(signature_lines(note)) == 1 and Verifier.from_vkey(new).open_checkpoint(note.encode()).size == 12
    assert "OK   log rota: 12 entries, 5 checkpoints verified" in ok(settings, "ledger", "verify", LOG)
    assert "OK   log rota" in ok(settings, "ledger", "verify", LOG, "--vkey", old, "--vkey", new)
    assert "OK   log rota" in ok(settings, "ledger", "verify", LOG, "--vkey", new)
    only_old = timebank(settings, "ledger", "verify", LOG, "--vkey", old)
    assert only_old.returncode == 1 and "FAIL log rota" in only_old.stderr

    # Whoever kept the retired key signs the head again with it alone: beyond its size.
    head = Checkpoint(origin(LOG), 12, Verifier.from_vkey(new).open_checkpoint(note.encode()).root)
    forged = load_key(retired, origin(LOG)).sign_checkpoint(head)
    drop_triggers(settings.database_url)
    with session_on(settings.database_url) as session:
        session.execute(sa.update(checkpoints).where(checkpoints.c.log_id == LOG, checkpoints.c.size == 12)
                        .values(note=forged))
        session.commit()
    refused = timebank(settings, "ledger", "verify", LOG)
    assert refused.returncode == 1
    assert f"checkpoint of size 12: signature does not verify: checkpoint of size 12 is signed only by retired key {old_id} (retired at size 10)" in refused.stderr
    assert "signed only by retired key" in frozen_after_restart(settings)[LOG]
    with session_on(settings.database_url) as session:
        assert store.latest_checkpoint(session, LOG).size == 12
