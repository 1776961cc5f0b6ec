"""Sealing personal data: bound to its place, tamper-evident, keys that rotate, a blind index and
the key file."""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from timebank import sealing
from timebank.sealing import Sealer, SealError

WHERE = "volunteer.name_sealed:vol_abc"


def test_a_sealed_value_opens_back_to_the_same_text() -> None:
    sealer = Sealer.generate()
    for text in ("张志愿", "", "320703199001011234", "a\nb", "😀" * 100):
        sealed = sealer.seal(text, where=WHERE)
        assert sealed is not None and sealed.startswith(f"pd1.{sealer.current}.")
        assert text == "" or text not in sealed
        assert sealer.open(sealed, where=WHERE) == text
    assert sealer.seal(None, where=WHERE) is None and sealer.open(None, where=WHERE) is None


def test_sealing_the_same_text_twice_gives_different_values() -> None:
    sealer = Sealer.generate()
    assert sealer.seal("张三", where=WHERE) != sealer.seal("张三", where=WHERE)


@pytest.mark.parametrize("elsewhere", ["volunteer.name_sealed:vol_xyz", "volunteer.phone_sealed:vol_abc",
                                       "elder.name_sealed:vol_abc", ""])
def test_a_value_moved_to_another_row_or_column_does_not_open(elsewhere: str) -> None:
    sealer = Sealer.generate()
    sealed = sealer.seal("张志愿", where=WHERE)
    with pytest.raises(SealError, match="another row"):
        sealer.open(sealed, where=elsewhere)


def test_a_flipped_byte_anywhere_in_the_sealed_body_fails() -> None:
    sealer = Sealer.generate()
    sealed = sealer.seal("张志愿", where=WHERE)
    assert sealed is not None
    prefix, kid, body = sealed.split(".")
    raw = base64.b64decode(body)
    for position in (0, 11, 12, len(raw) - 1):  # nonce, ciphertext, tag
        flipped = bytearray(raw)
        flipped[position] ^= 0x01
        with pytest.raises(SealError):
            sealer.open(f"{prefix}.{kid}.{base64.b64encode(bytes(flipped)).decode()}", where=WHERE)


@pytest.mark.parametrize("garbage", ["", "张三", "pd1.abc", "pd2.{kid}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                     "pd1.{kid}.not base64!", "pd1.{kid}.AAAA"])
def test_something_that_is_not_a_sealed_value_fails_to_open(garbage: str) -> None:
    sealer = Sealer.generate()
    with pytest.raises(SealError):
        sealer.open(garbage.format(kid=sealer.current), where=WHERE)


def test_a_value_sealed_with_a_key_this_deployment_does_not_hold_fails() -> None:
    sealed = Sealer.generate().seal("张志愿", where=WHERE)
    with pytest.raises(SealError, match="does not hold"):
        Sealer.generate().open(sealed, where=WHERE)


def test_rotation_keeps_old_values_readable_and_seals_new_ones_with_the_new_key() -> None:
    old = Sealer.generate()
    before = old.seal("旧值", where=WHERE)
    assert before is not None
    new = old.rotated()
    assert new.current != old.current and set(new.keys) == {old.current, new.current}
    assert new.index_key == old.index_key
    assert new.open(before, where=WHERE) == "旧值"
    after = new.seal("新值", where=WHERE)
    assert after is not None and new.key_of(after) == new.current and new.key_of(before) == old.current
    with pytest.raises(SealError):
        old.open(after, where=WHERE)
    retired = new.without({old.current})
    assert retired.open(after, where=WHERE) == "新值"
    with pytest.raises(SealError, match="does not hold"):
        retired.open(before, where=WHERE)
    with pytest.raises(SealError, match="current key"):
        new.without({new.current})


def test_the_blind_index_folds_case_width_and_spaces() -> None:
    sealer = Sealer.generate()
    number = "32070319451203001X"
    same = [number.lower(), f" {number} ", "320703 19451203 001x", "３２０７０３１９４５１２０３００１Ｘ"]
    index = sealer.blind_index(number, purpose="volunteer-id")
    assert len(index) == 64 and number not in index
    assert all(sealer.blind_index(v, purpose="volunteer-id") == index for v in same)
    assert sealer.blind_index("32070319451203001Y", purpose="volunteer-id") != index


def test_the_blind_index_differs_per_purpose_and_per_index_key() -> None:
    sealer = Sealer.generate()
    number = "32070319451203001X"
    assert sealer.blind_index(number, purpose="volunteer-id") != sealer.blind_index(number, purpose="elder-id")
    assert sealer.rotated().blind_index(number, purpose="elder-id") == sealer.blind_index(number, purpose="elder-id")
    assert Sealer.generate().blind_index(number, purpose="elder-id") != sealer.blind_index(number, purpose="elder-id")


# -- the key file ---------------------------------------------------------------------------------


def test_the_key_file_is_created_private_and_loads_back(tmp_path: Path) -> None:
    path = tmp_path / "personal-data.keys"
    made = sealing.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = sealing.load_or_create(path)
    assert (loaded.keys, loaded.current, loaded.index_key) == (made.keys, made.current, made.index_key)
    assert loaded.open(made.seal("张三", where=WHERE), where=WHERE) == "张三"


def test_a_rotated_sealer_saved_and_loaded_keeps_every_key(tmp_path: Path) -> None:
    path = tmp_path / "personal-data.keys"
    first = sealing.load_or_create(path)
    rotated = first.rotated()
    sealing.save(path, rotated)
    loaded = Sealer.loads(path.read_text())
    assert (loaded.keys, loaded.current, loaded.index_key) == (rotated.keys, rotated.current, rotated.index_key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not path.with_name(path.name + ".new").exists()


def _with(text: str, **changes: object) -> str:
    data = json.loads(text)
    data.update(changes)
    return json.dumps(data)


@pytest.mark.parametrize("corrupt", [
    lambda good: "",
    lambda good: "not json",
    lambda good: good[: len(good) // 2],
    lambda good: "[]",
    lambda good: _with(good, current="nokey"),
    lambda good: _with(good, keys={}),
    lambda good: _with(good, index_key=base64.b64encode(b"short").decode()),
    lambda good: _with(good, keys={"k": base64.b64encode(b"x" * 16).decode()}, current="k"),
    lambda good: _with(good, keys={"k": "!!!"}, current="k"),
    lambda good: _with(good, keys=["k"]),
], ids=["empty", "not-json", "truncated", "a-list", "no-current-key", "no-keys", "short-index-key", "short-key",
        "bad-base64", "keys-a-list"])
def test_a_corrupt_key_file_is_a_seal_error(tmp_path: Path, corrupt: Callable[[str], str]) -> None:
    path = tmp_path / "personal-data.keys"
    good = Sealer.generate().dumps()
    path.write_text(corrupt(good))
    with pytest.raises(SealError, match="not valid"):
        sealing.load_or_create(path)


def test_saving_replaces_the_key_file_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "personal-data.keys"
    old = sealing.load_or_create(path)
    before = path.read_bytes()

    def crash(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(sealing.os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        sealing.save(path, old.rotated())
    assert path.read_bytes() == before  # the old file, whole, until the new one is complete
    monkeypatch.undo()
    rotated = old.rotated()
    sealing.save(path, rotated)  # a leftover sibling from the crash does not get in the way
    assert Sealer.loads(path.read_text()).current == rotated.current
    assert sorted(p.name for p in tmp_path.iterdir()) == ["personal-data.keys"]


def test_saving_over_a_leftover_sibling_still_makes_a_private_key_file(tmp_path: Path) -> None:
    path = tmp_path / "personal-data.keys"
    sibling = path.with_name(path.name + ".new")
    sibling.write_text("left over")
    os.chmod(sibling, 0o644)
    sealing.save(path, Sealer.generate())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
