"""C2SP signed notes and tlog checkpoints: signing, opening, and strict parsing."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import CheckpointError
from ledger.note import Checkpoint, Signer, Verifier, parse_checkpoint

ORIGIN = "ledger.example.org/volunteer-hours"
ROOT = hashlib.sha256(b"a root").digest()
ROOT_B64 = base64.b64encode(ROOT).decode()
DASH = "\u2014"


def make_signer(origin: str = ORIGIN, seed: int = 1) -> Signer:
    return Signer.from_seed(origin, bytes([seed]) * 32)


def make_checkpoint(size: int = 5, origin: str = ORIGIN) -> Checkpoint:
    return Checkpoint(origin, size, ROOT)


def signature_line(note: bytes) -> bytes:
    """The signature block (after the blank line) of a note with one signature."""
    return note[note.rindex(b"\n\n") + 2 :]


def raw_signed_note(text: bytes, origin: str = ORIGIN, seed: int = 1) -> bytes:
    """A note signed without going through Signer.sign, so that it can hold anything."""
    signer = make_signer(origin, seed)
    signature = signer.verifier.key_id + Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32).sign(text)
    return text + f"\n{DASH} {origin} {base64.b64encode(signature).decode()}\n".encode()


# --- round trips --------------------------------------------------------------------------------


def test_a_signed_note_opens_to_its_text() -> None:
    signer = make_signer()
    text = b"any text\nover two lines\n"
    assert signer.verifier.open(signer.sign(text)) == text


def test_a_signed_checkpoint_opens_to_the_same_checkpoint() -> None:
    signer = make_signer()
    note = signer.sign_checkpoint(make_checkpoint())
    assert signer.verifier.open_checkpoint(note) == make_checkpoint()


def test_a_signed_checkpoint_has_the_c2sp_layout() -> None:
    note = make_signer().sign_checkpoint(make_checkpoint(5)).decode("utf-8")
    body, signatures = note.split("\n\n")
    assert body == f"{ORIGIN}\n5\n{ROOT_B64}"
    prefix, name, signature = signatures.rstrip("\n").split(" ")
    assert (prefix, name) == (DASH, ORIGIN)
    raw = base64.b64decode(signature, validate=True)
    assert len(raw) == 4 + 64
    assert raw[:4] == make_signer().verifier.key_id


def test_a_checkpoint_body_round_trips_through_the_parser() -> None:
    for size in [0, 1, 5, 2**63 - 1]:
        assert parse_checkpoint(make_checkpoint(size).body()) == make_checkpoint(size)


def test_the_key_id_is_the_c2sp_one() -> None:
    signer = make_signer()
    public = signer.verifier.public_key
    assert signer.verifier.key_id == hashlib.sha256(ORIGIN.encode() + b"\n\x01" + public).digest()[:4]


def test_a_verifier_key_parses_back_to_the_same_key() -> None:
    signer = make_signer()
    verifier = Verifier.from_vkey(signer.vkey)
    assert verifier.vkey == signer.vkey
    assert (verifier.name, verifier.key_id, verifier.public_key) == (
        ORIGIN, signer.verifier.key_id, signer.verifier.public_key
    )
    assert verifier.open(signer.sign(b"text\n")) == b"text\n"


def test_a_signer_key_parses_back_to_the_same_key() -> None:
    signer = make_signer()
    again = Signer.from_skey(signer.skey)
    assert again.skey == signer.skey
    assert again.vkey == signer.vkey
    # Ed25519 is deterministic: the same key signs the same bytes.
    assert again.sign(b"text\n") == signer.sign(b"text\n")


# Standard base64 uses '+', so about half of all keys have one in their base64 part. Names cannot
# hold '+', so golang.org/x/mod/sumdb/note splits off only the first fields (strings.Cut) and
# accepts these keys; the external verifier is given such a vkey for half of all deployments.


def test_a_verifier_key_whose_base64_holds_a_plus_parses() -> None:
    signer = make_signer(seed=8)
    assert "+" in signer.vkey.split("+", 2)[2]  # the case under test
    verifier = Verifier.from_vkey(signer.vkey)
    assert verifier.vkey == signer.vkey
    assert verifier.open(signer.sign(b"text\n")) == b"text\n"


def test_a_signer_key_whose_base64_holds_a_plus_parses() -> None:
    signer = make_signer(seed=0xFB)
    assert "+" in signer.skey.split("+", 4)[4]  # the case under test
    assert Signer.from_skey(signer.skey).vkey == signer.vkey


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_every_key_round_trips_through_its_textual_forms(seed: bytes) -> None:
    signer = Signer.from_seed(ORIGIN, seed)
    assert Verifier.from_vkey(signer.vkey).vkey == signer.vkey
    assert Signer.from_skey(signer.skey).skey == signer.skey


def test_a_signer_key_has_the_note_textual_form() -> None:
    signer = make_signer()
    assert signer.skey == (
        f"PRIVATE+KEY+{ORIGIN}+{signer.verifier.key_id.hex()}+"
        + base64.b64encode(b"\x01" + bytes([1]) * 32).decode()
    )


# --- verifier and signer keys that are wrong -----------------------------------------------------


def test_a_verifier_key_with_a_wrong_key_id_is_refused() -> None:
    name, key_id, key = make_signer().vkey.split("+")
    wrong = f"{int(key_id, 16) ^ 1:08x}"
    with pytest.raises(CheckpointError, match="does not match"):
        Verifier.from_vkey(f"{name}+{wrong}+{key}")


@pytest.mark.parametrize(
    "vkey",
    [
        "",
        "just-a-name",
        f"{ORIGIN}+00000000",
        f"{ORIGIN}+00000000+AAAA+extra",
        f"{ORIGIN}+00000000+not base64",
        f"{ORIGIN}+00000000+" + base64.b64encode(b"\x02" + bytes(32)).decode(),  # not Ed25519
        f"{ORIGIN}+00000000+" + base64.b64encode(b"\x01" + bytes(31)).decode(),  # short key
        "https://a.example+00000000+" + base64.b64encode(b"\x01" + bytes(32)).decode(),
    ],
)
def test_a_malformed_verifier_key_is_refused(vkey: str) -> None:
    with pytest.raises(CheckpointError):
        Verifier.from_vkey(vkey)


def test_a_signer_key_with_a_wrong_key_id_is_refused() -> None:
    parts = make_signer().skey.split("+")
    parts[3] = f"{int(parts[3], 16) ^ 1:08x}"
    with pytest.raises(CheckpointError, match="does not match"):
        Signer.from_skey("+".join(parts))


@pytest.mark.parametrize(
    "skey",
    [
        "",
        "garbage",
        make_signer().vkey,  # a verifier key is not a signer key
        make_signer().skey.replace("PRIVATE+KEY+", "PUBLIC+KEY+"),
        make_signer().skey[:-4],
        make_signer().skey.rsplit("+", 1)[0] + "+" + base64.b64encode(b"\x01" + bytes(31)).decode(),
    ],
)
def test_a_malformed_signer_key_is_refused(skey: str) -> None:
    with pytest.raises(CheckpointError):
        Signer.from_skey(skey)


def test_a_signer_refuses_to_sign_another_logs_checkpoint() -> None:
    with pytest.raises(CheckpointError, match="cannot sign"):
        make_signer().sign_checkpoint(make_checkpoint(origin="other.example.org/log"))


@pytest.mark.parametrize("text", [b"", b"no newline", b"blank\n\nline\n", b"ends in a blank line\n\n"])
def test_a_signer_refuses_text_that_cannot_be_a_note(text: bytes) -> None:
    with pytest.raises(CheckpointError):
        make_signer().sign(text)


# --- parse_checkpoint is strict -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(f"{ORIGIN}\n05\n{ROOT_B64}\n", "leading zeros", id="leading zero"),
        pytest.param(f"{ORIGIN}\n00\n{ROOT_B64}\n", "leading zeros", id="double zero"),
        pytest.param(f"{ORIGIN}\n-5\n{ROOT_B64}\n", "decimal", id="negative size"),
        pytest.param(f"{ORIGIN}\n+5\n{ROOT_B64}\n", "decimal", id="plus sign"),
        pytest.param(f"{ORIGIN}\n5 \n{ROOT_B64}\n", "decimal", id="trailing space"),
        pytest.param(f"{ORIGIN}\n0x5\n{ROOT_B64}\n", "decimal", id="hex size"),
        pytest.param(f"{ORIGIN}\n\n{ROOT_B64}\n", "decimal", id="empty size"),
        pytest.param(f"{ORIGIN}\n5\n{ROOT_B64}\nextension line\n", "three lines", id="extension line"),
        pytest.param(f"{ORIGIN}\n5\n{ROOT_B64}\n\n", "three lines", id="trailing blank line"),
        pytest.param(f"{ORIGIN}\r\n5\r\n{ROOT_B64}\r\n", "origin", id="CRLF"),
        pytest.param(f"{ORIGIN}\n5\r\n{ROOT_B64}\n", "decimal", id="CR after size"),
        pytest.param(f"{ORIGIN}\n5\n{ROOT_B64}", "three lines", id="no trailing newline"),
        pytest.param(f"{ORIGIN}\n5\n", "three lines", id="no root line"),
        pytest.param("", "three lines", id="empty"),
        pytest.param(f"{ORIGIN}\n5\nnot base64!\n", "base64", id="bad base64"),
        pytest.param(f"{ORIGIN}\n5\n{ROOT_B64.rstrip('=')}\n", "base64", id="unpadded base64"),
        pytest.param(f"{ORIGIN}\n5\n{base64.urlsafe_b64encode(bytes([251]) * 32).decode()}\n", "base64",
                     id="url-safe base64"),
        pytest.param(f"{ORIGIN}\n5\n{ROOT_B64[:-2]}B=\n", "canonical", id="nonzero padding bits"),
        pytest.param(f"{ORIGIN}\n5\n{base64.b64encode(bytes(31)).decode()}\n", "32 bytes", id="31-byte root"),
        pytest.param(f"{ORIGIN}\n5\n{base64.b64encode(bytes(33)).decode()}\n", "32 bytes", id="33-byte root"),
        pytest.param(f"{ORIGIN}\n5\n\n", "32 bytes", id="empty root"),
        pytest.param(f"ledger.example.org/volunteer hours\n5\n{ROOT_B64}\n", "spaces", id="space in origin"),
        pytest.param(f"ledger.example.org/a+b\n5\n{ROOT_B64}\n", r"'\+'", id="plus in origin"),
        pytest.param(f"https://ledger.example.org/a\n5\n{ROOT_B64}\n", "scheme", id="scheme in origin"),
        pytest.param(f"\n5\n{ROOT_B64}\n", "origin", id="empty origin"),
        pytest.param(f"ledger.example.org/助\n5\n{ROOT_B64}\n", "ASCII", id="non-ASCII origin"),
        pytest.param(f"ledger.example.org/a\tb\n5\n{ROOT_B64}\n", "origin", id="tab in origin"),
    ],
)
def test_a_malformed_checkpoint_body_is_rejected_with_a_message(body: str, message: str) -> None:
    with pytest.raises(CheckpointError, match=message) as caught:
        parse_checkpoint(body.encode("utf-8"))
    assert str(caught.value)


def test_a_signed_checkpoint_with_an_extension_line_is_rejected() -> None:
    signer = make_signer()
    note = signer.sign(make_checkpoint().body() + b"extension\n")
    assert signer.verifier.open(note)  # a valid note ...
    with pytest.raises(CheckpointError, match="three lines"):
        signer.verifier.open_checkpoint(note)  # ... but not a checkpoint this ledger accepts


def test_a_checkpoint_of_another_origin_is_rejected_even_when_signed_by_the_key() -> None:
    signer = make_signer()
    note = signer.sign(make_checkpoint(origin="other.example.org/log").body())
    with pytest.raises(CheckpointError, match="origin"):
        signer.verifier.open_checkpoint(note)


# --- opening notes ------------------------------------------------------------------------------


def test_a_note_signed_by_another_key_is_rejected() -> None:
    note = make_signer(seed=2).sign_checkpoint(make_checkpoint())
    with pytest.raises(CheckpointError, match="no signature by"):
        make_signer(seed=1).verifier.open(note)


def test_a_note_signed_by_the_same_key_under_another_name_is_rejected() -> None:
    note = make_signer("other.example.org/log").sign(make_checkpoint().body())
    with pytest.raises(CheckpointError, match="no signature by"):
        make_signer().verifier.open(note)


@pytest.mark.parametrize(("old", "new"), [(b"\n5\n", b"\n6\n"), (ROOT_B64[:4].encode(), b"AAAA")])
def test_a_note_with_tampered_text_is_rejected(old: bytes, new: bytes) -> None:
    signer = make_signer()
    note = signer.sign_checkpoint(make_checkpoint())
    tampered = note.replace(old, new, 1)
    assert tampered != note
    with pytest.raises(CheckpointError, match="does not verify"):
        signer.verifier.open(tampered)


@pytest.mark.parametrize("byte", [4, 5, 30, 67])
def test_a_note_with_a_tampered_signature_is_rejected(byte: int) -> None:
    signer = make_signer()
    note = signer.sign_checkpoint(make_checkpoint())
    text, _, rest = note.rpartition(b" ")
    raw = bytearray(base64.b64decode(rest.rstrip(b"\n")))
    raw[byte] ^= 0x01
    with pytest.raises(CheckpointError, match="does not verify"):
        signer.verifier.open(text + b" " + base64.b64encode(bytes(raw)) + b"\n")


def test_a_note_whose_key_id_was_tampered_is_rejected() -> None:
    signer = make_signer()
    note = signer.sign_checkpoint(make_checkpoint())
    text, _, rest = note.rpartition(b" ")
    raw = bytearray(base64.b64decode(rest.rstrip(b"\n")))
    raw[0] ^= 0x01
    with pytest.raises(CheckpointError, match="no signature by"):
        signer.verifier.open(text + b" " + base64.b64encode(bytes(raw)) + b"\n")


def test_every_truncation_of_a_note_is_rejected() -> None:
    signer = make_signer()
    note = signer.sign_checkpoint(make_checkpoint())
    for cut in range(len(note)):
        with pytest.raises(CheckpointError):
            signer.verifier.open(note[:cut])


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda note: note.replace(b"\n", b"\r\n"), id="CRLF"),
        pytest.param(lambda note: note.replace(b"\n\n", b"\n"), id="no blank line"),
        pytest.param(lambda note: note.replace("\u2014".encode(), b"-"), id="hyphen for em dash"),
        pytest.param(lambda note: note.replace(f"{DASH} ".encode(), f"{DASH}  ".encode()), id="double space"),
        pytest.param(lambda note: note[:-2] + b"!\n", id="bad base64"),
        pytest.param(lambda note: note + b"\n", id="trailing blank line"),
        pytest.param(lambda note: note + b"trailing garbage\n", id="garbage line"),
        pytest.param(lambda note: note.replace(b"\n\n", b"\n\xff\n\n"), id="not UTF-8"),
    ],
)
def test_a_malformed_note_is_rejected(mangle: Callable[[bytes], bytes]) -> None:
    signer = make_signer()
    with pytest.raises(CheckpointError):
        signer.verifier.open(mangle(signer.sign_checkpoint(make_checkpoint())))


def test_signatures_from_unknown_keys_alongside_a_good_one_are_ignored() -> None:
    # C2SP signed-note: "Verifiers MUST ignore signatures from unknown keys, even if they share a
    # name or ID (but not both) with a known key."
    signer = make_signer()
    text = make_checkpoint().body()
    good = signature_line(signer.sign(text))
    other_key = signature_line(make_signer(seed=2).sign(text))  # same name, other key ID
    other_name = signature_line(make_signer("witness.example.com/w1", seed=3).sign(text))
    same_id = f"{DASH} witness.example.com/w2 ".encode() + base64.b64encode(
        signer.verifier.key_id + bytes(64)
    ) + b"\n"  # the known key's ID under another name, with a signature that verifies for nothing
    for block in [
        other_key + good,
        good + other_key,
        other_name + good + other_key,
        same_id + good,
        good + same_id,
    ]:
        assert signer.verifier.open(text + b"\n" + block) == text
        assert signer.verifier.open_checkpoint(text + b"\n" + block) == make_checkpoint()


def test_a_note_with_only_unknown_signatures_is_rejected() -> None:
    signer = make_signer()
    text = make_checkpoint().body()
    block = signature_line(make_signer(seed=2).sign(text))
    block += signature_line(make_signer("witness.example.com/w1", seed=3).sign(text))
    with pytest.raises(CheckpointError, match="no signature by"):
        signer.verifier.open(text + b"\n" + block)


def test_a_bad_signature_by_the_known_key_rejects_the_note_despite_a_good_one() -> None:
    signer = make_signer()
    text = make_checkpoint().body()
    good = signature_line(signer.sign(text))
    forged = f"{DASH} {ORIGIN} ".encode() + base64.b64encode(signer.verifier.key_id + bytes(64)) + b"\n"
    for block in [forged + good, good + forged]:
        with pytest.raises(CheckpointError, match="does not verify"):
            signer.verifier.open(text + b"\n" + block)


# C2SP signed-note, "Format": "Signed notes MUST be valid UTF-8 and MUST NOT contain any ASCII control
# characters (those below U+0020) other than newline." golang.org/x/mod/sumdb/note (the external
# verifier's code) enforces this in both Sign and Open.


@pytest.mark.parametrize("control", [b"\t", b"\r"])
def test_signing_a_text_with_a_control_character_is_refused(control: bytes) -> None:
    with pytest.raises(CheckpointError):
        make_signer().sign(b"some" + control + b"text\n")


@pytest.mark.parametrize("control", [b"\t", b"\r"])
def test_a_note_with_a_control_character_in_its_text_is_rejected(control: bytes) -> None:
    note = raw_signed_note(b"some" + control + b"text\n")
    with pytest.raises(CheckpointError):
        make_signer().verifier.open(note)


def test_a_checkpoint_note_with_a_control_character_in_a_foreign_signature_line_is_rejected() -> None:
    signer = make_signer()
    text = make_checkpoint().body()
    foreign = f"{DASH} witness.example.com/w1\t ".encode() + base64.b64encode(bytes(68)) + b"\n"
    with pytest.raises(CheckpointError):
        signer.verifier.open_checkpoint(text + b"\n" + signature_line(signer.sign(text)) + foreign)
