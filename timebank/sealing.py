"""Personal data sealed at rest: AES-256-GCM bound to its row and column, keys that rotate, and a
keyed blind index so duplicates (an ID number registered twice) are found without decrypting.

A sealed value reads `pd1.<key id>.<base64(nonce ‖ ciphertext)>`. The row's table, column and id
are the associated data, so a sealed value copied into another row or column does not open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "pd1"


class SealError(Exception):
    """A sealed value cannot be opened: unknown key, wrong row, or altered bytes."""


@dataclass
class Sealer:
    """Seals and opens personal data with the current key; opens with any key it still holds."""

    keys: dict[str, bytes]
    current: str
    index_key: bytes
    _aead: dict[str, AESGCM] = field(default_factory=dict, repr=False)
    # When set, the key file this sealer follows: a rotation saved by another process (a new current
    # key, a retired old one) is picked up at the next use, so a running service needs no restart.
    source: Path | None = field(default=None, repr=False, compare=False)
    _stamp: tuple[int, int, int] | None = field(default=None, repr=False, compare=False)

    def _follow(self) -> None:
        """Reload the keys when the followed file changed (a stat per use; cheap next to AES-GCM)."""
        if self.source is None:
            return
        try:
            info = os.stat(self.source)
        except FileNotFoundError:
            return  # keep the keys held; the file is being replaced (os.replace is atomic anyway)
        stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
        if stamp == self._stamp:
            return
        fresh = Sealer.loads(self.source.read_text(encoding="ascii"))
        if fresh.index_key != self.index_key:
            raise SealError(f"{self.source}: the blind-index key changed; it must never change")
        self.keys = fresh.keys  # the new set first (it holds the new current key), then the current key
        self.current = fresh.current
        self._aead = {}
        self._stamp = stamp

    @classmethod
    def generate(cls) -> Sealer:
        kid = secrets.token_hex(4)
        return cls({kid: AESGCM.generate_key(bit_length=256)}, kid, secrets.token_bytes(32))

    def _cipher(self, kid: str) -> AESGCM:
        if kid not in self.keys:
            raise SealError(f"sealed with key {kid!r}, which this deployment does not hold")
        if kid not in self._aead:
            self._aead[kid] = AESGCM(self.keys[kid])
        return self._aead[kid]

    def seal(self, value: str | None, *, where: str) -> str | None:
        """Seal `value` for the place `where` (`table.column:row id`); None stays None."""
        if value is None:
            return None
        self._follow()
        nonce = os.urandom(12)
        data = self._cipher(self.current).encrypt(nonce, value.encode("utf-8"), where.encode("utf-8"))
        return f"{PREFIX}.{self.current}.{base64.b64encode(nonce + data).decode('ascii')}"

    def open(self, sealed: str | None, *, where: str) -> str | None:
        """Open a value sealed for `where`. Raises SealError if it was altered or moved."""
        if sealed is None:
            return None
        self._follow()
        try:
            prefix, kid, body = sealed.split(".", 2)
            raw = base64.b64decode(body, validate=True)
        except ValueError as exc:
            raise SealError(f"{where}: not a sealed value") from exc
        if prefix != PREFIX or len(raw) < 28:
            raise SealError(f"{where}: not a sealed value")
        try:
            return self._cipher(kid).decrypt(raw[:12], raw[12:], where.encode("utf-8")).decode("utf-8")
        except InvalidTag as exc:
            raise SealError(f"{where}: sealed value was altered or belongs to another row") from exc

    def key_of(self, sealed: str) -> str:
        """The id of the key that sealed `sealed`."""
        return sealed.split(".", 2)[1]

    def blind_index(self, value: str, *, purpose: str) -> str:
        """A keyed digest of a normalised value (case, width and spaces folded) for equality lookups;
        without the index key it cannot be reversed by guessing ID numbers."""
        norm = "".join(unicodedata.normalize("NFKC", value).split()).upper()
        return hmac.new(self.index_key, f"{purpose}\n{norm}".encode(), hashlib.sha256).hexdigest()

    def rotated(self) -> Sealer:
        """A sealer with a new current key that still opens values sealed with the old ones."""
        kid = secrets.token_hex(4)
        while kid in self.keys:
            kid = secrets.token_hex(4)
        return Sealer({**self.keys, kid: AESGCM.generate_key(bit_length=256)}, kid, self.index_key)

    def without(self, retired: set[str]) -> Sealer:
        """The same sealer without the retired keys (never the current one)."""
        if self.current in retired:
            raise SealError("the current key cannot be retired")
        return Sealer({k: v for k, v in self.keys.items() if k not in retired}, self.current, self.index_key)

    # --- key file -------------------------------------------------------------------------------

    def dumps(self) -> str:
        return json.dumps(
            {
                "current": self.current,
                "keys": {k: base64.b64encode(v).decode() for k, v in self.keys.items()},
                "index_key": base64.b64encode(self.index_key).decode(),
            },
            indent=2,
            sort_keys=True,
        )

    @classmethod
    def loads(cls, text: str) -> Sealer:
        try:
            data = json.loads(text)
            keys = {str(k): base64.b64decode(v, validate=True) for k, v in data["keys"].items()}
            sealer = cls(keys, str(data["current"]), base64.b64decode(data["index_key"], validate=True))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise SealError(f"personal-data key file is not valid: {exc}") from exc
        if sealer.current not in keys or any(len(k) != 32 for k in keys.values()) or len(sealer.index_key) != 32:
            raise SealError("personal-data key file is not valid: keys must be 32 bytes and hold the current key")
        return sealer


def load_or_create(path: Path) -> Sealer:
    """The sealer kept in `path` (mode 0600), made on first use."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return Sealer.loads(path.read_text(encoding="ascii"))
    sealer = Sealer.generate()
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(sealer.dumps() + "\n")
    return sealer


def follow(path: Path) -> Sealer:
    """The sealer of `path` (made on first use) that keeps following the file: what a long-running
    service uses, so `timebank keys rotate-personal-data` takes effect without a restart."""
    sealer = load_or_create(path)
    sealer.source = path
    sealer._follow()
    return sealer


def save(path: Path, sealer: Sealer) -> None:
    """Replace the key file atomically (write a 0600 sibling, then rename)."""
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a leftover sibling keeps its old mode otherwise
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(sealer.dumps() + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
