"""Settings, read once from the environment and passed to `create_app` as a frozen dataclass."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

_CHECKOUT = Path(__file__).resolve().parent.parent


def default_instance() -> Path:
    """`instance/` of the source checkout; for an installed package, of the working directory."""
    root = _CHECKOUT if (_CHECKOUT / "pyproject.toml").is_file() else Path.cwd()
    return root / "instance"

STARTUP_CHECKS = ("full", "head")
SUPPORTED_DATABASES = ("sqlite", "postgresql")


class SettingsError(ValueError):
    """A setting from the environment cannot be used."""


@dataclass(frozen=True)
class Settings:
    """Everything a deployment configures.

    - `database_url`: SQLAlchemy URL (`DATABASE_URL`); default a SQLite file in the instance folder.
    - `instance_path`: folder for local state (`TIMEBANK_INSTANCE`).
    - `key_dir`: ledger signing keys, one file a log, mode 0600 (`TIMEBANK_KEY_DIR`).
    - `secret_key`: Flask's secret (`SECRET_KEY`); made once and kept in the instance folder.
    - `origin_host`: prefix of new logs' origins, `<host>/<log id>` (`TIMEBANK_ORIGIN_HOST`).
    - `personal_data_keys`: the personal-data key file (`TIMEBANK_PERSONAL_DATA_KEYS`), mode 0600,
      made on first use; rotate with `timebank keys rotate-personal-data`.
    - `secure_cookies`: send the session cookie over HTTPS only (`TIMEBANK_SECURE_COOKIES=1`; set it
      whenever the service is behind HTTPS, as it should be in production).
    - `proxy_hops`: how many reverse proxies stand in front (`TIMEBANK_PROXY_HOPS`, 0–5); their
      X-Forwarded-For then gives the client's address, which sign-in throttling counts by.
    - `startup_check`: `full` re-verifies every log on start, `head` only each log's tree head
      against its last checkpoint (`TIMEBANK_STARTUP_CHECK`).
    """

    database_url: str
    instance_path: Path
    key_dir: Path
    secret_key: str
    origin_host: str = "timebank.example.org"
    startup_check: str = "full"
    personal_data_keys: Path | None = None
    secure_cookies: bool = False
    proxy_hops: int = 0

    @property
    def personal_data_key_file(self) -> Path:
        return self.personal_data_keys or self.instance_path / "personal-data.keys"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read settings from `environ` (default: the process environment), creating the instance
        folder and, when no SECRET_KEY is given, a secret key file in it."""
        env = os.environ if environ is None else environ
        instance = Path(env.get("TIMEBANK_INSTANCE") or default_instance()).resolve()
        instance.mkdir(parents=True, exist_ok=True)
        check = env.get("TIMEBANK_STARTUP_CHECK", "full")
        if check not in STARTUP_CHECKS:
            raise SettingsError(f"TIMEBANK_STARTUP_CHECK must be one of {', '.join(STARTUP_CHECKS)}, not {check!r}")
        return cls(
            database_url=_database_url(env.get("DATABASE_URL") or f"sqlite:///{instance / 'timebank.sqlite3'}"),
            instance_path=instance,
            key_dir=Path(env.get("TIMEBANK_KEY_DIR") or instance / "keys").resolve(),
            secret_key=env.get("SECRET_KEY") or _stored_secret(instance / "secret_key"),
            origin_host=env.get("TIMEBANK_ORIGIN_HOST", "timebank.example.org").strip("/"),
            startup_check=check,
            secure_cookies=env.get("TIMEBANK_SECURE_COOKIES", "").lower() in ("1", "true", "yes"),
            proxy_hops=_proxy_hops(env.get("TIMEBANK_PROXY_HOPS", "0")),
            personal_data_keys=Path(
                env.get("TIMEBANK_PERSONAL_DATA_KEYS") or instance / "personal-data.keys"
            ).resolve(),
        )


def _database_url(url: str) -> str:
    """Check DATABASE_URL: SQLite or PostgreSQL (through psycopg 3, which `postgresql://` means here)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise SettingsError(f"DATABASE_URL {url!r} is not a database URL: {exc}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in SUPPORTED_DATABASES:
        raise SettingsError(
            f"DATABASE_URL names {parsed.get_backend_name()!r}; timebank runs on SQLite (sqlite:///path) "
            "or PostgreSQL (postgresql://user@host/db)"
        )
    return parsed.render_as_string(hide_password=False)


def _proxy_hops(value: str) -> int:
    if not (value.isdigit() and 0 <= int(value) <= 5):
        raise SettingsError(f"TIMEBANK_PROXY_HOPS must be a whole number from 0 to 5, not {value!r}")
    return int(value)


def _stored_secret(path: Path) -> str:
    """The secret kept at `path`, made on first use (mode 0600)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_urlsafe(48) + "\n")
    return path.read_text(encoding="ascii").strip()
