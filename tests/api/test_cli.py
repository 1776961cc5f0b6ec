"""The `timebank` console script, run as a real subprocess with its settings in the environment."""

from __future__ import annotations

import base64
import json
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from livehttp import (
    console_env,
    DEMO_LOGS,
    ORIGIN_HOST,
    add_log,
    build,
    change_leaf,
    demo_sizes,
    deterministic_signer,
    drop_triggers,
    leaf_hash,
    origin,
    session_on,
)

from api import migrate
from ledger import merkle, store
from ledger.keys import Keyring, key_path
from ledger.note import Verifier

TIMEBANK = Path(sys.executable).with_name("timebank")
ENTRIES = 30
SIZES = demo_sizes(ENTRIES, 10)  # a checkpoint every 10 entries
LOG, OTHER = DEMO_LOGS


@dataclass(frozen=True)
class Cli:
    """One deployment driven through the console script."""

    url: str
    root: Path

    @property
    def key_dir(self) -> Path:
        return self.root / "keys"

    def env(self) -> dict[str, str]:
        return console_env(self.url, self.root)

    def run(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([str(TIMEBANK), *args], env=self.env(), capture_output=True, timeout=300)

    def ok(self, *args: str) -> str:
        result = self.run(*args)
        assert result.returncode == 0, result.stderr.decode()
        return result.stdout.decode()

    def vkey(self, log_id: str) -> str:
        """The log's verifier key, from its key file."""
        return Keyring(self.key_dir).signer(log_id, origin(log_id)).vkey


def no_traceback(result: subprocess.CompletedProcess[bytes]) -> None:
    assert b"Traceback" not in result.stdout + result.stderr, result.stderr.decode()


@pytest.fixture(scope="module")
def cli(databases: Any, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """A migrated database with two logs of 30 synthetic entries, a checkpoint every 10."""
    url, root = databases.new_url(), tmp_path_factory.mktemp("cli")
    build(url, root, entries=ENTRIES, batch=10)
    return Cli(url, root)


@pytest.fixture(scope="module")
def unmigrated(databases: Any, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return Cli(databases.new_url(migrated=False), tmp_path_factory.mktemp("cli-empty"))


# -- db -------------------------------------------------------------------------------------------


def test_db_upgrade_migrates_an_empty_database(databases: Any, tmp_path: Path) -> None:
    cli = Cli(databases.new_url(migrated=False), tmp_path)
    (head,) = migrate.heads()
    assert cli.ok("db", "current").strip() == f"database: base; code: {head}"
    assert cli.ok("db", "upgrade").strip() == f"database at {head}"
    assert cli.ok("db", "current").strip() == f"database: {head}; code: {head}"
    assert cli.ok("db", "upgrade").strip() == f"database at {head}"  # again: nothing to do
    assert "no logs yet" in cli.ok("ledger", "list")


@pytest.mark.parametrize(
    "args",
    [
        ["ledger", "list"],
        ["ledger", "list", "--json"],
        ["ledger", "create", "newbank"],
        ["ledger", "checkpoint", LOG],
        ["ledger", "prove", LOG, "--index", "0"],
        ["ledger", "verify"],
        ["demo", "load"],
    ],
    ids=" ".join,
)
def test_commands_on_an_unmigrated_database_say_to_run_db_upgrade(unmigrated: Cli, args: list[str]) -> None:
    result = unmigrated.run(*args)
    assert result.returncode == 1, result.stdout
    assert "timebank db upgrade" in result.stderr.decode()
    no_traceback(result)
    assert not key_path(unmigrated.key_dir, "newbank").exists()


# -- demo and ledger list / create ----------------------------------------------------------------


def test_ledger_list_shows_each_log_with_its_size_and_verifier_key(cli: Cli) -> None:
    lines = cli.ok("ledger", "list").splitlines()
    assert lines == [f"{log_id}\t{ENTRIES} entries\t{cli.vkey(log_id)}" for log_id in DEMO_LOGS]
    listed = json.loads(cli.ok("ledger", "list", "--json"))
    assert listed == [
        {"id": log_id, "origin": origin(log_id), "vkey": cli.vkey(log_id), "size": ENTRIES} for log_id in DEMO_LOGS
    ]
    assert all(list(entry) == ["id", "origin", "vkey", "size"] for entry in listed)


def test_ledger_create_makes_a_log_and_a_private_key_file(databases: Any, tmp_path: Path) -> None:
    cli = Cli(databases.new_url(), tmp_path)
    out = cli.ok("ledger", "create", "newbank")
    path = key_path(cli.key_dir, "newbank")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cli.key_dir.stat().st_mode) & 0o077 == 0
    vkey = cli.vkey("newbank")
    assert out == f"created log newbank; verifier key:\n{vkey}\n"
    assert vkey.startswith(f"{ORIGIN_HOST}/newbank+")
    assert json.loads(cli.ok("ledger", "list", "--json")) == [
        {"id": "newbank", "origin": f"{ORIGIN_HOST}/newbank", "vkey": vkey, "size": 0}
    ]
    assert cli.ok("ledger", "verify", "newbank").startswith("OK   log newbank: 0 entries, 1 checkpoints verified")

    key = path.read_bytes()
    again = cli.run("ledger", "create", "newbank")
    assert again.returncode == 1 and b"already exists" in again.stderr
    no_traceback(again)
    assert path.read_bytes() == key

    bad = cli.run("ledger", "create", "New_Bank")
    assert bad.returncode == 1 and b"New_Bank" in bad.stderr
    no_traceback(bad)
    assert not key_path(cli.key_dir, "New_Bank").exists()


# -- checkpoint and prove -------------------------------------------------------------------------


def stored_note(cli: Cli, log_id: str, size: int | None = None) -> bytes:
    with session_on(cli.url) as session:
        found = store.latest_checkpoint(session, log_id) if size is None else store.get_checkpoint(session, log_id, size)
    return found.note


@pytest.mark.parametrize("size", [None, 0, 20])
def test_ledger_checkpoint_prints_the_signed_note_byte_for_byte(cli: Cli, size: int | None) -> None:
    args = ["ledger", "checkpoint", LOG] + ([] if size is None else ["--size", str(size)])
    result = cli.run(*args)
    assert result.returncode == 0, result.stderr
    assert result.stdout == stored_note(cli, LOG, size)
    checkpoint = Verifier.from_vkey(cli.vkey(LOG)).open_checkpoint(result.stdout)
    assert checkpoint.size == (ENTRIES if size is None else size)


@pytest.mark.parametrize(("index", "size"), [(7, None), (ENTRIES - 1, None), (0, 10), (19, 20)])
def test_ledger_prove_prints_an_inclusion_proof_that_verifies(cli: Cli, index: int, size: int | None) -> None:
    args = ["ledger", "prove", LOG, "--index", str(index)] + ([] if size is None else ["--size", str(size)])
    proof = json.loads(cli.ok(*args))
    assert list(proof) == ["index", "tree_size", "leaf_hash", "leaf_b64", "root_hash", "proof", "checkpoint"]
    tree_size = ENTRIES if size is None else size
    assert (proof["index"], proof["tree_size"]) == (index, tree_size)
    assert proof["checkpoint"].encode() == stored_note(cli, LOG, tree_size)
    checkpoint = Verifier.from_vkey(cli.vkey(LOG)).open_checkpoint(proof["checkpoint"].encode())
    leaf = base64.b64decode(proof["leaf_b64"], validate=True)
    with session_on(cli.url) as session:
        assert leaf == store.read_leaves(session, LOG, index, index + 1)[0]
    assert base64.b64decode(proof["leaf_hash"]) == leaf_hash(leaf)
    assert base64.b64decode(proof["root_hash"]) == checkpoint.root
    path = [base64.b64decode(h, validate=True) for h in proof["proof"]]
    merkle.verify_inclusion(index, tree_size, leaf_hash(leaf), path, checkpoint.root)


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        pytest.param(["ledger", "checkpoint", "nope"], 1, "no log 'nope'", id="checkpoint-unknown-log"),
        pytest.param(["ledger", "prove", "nope", "--index", "0"], 1, "no log 'nope'", id="prove-unknown-log"),
        pytest.param(["ledger", "verify", "nope"], 1, "no log 'nope'", id="verify-unknown-log"),
        pytest.param(["ledger", "prove", LOG, "--index", str(ENTRIES)], 1, f"index {ENTRIES}", id="index-beyond-size"),
        pytest.param(["ledger", "prove", LOG, "--index", "15", "--size", "10"], 1, "index 15", id="index-beyond-given-size"),
        pytest.param(["ledger", "prove", LOG, "--index", "5", "--size", "15"], 1, "size 15", id="prove-unsigned-size"),
        pytest.param(["ledger", "prove", LOG, "--index", "0", "--size", "31"], 1, "size 31", id="prove-size-beyond-log"),
        pytest.param(["ledger", "checkpoint", LOG, "--size", "15"], 1, "size 15", id="checkpoint-unsigned-size"),
        pytest.param(["ledger", "prove", LOG, "--index", "-1"], 2, "--index", id="negative-index"),
        pytest.param(["ledger", "verify", "--vkey", "not-a-key"], 2, "--vkey", id="malformed-vkey"),
    ],
)
def test_ledger_errors_exit_non_zero_with_a_clear_message(cli: Cli, args: list[str], code: int, says: str) -> None:
    result = cli.run(*args)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert says in result.stderr.decode()
    assert result.stdout == b""
    no_traceback(result)


# -- verify ---------------------------------------------------------------------------------------


def test_ledger_verify_accepts_intact_logs(cli: Cli) -> None:
    checkpoints = len(SIZES)
    expected = [f"OK   log {log_id}: {ENTRIES} entries, {checkpoints} checkpoints verified" for log_id in DEMO_LOGS]
    assert cli.ok("ledger", "verify").splitlines() == expected
    assert cli.ok("ledger", "verify", LOG, "--vkey", cli.vkey(LOG)).splitlines() == expected[:1]
    both = ["--vkey", cli.vkey(LOG), "--vkey", cli.vkey(OTHER)]
    assert cli.ok("ledger", "verify", *both).splitlines() == expected


def test_ledger_verify_with_another_key_of_the_same_name_fails(cli: Cli) -> None:
    stranger = deterministic_signer(origin(LOG), tag="impostor").vkey
    assert stranger != cli.vkey(LOG)
    result = cli.run("ledger", "verify", LOG, "--vkey", stranger)
    assert result.returncode == 1, result.stdout
    assert f"FAIL log {LOG}" in result.stderr.decode()
    no_traceback(result)


def test_ledger_verify_trusts_only_the_keys_it_is_given(cli: Cli) -> None:
    # An auditor's --vkey that does not fit the log (here: the other bank's key) must not be
    # silently replaced by the operator's key file.
    result = cli.run("ledger", "verify", LOG, "--vkey", cli.vkey(OTHER))
    assert result.returncode == 1, result.stdout
    assert LOG in result.stderr.decode()
    no_traceback(result)


def test_ledger_verify_names_the_first_bad_index_of_a_tampered_log(databases: Any, tmp_path: Path) -> None:
    cli = Cli(databases.new_url(), tmp_path)
    build(cli.url, tmp_path, entries=20, batch=5)
    drop_triggers(cli.url)
    change_leaf(cli.url, LOG, 12)
    result = cli.run("ledger", "verify")
    assert result.returncode == 1
    assert f"FAIL log {LOG}: first bad index 12" in result.stderr.decode()
    assert f"OK   log {OTHER}: 20 entries" in result.stdout.decode()
    no_traceback(result)


def test_ledger_verify_accepts_a_published_key_holding_a_plus_sign(databases: Any, tmp_path: Path) -> None:
    cli = Cli(databases.new_url(), tmp_path)
    settings = build(cli.url, tmp_path, entries=3, batch=5)
    add_log(settings, "plus", [2, 3], plus=True)
    vkey = cli.vkey("plus")
    assert vkey.count("+") > 2
    assert cli.ok("ledger", "verify", "plus", "--vkey", vkey).startswith("OK   log plus: 5 entries")
