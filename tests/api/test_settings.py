"""Settings from the environment: checked, with a message that says what to fix."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from api.settings import Settings, SettingsError

TIMEBANK = Path(sys.executable).with_name("timebank")


def test_the_defaults_put_a_sqlite_database_and_keys_in_the_instance_folder(tmp_path: Path) -> None:
    settings = Settings.from_env({"TIMEBANK_INSTANCE": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'timebank.sqlite3'}"
    assert settings.key_dir == tmp_path / "keys"
    assert settings.startup_check == "full"


def test_a_secret_key_is_made_once_private_and_then_kept(tmp_path: Path) -> None:
    first = Settings.from_env({"TIMEBANK_INSTANCE": str(tmp_path)}).secret_key
    second = Settings.from_env({"TIMEBANK_INSTANCE": str(tmp_path)}).secret_key
    assert first == second and len(first) >= 32
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert Settings.from_env({"TIMEBANK_INSTANCE": str(tmp_path), "SECRET_KEY": "given"}).secret_key == "given"


def test_a_plain_postgresql_url_means_psycopg(tmp_path: Path) -> None:
    env = {"TIMEBANK_INSTANCE": str(tmp_path), "DATABASE_URL": "postgresql://tb:pw@db.local:5433/timebank"}
    assert Settings.from_env(env).database_url == "postgresql+psycopg://tb:pw@db.local:5433/timebank"


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("DATABASE_URL", "nonsense", "not a database URL"),
        ("DATABASE_URL", "mysql://u@h/db", "SQLite"),
        ("TIMEBANK_STARTUP_CHECK", "sometimes", "full, head"),
    ],
)
def test_a_bad_setting_is_refused_naming_it(tmp_path: Path, variable: str, value: str, says: str) -> None:
    with pytest.raises(SettingsError, match=variable) as caught:
        Settings.from_env({"TIMEBANK_INSTANCE": str(tmp_path), variable: value})
    assert says in str(caught.value)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("DATABASE_URL", "mysql://u@h/db", "DATABASE_URL names 'mysql'"),
        ("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{_closed_port()}/x", "cannot use the database"),
        ("PORT", "abc", "Invalid value for '--port'"),
    ],
)
def test_the_cli_says_what_is_wrong_with_the_environment(tmp_path: Path, variable: str, value: str, says: str) -> None:
    env = {**os.environ, "TIMEBANK_INSTANCE": str(tmp_path), variable: value}
    command = ["serve"] if variable == "PORT" else ["ledger", "list"]
    result = subprocess.run([str(TIMEBANK), *command], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert says in result.stderr and "Traceback" not in result.stderr


def test_proxy_hops_must_be_a_small_whole_number(tmp_path: Path) -> None:
    env = {"TIMEBANK_INSTANCE": str(tmp_path)}
    assert Settings.from_env({**env, "TIMEBANK_PROXY_HOPS": "1"}).proxy_hops == 1
    assert Settings.from_env(env).proxy_hops == 0
    for bad in ("-1", "9", "one"):
        with pytest.raises(SettingsError, match="TIMEBANK_PROXY_HOPS"):
            Settings.from_env({**env, "TIMEBANK_PROXY_HOPS": bad})
