"""The live server checked by an independent verifier built on the Go team's sumdb/{note,tlog}."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from livehttp import DEMO_LOGS, SIZES, LiveServer, change_leaf, deterministic_signer, drop_triggers, key_file_vkey, origin

from api.settings import Settings

HERE = Path(__file__).resolve().parent
BUILD = HERE.parent / "external" / "build.sh"
GO_SOURCES = Path("/usr/share/gocode/src/golang.org/x/mod/sumdb/note")


@pytest.fixture(scope="session")
def verifier(need_tool: Callable[[bool, str], None], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/external/c2sp_verify.go, built once a session."""
    need_tool(
        shutil.which("go") is not None and GO_SOURCES.is_dir(),
        "the external verifier needs Go and golang.org/x/mod (golang-go, golang-golang-x-mod-dev)",
    )
    binary = tmp_path_factory.mktemp("go") / "c2sp_verify"
    built = subprocess.run(["bash", str(BUILD), str(binary)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    return binary


def run(binary: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=600)


def verify(binary: Path, server: LiveServer, log_id: str, vkey: str) -> subprocess.CompletedProcess[str]:
    return run(binary, "-url", server.ledger_url, "-log", log_id, "-vkey", vkey)


def test_the_verifier_agrees_with_the_spec_vectors(verifier: Path) -> None:
    result = run(verifier, "-selftest")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "selftest OK" in result.stdout


@pytest.mark.parametrize("log_id", sorted(SIZES))
def test_the_verifier_accepts_every_log_served(verifier: Path, demo: LiveServer, log_id: str) -> None:
    result = verify(verifier, demo, log_id, key_file_vkey(demo.settings, log_id))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"OK log={log_id} origin={origin(log_id)} size={SIZES[log_id][-1]} " in result.stdout


def test_the_verifier_rejects_a_log_checked_with_another_key(verifier: Path, demo: LiveServer) -> None:
    stranger = deterministic_signer(origin(DEMO_LOGS[0]), tag="impostor").vkey
    assert stranger != key_file_vkey(demo.settings, DEMO_LOGS[0])
    result = verify(verifier, demo, DEMO_LOGS[0], stranger)
    assert result.returncode != 0, result.stdout
    assert "FAIL" in result.stderr


def test_the_verifier_rejects_a_leaf_changed_after_the_server_started(
    verifier: Path, deploy: Callable[..., Settings], serve: Callable[[Settings], LiveServer]
) -> None:
    settings = deploy(entries=23, batch=5)
    server = serve(settings)
    log_id = DEMO_LOGS[0]
    vkey = key_file_vkey(settings, log_id)
    before = verify(verifier, server, log_id, vkey)
    assert before.returncode == 0, before.stdout + before.stderr

    drop_triggers(settings.database_url)
    change_leaf(settings.database_url, log_id, 11)

    after = verify(verifier, server, log_id, vkey)
    assert after.returncode != 0, after.stdout
    assert "FAIL: leaf 12:" in after.stderr  # the next leaf's prev no longer matches
    untouched = verify(verifier, server, DEMO_LOGS[1], key_file_vkey(settings, DEMO_LOGS[1]))
    assert untouched.returncode == 0, untouched.stdout + untouched.stderr
