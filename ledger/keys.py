"""Signing key files: one per log, outside the database, mode 0600, created on first use.

During a key rotation a log has two: `<log>.key` (current) and `<log>.next.key` (incoming), and
every checkpoint is signed by both. Finishing it moves the current key to
`<log>.retired-<key id>.key`, for the operator to destroy offline, and the incoming key to `<log>.key`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import CheckpointError, KeyFileError
from .note import Signer, Verifier

KEY_SUFFIX = ".key"
NEXT_SUFFIX = ".next.key"


def key_path(key_dir: Path, log_id: str) -> Path:
    """Where the key of log `log_id` lives."""
    return key_dir / f"{log_id}{KEY_SUFFIX}"


def next_key_path(key_dir: Path, log_id: str) -> Path:
    """Where the incoming key of log `log_id` lives while a rotation is in progress."""
    return key_dir / f"{log_id}{NEXT_SUFFIX}"


def retired_key_path(key_dir: Path, log_id: str, key_id: str) -> Path:
    """Where a finished rotation leaves log `log_id`'s retired key `key_id` (8 hex digits)."""
    return key_dir / f"{log_id}.retired-{key_id}{KEY_SUFFIX}"


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


def move_key(source: Path, target: Path) -> None:
    """Rename a key file, never over another one, and make the rename durable.
    Raises KeyFileError when `target` exists."""
    try:
        os.link(source, target)
    except FileExistsError as exc:
        raise KeyFileError(f"key file {target} already exists; refusing to overwrite it") from exc
    os.unlink(source)
    _sync_dir(source.parent)


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Keyring:
    """The signing keys of a deployment's logs, one file each in `key_dir` (two while a log's key
    is rotated). It follows the files: a key file replaced, added or removed by a rotation is
    read again at the next use, so a running service needs no restart."""

    def __init__(self, key_dir: Path) -> None:
        self.key_dir = key_dir
        self._loaded: dict[Path, tuple[tuple[int, int, int, int], Signer]] = {}

    def load_or_create(self, log_id: str, origin: str) -> Signer:
        """The key of a new log: its file if present, else a fresh one. Raises KeyFileError."""
        path = key_path(self.key_dir, log_id)
        return self._load(path, origin) if path.exists() else create_key(path, origin)

    def signer(self, log_id: str, origin: str) -> Signer:
        """The key of an existing log, co-signing with its incoming key while a rotation is in
        progress. Raises KeyFileError when a key is missing or wrong."""
        current = self._load(key_path(self.key_dir, log_id), origin)
        try:
            incoming = self._load(next_key_path(self.key_dir, log_id), origin)
        except FileNotFoundError:
            return current
        return current if incoming.vkey == current.vkey else current.cosigned_by(incoming)

    def verifiers(self, log_id: str, origin: str) -> list[Verifier]:
        """The verifier keys of the log's key files (current, and incoming during a rotation)."""
        return self.signer(log_id, origin).verifiers

    def _load(self, path: Path, origin: str) -> Signer:
        """The key at `path`, read again only when the file changed. FileNotFoundError (a
        KeyFileError) when it is missing."""
        try:
            st = path.stat()
        except FileNotFoundError:
            self._loaded.pop(path, None)
            raise _Missing(f"key file {path} is missing: this log cannot sign") from None
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        loaded = self._loaded.get(path)
        if loaded is not None and loaded[0] == stamp and loaded[1].name == origin:
            return loaded[1]
        signer = load_key(path, origin)
        self._loaded[path] = (stamp, signer)
        return signer


class _Missing(KeyFileError, FileNotFoundError):
    """A key file is not there."""
