"""C2SP signed notes with Ed25519, and C2SP tlog-checkpoint bodies.

Signer and verifier keys use the textual forms of golang.org/x/mod/sumdb/note:
`PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 ‖ seed)>` and `<name>+<hex key ID>+<base64(0x01 ‖ public key)>`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from .errors import CheckpointError
from .merkle import HASH_SIZE

ALG_ED25519 = 0x01
SIGNATURE_DASH = "\u2014"  # the em dash that starts every signature line
_ORIGIN = re.compile(r"[!-~]+")  # printable ASCII, no spaces
_SIZE = re.compile(r"0|[1-9][0-9]*")


def b64(data: bytes) -> str:
    """Standard, padded base64 (RFC 4648 §4)."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: str, what: str = "value", *, secret: bool = False) -> bytes:
    """Strict standard base64; CheckpointError when `text` is not (quoting it unless `secret`)."""
    shown = "" if secret else f": {text!r}"
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise CheckpointError(f"{what} is not standard padded base64{shown}") from None if secret else exc
    if b64(data) != text:
        raise CheckpointError(f"{what} is not canonical base64{shown}")
    return data


def _check_note_text(text: str) -> None:
    """C2SP signed-note: no ASCII control characters other than newline."""
    if any((ord(c) < 0x20 and c != "\n") or ord(c) == 0x7F for c in text):
        raise CheckpointError("a note may hold no control characters other than newline")


def check_origin(origin: str) -> str:
    """Return `origin` if it can name a log and a key: printable ASCII, no spaces, no '+'."""
    if not _ORIGIN.fullmatch(origin) or "+" in origin:
        raise CheckpointError(
            f"origin {origin!r} must be a schema-less URL of printable ASCII without spaces or '+'"
        )
    if "://" in origin:
        raise CheckpointError(f"origin {origin!r} must not carry a scheme such as https://")
    return origin


def key_id(name: str, public_key: bytes) -> bytes:
    """First 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: origin, size and root hash."""

    origin: str
    size: int
    root: bytes

    def body(self) -> bytes:
        """The three checkpoint lines that are signed."""
        return f"{self.origin}\n{self.size}\n{b64(self.root)}\n".encode()


def parse_checkpoint(body: bytes) -> Checkpoint:
    """Parse a checkpoint body strictly (no extension lines); CheckpointError if malformed."""
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError as exc:
        raise CheckpointError("checkpoint body is not ASCII") from exc
    lines = text.split("\n")
    if len(lines) != 4 or lines[3] != "":
        raise CheckpointError("checkpoint body must be exactly three lines, each ending in LF")
    origin, size, root = lines[:3]
    check_origin(origin)
    if not _SIZE.fullmatch(size):
        raise CheckpointError(f"tree size {size!r} is not a decimal without leading zeros")
    root_hash = unb64(root, "root hash")
    if len(root_hash) != HASH_SIZE:
        raise CheckpointError(f"root hash must be {HASH_SIZE} bytes, got {len(root_hash)}")
    return Checkpoint(origin, int(size), root_hash)


def split_note(note: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """Split a signed note into its text and its signature lines (key name, decoded signature).
    Raises CheckpointError when it is not a well-formed signed note."""
    try:
        message = note.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CheckpointError("signed note is not UTF-8") from exc
    _check_note_text(message)
    split = message.rfind("\n\n")
    if split < 0 or not message.endswith("\n"):
        raise CheckpointError("signed note has no blank line before its signatures")
    signatures = []
    for line in message[split + 2 : -1].split("\n"):
        prefix, _, rest = line.partition(" ")
        name, _, sig_b64 = rest.partition(" ")
        if prefix != SIGNATURE_DASH or not name or not sig_b64 or " " in sig_b64:
            raise CheckpointError(f"malformed signature line {line!r}")
        signatures.append((name, unb64(sig_b64, "signature")))
    return message[: split + 1].encode(), signatures


class Verifier:
    """Checks signed notes made by one Ed25519 key."""

    def __init__(self, name: str, public_key: bytes) -> None:
        self.name = check_origin(name)
        if len(public_key) != 32:
            raise CheckpointError("an Ed25519 public key is 32 bytes")
        self.public_key = public_key
        self.key_id = key_id(name, public_key)
        self._key = Ed25519PublicKey.from_public_bytes(public_key)

    @classmethod
    def from_vkey(cls, vkey: str) -> Verifier:
        """Parse `<name>+<hex key ID>+<base64(0x01 ‖ public key)>`."""
        parts = vkey.strip().split("+", 2)  # the name has no '+'; base64 may
        if len(parts) != 3:
            raise CheckpointError("a verifier key is <name>+<8 hex digits>+<base64 key>")
        name, hex_id, key_b64 = parts
        key = unb64(key_b64, "verifier key")
        if len(key) != 33 or key[0] != ALG_ED25519:
            raise CheckpointError("verifier key must be 0x01 followed by a 32-byte Ed25519 key")
        verifier = cls(name, key[1:])
        if hex_id != verifier.key_id.hex():
            raise CheckpointError(f"verifier key ID {hex_id} does not match its key ({verifier.key_id.hex()})")
        return verifier

    @property
    def vkey(self) -> str:
        """The published verifier key string."""
        return f"{self.name}+{self.key_id.hex()}+{b64(bytes([ALG_ED25519]) + self.public_key)}"

    def trusts(self, vkey: str) -> bool:
        """Whether `vkey` is this key."""
        return vkey == self.vkey

    def open(self, note: bytes) -> bytes:
        """Return the note's text if one of its signatures is this key's and verifies.

        Signatures by other keys are ignored, as C2SP signed-note says. Raises CheckpointError.
        """
        text, signatures = split_note(note)
        found = False
        for name, sig in signatures:
            if self.checks(name, sig, text):
                found = True
        if not found:
            raise CheckpointError(f"note carries no signature by {self.name} ({self.key_id.hex()})")
        return text

    def checks(self, name: str, sig: bytes, text: bytes) -> bool:
        """Whether the signature line (`name`, `sig`) is this key's; CheckpointError if it is but
        does not verify over `text`."""
        if len(sig) < 5 or name != self.name or sig[:4] != self.key_id:
            return False
        try:
            self._key.verify(sig[4:], text)
        except InvalidSignature as exc:
            raise CheckpointError(f"signature by {name} ({self.key_id.hex()}) does not verify") from exc
        return True

    def open_checkpoint(self, note: bytes) -> Checkpoint:
        """Verify and parse a signed checkpoint whose origin must be this key's name."""
        checkpoint = parse_checkpoint(self.open(note))
        if checkpoint.origin != self.name:
            raise CheckpointError(f"checkpoint origin {checkpoint.origin!r} is not {self.name!r}")
        return checkpoint


class Signer:
    """Signs notes with one Ed25519 key, named by the log's origin."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey, cosigners: Sequence[Signer] = ()) -> None:
        self._key = private_key
        self.verifier = Verifier(name, _raw_public(private_key.public_key()))
        self.name = self.verifier.name
        self.cosigners = tuple(cosigners)
        for other in self.cosigners:
            if other.name != self.name or other.cosigners or other.vkey == self.vkey:
                raise CheckpointError("a cosigner is another single key of the same name")

    def cosigned_by(self, other: Signer) -> Signer:
        """This key, whose notes `other` (the incoming key of a rotation) signs as well."""
        return Signer(self.name, self._key, (*self.cosigners, other))

    def alone(self) -> Signer:
        """This key without its cosigners."""
        return self if not self.cosigners else Signer(self.name, self._key)

    def led_by(self, vkey: str) -> Signer:
        """This signer if its own key is `vkey`; else the cosigner that is (a rotation finished
        since this signer was loaded: the incoming key now signs alone). CheckpointError if none is."""
        if self.vkey == vkey:
            return self
        for other in self.cosigners:
            if other.vkey == vkey:
                return other
        raise CheckpointError(f"the signing key {self.verifier.key_id.hex()} is not the log's key {vkey}")

    @property
    def verifiers(self) -> list[Verifier]:
        """Its own key and its cosigners' keys."""
        return [self.verifier, *(other.verifier for other in self.cosigners)]

    @classmethod
    def generate(cls, name: str) -> Signer:
        """A signer with a fresh random key."""
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Signer:
        """A signer from a 32-byte Ed25519 seed."""
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def from_skey(cls, skey: str) -> Signer:
        """Parse `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 ‖ seed)>`."""
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise CheckpointError("a signer key is PRIVATE+KEY+<name>+<8 hex digits>+<base64 seed>")
        _, _, name, hex_id, seed_b64 = parts
        seed = unb64(seed_b64, "signer key", secret=True)
        if len(seed) != 33 or seed[0] != ALG_ED25519:
            raise CheckpointError("signer key must be 0x01 followed by a 32-byte Ed25519 seed")
        signer = cls.from_seed(name, seed[1:])
        if hex_id != signer.verifier.key_id.hex():
            raise CheckpointError("signer key ID does not match its key")
        return signer

    @property
    def skey(self) -> str:
        """The private key in note's textual form. Secret: never log or serve it."""
        seed = self._key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{b64(bytes([ALG_ED25519]) + seed)}"

    @property
    def vkey(self) -> str:
        """The published verifier key string."""
        return self.verifier.vkey

    def sign(self, text: bytes) -> bytes:
        """A signed note of `text`, which must be UTF-8 ending in one LF with no blank line."""
        if not text.endswith(b"\n") or b"\n\n" in text:
            raise CheckpointError("note text must end in a newline and hold no blank line")
        try:
            _check_note_text(text.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise CheckpointError("note text must be UTF-8") from exc
        lines = [f"{SIGNATURE_DASH} {self.name} {b64(signer.verifier.key_id + signer._key.sign(text))}\n"
                 for signer in (self, *self.cosigners)]
        return text + b"\n" + "".join(lines).encode()

    def sign_checkpoint(self, checkpoint: Checkpoint) -> bytes:
        """The signed note of a checkpoint of this signer's log."""
        if checkpoint.origin != self.name:
            raise CheckpointError(f"cannot sign a checkpoint of {checkpoint.origin!r} with {self.name!r}'s key")
        return self.sign(checkpoint.body())


class CheckpointVerifier(Protocol):
    """What checks a log's checkpoints: one key (Verifier) or a log's keys (KeySet)."""

    @property
    def name(self) -> str: ...

    def open_checkpoint(self, note: bytes) -> Checkpoint: ...

    def trusts(self, vkey: str) -> bool: ...


class KeySet:
    """The keys a log's checkpoints may be signed with, each trusted up to a tree size or without
    bound: a checkpoint opens if a key trusted for its size signed it. A retired key is bounded by
    the size at which it was retired, so whoever steals it cannot sign the log's future."""

    def __init__(self, keys: Iterable[tuple[Verifier, int | None]]) -> None:
        self.keys = {verifier.key_id: (verifier, bound) for verifier, bound in keys}
        names = {verifier.name for verifier, _ in self.keys.values()}
        if len(names) != 1:
            raise CheckpointError(f"a key set holds the keys of one name, not {sorted(names)}")
        self._name = names.pop()

    @property
    def name(self) -> str:
        """The name shared by every key (the log's origin)."""
        return self._name

    def bound(self, vkey: str) -> int | None:
        """The largest size `vkey` is trusted for (None: no bound). KeyError if it is not in the set."""
        for verifier, bound in self.keys.values():
            if verifier.vkey == vkey:
                return bound
        raise KeyError(vkey)

    def trusts(self, vkey: str) -> bool:
        """Whether `vkey` is one of the keys."""
        return any(verifier.vkey == vkey for verifier, _ in self.keys.values())

    def open_checkpoint(self, note: bytes) -> Checkpoint:
        """Verify and parse a signed checkpoint of this name: some key trusted for its size must
        have signed it, and every signature by a key of the set must verify. Raises CheckpointError."""
        text, signatures = split_note(note)
        checkpoint = parse_checkpoint(text)
        if checkpoint.origin != self.name:
            raise CheckpointError(f"checkpoint origin {checkpoint.origin!r} is not {self.name!r}")
        accepted, beyond = False, []
        for name, sig in signatures:
            verifier, bound = self.keys.get(sig[:4], (None, None))
            if verifier is None or not verifier.checks(name, sig, text):
                continue
            if bound is None or checkpoint.size <= bound:
                accepted = True
            else:
                beyond.append(f"{verifier.key_id.hex()} (retired at size {bound})")
        if accepted:
            return checkpoint
        if beyond:
            raise CheckpointError(
                f"checkpoint of size {checkpoint.size} is signed only by retired key {', '.join(beyond)}"
            )
        ids = ", ".join(sorted(key.hex() for key in self.keys))
        raise CheckpointError(f"note carries no signature by {self.name} with a trusted key ({ids})")
