"""The export file's framing: a gzip member of JSON lines, hashed byte for byte, then a signed trailer.

An export is two gzip members, so `zcat FILE` shows every line. The first holds the header line and
one line per row; the second holds a single trailer line, `{"sha256": ..., "signature": ...}`: the
SHA-256 of the first member's exact bytes (the compressed bytes, gzip header included, so no byte
of it can change unseen) and a C2SP signed note by the export key over that digest. The trailer
member is written by hand (one stored deflate block, every header field fixed), and a reader
rebuilds it from the trailer line and compares, so none of its bytes can change unseen either.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import hmac
import json
import struct
import zlib
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

import sqlalchemy as sa

from ledger.errors import CheckpointError
from ledger.keys import create_key, load_key
from ledger.note import Signer, Verifier

from .errors import DomainError

FORMAT = "timebank-export"
VERSION = 1
KEY_FILE = "_export.key"  # in the key folder; no log id starts with "_", so no log's key can be named so
KEY_NAME = "timebank-export"
CHUNK = 1 << 16
MAX_LINE = 64 << 20  # a row line longer than this is not one we wrote
_MEMBER_HEAD = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # gzip, deflate, no flags, mtime 0, OS unknown


class BackupError(DomainError):
    """An export cannot be written or loaded; the message says why and what to do."""

    code = "backup_refused"


class ExportDamaged(BackupError):
    """The export is not byte for byte what the export key signed: altered, cut short or damaged."""

    code = "export_damaged"

    def __init__(self, detail: str) -> None:
        super().__init__(f"the export was altered or damaged: {detail}")


# -- the export key -------------------------------------------------------------------------------


def key_path(key_dir: Path) -> Path:
    """Where a deployment keeps its export key."""
    return key_dir / KEY_FILE


def export_signer(key_dir: Path) -> Signer:
    """The deployment's export key, made (mode 0600) on first use. Raises KeyFileError."""
    path = key_path(key_dir)
    return load_key(path, KEY_NAME) if path.exists() else create_key(path, KEY_NAME)


def export_verifier(key_dir: Path) -> Verifier | None:
    """The export key's verifier from the key folder, or None when the folder has no export key.
    Raises KeyFileError for a key file that is there but unusable."""
    path = key_path(key_dir)
    return load_key(path, KEY_NAME).verifier if path.exists() else None


def parse_vkey(vkey: str) -> Verifier:
    """An export verifier key as `timebank export` prints it. Raises BackupError."""
    try:
        verifier = Verifier.from_vkey(vkey)
    except CheckpointError as exc:
        raise BackupError(f"not a verifier key: {exc}") from exc
    if verifier.name != KEY_NAME:
        raise BackupError(f"the key is named {verifier.name!r}; an export key is named {KEY_NAME!r}")
    return verifier


def _signed_text(digest: str) -> bytes:
    return f"{FORMAT} v{VERSION}\nsha256 {digest}\n".encode()


# -- values ---------------------------------------------------------------------------------------


def kind_of(column: sa.Column[Any]) -> str:
    """How a column's values are written: str, int, bool, bytes, datetime, date or json."""
    kind = column.type.impl if isinstance(column.type, sa.TypeDecorator) else column.type
    for base, name in ((sa.DateTime, "datetime"), (sa.Date, "date"), (sa.Boolean, "bool"), (sa.Integer, "int"),
                       (sa.LargeBinary, "bytes"), (sa.JSON, "json"), (sa.String, "str")):
        if isinstance(kind, base):
            return name
    raise NotImplementedError(f"column {column.table.name}.{column.name}: no export form for {kind!r}")


def encode(kind: str, value: Any) -> Any:
    """A column value as JSON: bytes in base64, times in ISO 8601 UTC with microseconds."""
    if value is None or kind in ("str", "int", "bool", "json"):
        return value
    if kind == "bytes":
        return base64.b64encode(value).decode("ascii")
    if kind == "datetime":
        return value.astimezone(timezone.utc).isoformat(timespec="microseconds")
    return value.isoformat()  # date


_PLAIN = {"str": str, "int": int, "bool": bool}


def decode(kind: str, value: Any) -> Any:
    """A column value back from its JSON form; ValueError when it is not of that form."""
    if value is None or kind == "json":
        return value
    plain = _PLAIN.get(kind)
    if plain is not None:
        if type(value) is not plain:
            raise ValueError(f"{value!r} is not a {kind}")
        return value
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a {kind} in text form")
    if kind == "bytes":
        try:
            return base64.b64decode(value.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError) as exc:
            raise ValueError(f"{value[:40]!r} is not base64") from exc
    if kind == "datetime":
        at = datetime.fromisoformat(value)
        if at.tzinfo is None:
            raise ValueError(f"{value!r} has no time zone")
        return at
    return date.fromisoformat(value)


def line(obj: Any) -> bytes:
    """One JSON line, as every line of an export is written."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


# -- writing --------------------------------------------------------------------------------------


class _Hashing:
    """A write-only stream that hashes and counts what passes through it to `out`."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        self.out.write(data)
        return len(data)

    def flush(self) -> None:
        self.out.flush()


class Writer:
    """Writes an export to `out`: `write` the lines, then `close(signer)` adds the signed trailer."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._hashing = _Hashing(out)
        self._body = gzip.GzipFile(fileobj=self._hashing, mode="wb", mtime=0, compresslevel=6)  # type: ignore[arg-type]

    def write(self, obj: Any) -> None:
        self._body.write(line(obj))

    def close(self, signer: Signer) -> tuple[str, int]:
        """Finish the body, sign its digest, write the trailer; return (digest hex, bytes written)."""
        self._body.close()
        digest = self._hashing.sha.hexdigest()
        trailer = stored_member(line({"sha256": digest, "signature": signer.sign(_signed_text(digest)).decode()}))
        self._out.write(trailer)
        self._out.flush()
        return digest, self._hashing.size + len(trailer)


def stored_member(data: bytes) -> bytes:
    """A gzip member holding `data` in one stored (uncompressed) deflate block: every byte fixed."""
    if len(data) > 0xFFFF:
        raise ValueError("a stored member holds at most 65535 bytes")
    block = b"\x01" + struct.pack("<HH", len(data), len(data) ^ 0xFFFF)  # final block, stored, LEN, NLEN
    return _MEMBER_HEAD + block + data + struct.pack("<II", zlib.crc32(data), len(data))


# -- reading --------------------------------------------------------------------------------------


class Reader:
    """Reads an export from `source`: `lines()` yields the body's lines while hashing its bytes;
    `finish(verifier)` then checks the trailer. Raises ExportDamaged."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self._sha = hashlib.sha256()
        self._inflate = zlib.decompressobj(wbits=31)
        self._chunk = b""  # the raw bytes being decompressed, hashed once all are used
        self._rest = b""
        self.size = 0

    def _inflated(self) -> Iterator[bytes]:
        """The body's bytes, decompressed a bounded piece at a time. All state lives on `self`, so
        a second call goes on where an abandoned first one stopped."""
        while not self._inflate.eof:
            data = self._inflate.unconsumed_tail
            if not data:
                data = self._chunk = self._source.read(CHUNK)
                if not data:
                    raise ExportDamaged("it ends early (cut short, or not an export at all)")
                self.size += len(data)
            try:
                out = self._inflate.decompress(data, CHUNK * 16)
            except zlib.error as exc:
                raise ExportDamaged(f"its compressed data does not decode ({exc})") from exc
            if self._inflate.eof:  # the body ends inside this chunk: hash it up to there
                self._rest = self._inflate.unused_data
                self._sha.update(self._chunk[: len(self._chunk) - len(self._rest)])
            elif not self._inflate.unconsumed_tail:
                self._sha.update(self._chunk)
            yield out

    def lines(self) -> Iterator[bytes]:
        """Every line of the body, without its newline."""
        partial = b""
        for piece in self._inflated():
            partial += piece
            *complete, partial = partial.split(b"\n")
            yield from complete
            if len(partial) > MAX_LINE:
                raise ExportDamaged("it holds a line longer than any export writes")
        if partial:
            raise ExportDamaged("its last row line is cut short")

    def drain(self) -> None:
        """Read (and hash) the rest of the body without looking at it."""
        for _ in self._inflated():
            pass

    def finish(self, verifier: Verifier) -> str:
        """After the body: check that the trailer is intact, its digest is the body's and its
        signature is by `verifier`'s key; return the digest. Raises ExportDamaged."""
        self.drain()
        rest = self._rest + self._source.read(CHUNK)
        self.size += len(rest) - len(self._rest)
        if len(rest) < 15 + 8 or rest[:10] != _MEMBER_HEAD:
            raise ExportDamaged("its trailer is missing or damaged (was the file cut short?)")
        data = rest[15 : 15 + struct.unpack("<H", rest[11:13])[0]]
        if rest != stored_member(data):
            raise ExportDamaged("its trailer is damaged, or something follows it")
        try:
            trailer = json.loads(data)
            digest, note = trailer["sha256"], trailer["signature"]
            if line(trailer) != data or set(trailer) != {"sha256", "signature"}:
                raise ValueError("trailer is not in its written form")
        except (ValueError, KeyError, TypeError) as exc:
            raise ExportDamaged(f"its trailer is damaged ({exc})") from exc
        if not hmac.compare_digest(str(digest).encode(), self._sha.hexdigest().encode()):
            raise ExportDamaged("its contents do not match their SHA-256 in the trailer")
        try:
            signed = verifier.open(str(note).encode())
        except CheckpointError as exc:
            raise ExportDamaged(f"its signature does not verify under the trusted export key {verifier.vkey} "
                                f"({exc})") from exc
        if not hmac.compare_digest(signed, _signed_text(self._sha.hexdigest())):
            raise ExportDamaged("its signature is for other contents")
        return self._sha.hexdigest()
