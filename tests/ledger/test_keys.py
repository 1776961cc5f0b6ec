"""Signing key files: created private, never overwritten, and refused when open, foreign or broken."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from ledger.errors import KeyFileError
from ledger.keys import Keyring, create_key, key_path, load_key
from ledger.note import Signer

ORIGIN = "ledger.example.org/volunteer-hours"
OTHER_ORIGIN = "ledger.example.org/meals"


def make_signer(origin: str = ORIGIN, seed: int = 1) -> Signer:
    """A fixed key whose textual forms hold no '+' (seed 0xFB's signer key does)."""
    return Signer.from_seed(origin, bytes([seed]) * 32)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def write_key_file(path: Path, content: str | bytes, mode: int = 0o600) -> Path:
    if isinstance(content, str):
        content = content.encode("ascii")
    path.write_bytes(content)
    path.chmod(mode)
    return path


def test_a_new_key_file_is_private_to_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "volunteer-hours.key"
    create_key(path, ORIGIN)
    assert mode_of(path) == 0o600


def test_a_new_key_file_holds_the_signer_key_of_its_origin(tmp_path: Path) -> None:
    path = tmp_path / "volunteer-hours.key"
    signer = create_key(path, ORIGIN)
    assert signer.name == ORIGIN
    assert path.read_text(encoding="ascii") == signer.skey + "\n"


def test_a_new_key_files_missing_directory_is_created_private(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "volunteer-hours.key"
    create_key(path, ORIGIN)
    assert mode_of(path.parent) == 0o700
    assert mode_of(path) == 0o600


def test_each_new_key_is_a_fresh_one(tmp_path: Path) -> None:
    first = create_key(tmp_path / "a.key", ORIGIN)
    second = create_key(tmp_path / "b.key", ORIGIN)
    assert first.vkey != second.vkey


def test_creating_a_key_refuses_to_overwrite_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "volunteer-hours.key"
    create_key(path, ORIGIN)
    before = path.read_bytes()
    with pytest.raises(KeyFileError, match="already exists"):
        create_key(path, ORIGIN)
    assert path.read_bytes() == before


def test_creating_a_key_refuses_to_overwrite_any_file(tmp_path: Path) -> None:
    path = write_key_file(tmp_path / "volunteer-hours.key", "not a key\n")
    with pytest.raises(KeyFileError, match="already exists"):
        create_key(path, ORIGIN)
    assert path.read_bytes() == b"not a key\n"


def test_a_key_file_loads_as_its_signer(tmp_path: Path) -> None:
    signer = make_signer()
    path = write_key_file(tmp_path / "volunteer-hours.key", signer.skey + "\n")
    loaded = load_key(path, ORIGIN)
    assert loaded.vkey == signer.vkey
    assert loaded.skey == signer.skey
    assert loaded.sign(b"text\n") == signer.sign(b"text\n")


def test_a_key_file_whose_base64_holds_a_plus_loads(tmp_path: Path) -> None:
    # About half of all keys have a '+' in their base64 seed; create_key writes such files.
    signer = make_signer(seed=0xFB)
    assert "+" in signer.skey.split("+", 4)[4]  # the case under test
    path = write_key_file(tmp_path / "volunteer-hours.key", signer.skey + "\n")
    assert load_key(path, ORIGIN).vkey == signer.vkey


def test_every_freshly_created_key_loads_back_as_the_same_signer(tmp_path: Path) -> None:
    # Random keys: 16 of them all but certainly include some whose base64 holds a '+'.
    for n in range(16):
        path = tmp_path / f"log-{n}.key"
        created = create_key(path, ORIGIN)
        loaded = load_key(path, ORIGIN)
        assert loaded.skey == created.skey, f"key {n} did not load back"
        assert loaded.sign(b"text\n") == created.sign(b"text\n")


def test_a_key_file_readable_only_by_its_owner_loads(tmp_path: Path) -> None:
    signer = make_signer()
    path = write_key_file(tmp_path / "k.key", signer.skey + "\n", mode=0o400)
    assert load_key(path, ORIGIN).vkey == signer.vkey


def test_a_key_file_without_a_trailing_newline_loads(tmp_path: Path) -> None:
    signer = make_signer()
    path = write_key_file(tmp_path / "k.key", signer.skey)
    assert load_key(path, ORIGIN).vkey == signer.vkey


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o620, 0o602, 0o610, 0o601, 0o666])
def test_a_key_file_open_to_others_is_refused_with_the_chmod_that_fixes_it(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "volunteer-hours.key"
    create_key(path, ORIGIN)
    path.chmod(mode)
    with pytest.raises(KeyFileError, match="chmod 600") as caught:
        load_key(path, ORIGIN)
    assert str(path) in str(caught.value)


def test_a_key_file_for_another_origin_is_refused(tmp_path: Path) -> None:
    path = write_key_file(tmp_path / "volunteer-hours.key", make_signer(OTHER_ORIGIN).skey + "\n")
    with pytest.raises(KeyFileError, match="not 'ledger.example.org/volunteer-hours'"):
        load_key(path, ORIGIN)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"garbage\n", id="garbage"),
        pytest.param(b"\xff\xfe\x00binary", id="binary"),
        pytest.param("PRIVATE+KEY+ledger.example.org/volunteer-hours+\u00e9\n".encode(), id="non-ASCII"),
        pytest.param(make_signer().vkey.encode() + b"\n", id="a verifier key"),
        pytest.param(make_signer().skey[:-8].encode() + b"\n", id="truncated"),
        pytest.param(b"PRIVATE+KEY+ledger.example.org/volunteer-hours+00000000+"
                     + make_signer().skey.rsplit("+", 1)[1].encode() + b"\n", id="wrong key ID"),
    ],
)
def test_a_key_file_that_is_not_a_signer_key_is_refused(tmp_path: Path, content: bytes) -> None:
    path = write_key_file(tmp_path / "volunteer-hours.key", content)
    with pytest.raises(KeyFileError, match="not a signer key"):
        load_key(path, ORIGIN)


def test_a_missing_key_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="missing"):
        load_key(tmp_path / "nowhere.key", ORIGIN)


@pytest.mark.parametrize(
    ("origin", "mangle", "mode"),
    [
        pytest.param(OTHER_ORIGIN, lambda skey: skey, 0o600, id="another origin"),
        pytest.param(ORIGIN, lambda skey: skey, 0o644, id="open to others"),
        pytest.param(ORIGIN, lambda skey: skey[:-1], 0o600, id="last character lost"),
        pytest.param(ORIGIN, lambda skey: skey + "!", 0o600, id="a stray character"),
        pytest.param(ORIGIN, lambda skey: skey.replace("KEY+", "KEY++"), 0o600, id="extra field"),
    ],
)
def test_a_key_file_error_never_shows_the_private_key(
    tmp_path: Path, origin: str, mangle: Callable[[str], str], mode: int
) -> None:
    # Spec §1: the private key never appears in a log line; these messages are logged at start-up.
    signer = make_signer(origin)
    secret = signer.skey.rsplit("+", 1)[1][1:-4]  # most of the base64 seed: enough to recover it
    path = write_key_file(tmp_path / "volunteer-hours.key", mangle(signer.skey) + "\n", mode)
    with pytest.raises(KeyFileError) as caught:
        load_key(path, ORIGIN)
    assert secret not in str(caught.value)


def test_key_files_are_named_after_the_log(tmp_path: Path) -> None:
    assert key_path(tmp_path, "volunteer-hours") == tmp_path / "volunteer-hours.key"


def test_a_keyring_creates_a_missing_key(tmp_path: Path) -> None:
    created = Keyring(tmp_path).load_or_create("volunteer-hours", ORIGIN)
    path = key_path(tmp_path, "volunteer-hours")
    assert mode_of(path) == 0o600
    assert path.read_text(encoding="ascii") == created.skey + "\n"


def test_a_keyring_loads_an_existing_key_rather_than_replace_it(tmp_path: Path) -> None:
    signer = make_signer()
    write_key_file(key_path(tmp_path, "volunteer-hours"), signer.skey + "\n")
    assert Keyring(tmp_path).load_or_create("volunteer-hours", ORIGIN).vkey == signer.vkey
    assert Keyring(tmp_path).signer("volunteer-hours", ORIGIN).vkey == signer.vkey


def test_a_keyring_refuses_a_missing_key_for_an_existing_log(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="missing"):
        Keyring(tmp_path).signer("volunteer-hours", ORIGIN)
    assert not key_path(tmp_path, "volunteer-hours").exists()


def test_a_keyring_refuses_a_key_of_another_origin(tmp_path: Path) -> None:
    write_key_file(key_path(tmp_path, "volunteer-hours"), make_signer(OTHER_ORIGIN).skey + "\n")
    with pytest.raises(KeyFileError, match="is for"):
        Keyring(tmp_path).load_or_create("volunteer-hours", ORIGIN)
    with pytest.raises(KeyFileError, match="is for"):
        Keyring(tmp_path).signer("volunteer-hours", ORIGIN)


def test_key_files_are_created_with_0600_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        create_key(tmp_path / "k.key", ORIGIN)
    finally:
        os.umask(previous)
    assert mode_of(tmp_path / "k.key") == 0o600
