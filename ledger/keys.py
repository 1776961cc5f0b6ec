"""Signing key files: one per log, outside the database, mode 0600, created on first use."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import CheckpointError, KeyFileError
from .note import Signer

KEY_SUFFIX = ".key"


def key_path(key_dir: Path, log_id: str) -> Path:
    """Where the key of log `log_id` lives."""
    return key_dir / f"{log_id}{KEY_SUFFIX}"


def create_key(path: Path, origin: str) -> Signer:
    """Write a fresh key for `origin` to `path` (mode 0600, never overwriting one).

    Raises KeyFileError when a file is already there.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    signer = Signer.generate(origin)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise KeyFileError(f"key file {path} already exists; refusing to overwrite it") from exc
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(signer.skey + "\n")
        out.flush()
        os.fsync(out.fileno())
    return signer


def load_key(path: Path, origin: str) -> Signer:
    """Read the key at `path` and check that it is private to its owner and named `origin`.

    Raises KeyFileError when it is missing, readable by others, malformed or another log's.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as exc:
        raise KeyFileError(f"key file {path} is missing: this log cannot sign") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"key file {path} is open to other users; run: chmod 600 {path}")
    try:
        text = path.read_text(encoding="ascii")
    except OSError as exc:
        raise KeyFileError(f"key file {path} cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise KeyFileError(f"key file {path} is not a signer key: it is not ASCII text") from None
    try:
        signer = Signer.from_skey(text)
    except CheckpointError as exc:
        raise KeyFileError(f"key file {path} is not a signer key: {exc}") from None
    if signer.name != origin:
        raise KeyFileError(f"key file {path} is for {signer.name!r}, not {origin!r}")
    return signer


class Keyring:
    """The signing keys of a deployment's logs, one file each in `key_dir`, loaded once."""

    def __init__(self, key_dir: Path) -> None:
        self.key_dir = key_dir
        self._signers: dict[str, Signer] = {}

    def load_or_create(self, log_id: str, origin: str) -> Signer:
        """The key of a new log: its file if present, else a fresh one. Raises KeyFileError."""
        path = key_path(self.key_dir, log_id)
        signer = load_key(path, origin) if path.exists() else create_key(path, origin)
        self._signers[log_id] = signer
        return signer

    def signer(self, log_id: str, origin: str) -> Signer:
        """The key of an existing log. Raises KeyFileError when it is missing or wrong."""
        signer = self._signers.get(log_id)
        if signer is None or signer.name != origin:
            signer = load_key(key_path(self.key_dir, log_id), origin)
            self._signers[log_id] = signer
        return signer
