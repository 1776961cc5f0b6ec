"""Known-answer tests: the ledger spec's §6 example log and the RFC 6962 reference tree."""

from __future__ import annotations

import base64
from collections.abc import Sequence

import naive
import pytest

from ledger import canonical, merkle
from ledger.errors import ProofError
from ledger.merkle import Coord, Frontier
from ledger.note import Checkpoint, Signer, Verifier

ORIGIN = "ledger.example.org/volunteer-hours"
SEED = bytes.fromhex("00f8d4b5e48754c133f071ce32645ea7a85b5d487217c97930b588da9aed2641")
VKEY = "ledger.example.org/volunteer-hours+49027ea8+AdVChjjyF4YlXLEInYB7offfV/OgGE1e7UMxNzbnEILi"

RECORDS = [
    {"v": 1, "seq": 0, "date": "2024-05-01", "volunteer": "vol-001", "service": "助餐", "minutes": 60},
    {"v": 1, "seq": 1, "date": "2024-05-01", "volunteer": "vol-002", "service": "探访", "minutes": 45},
    {"v": 1, "seq": 2, "date": "2024-05-02", "volunteer": "vol-001", "service": "助洁", "minutes": 90},
    {"v": 1, "seq": 3, "date": "2024-05-03", "volunteer": "vol-003", "service": "助浴", "minutes": 30},
    {"v": 1, "seq": 4, "date": "2024-05-03", "volunteer": "vol-002", "service": "助餐", "minutes": 60},
]
LEAVES = [
    '{"date":"2024-05-01","minutes":60,"seq":0,"service":"助餐","v":1,"volunteer":"vol-001"}',
    '{"date":"2024-05-01","minutes":45,"seq":1,"service":"探访","v":1,"volunteer":"vol-002"}',
    '{"date":"2024-05-02","minutes":90,"seq":2,"service":"助洁","v":1,"volunteer":"vol-001"}',
    '{"date":"2024-05-03","minutes":30,"seq":3,"service":"助浴","v":1,"volunteer":"vol-003"}',
    '{"date":"2024-05-03","minutes":60,"seq":4,"service":"助餐","v":1,"volunteer":"vol-002"}',
]
ROOTS = [
    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    "RSvovyoL1EhSIITGDl52KrD2g8vIVJQKSNbC+q17ir4=",
    "eVyi4cpXwSZpcfc+zqgYsw/ZZ1TopCH6a69SoLtTx9c=",
    "k+QXUDLtQmjeeH8qYstdudkSIxt7lrywbJRIZMK5DYk=",
    "i1yBbLDc5RUeFHT+er4c+L1WOUi1e9CiO2LQB4IMOSQ=",
    "Jf2js5qgaCgg6QlnEaO87HfN3zIKbGizHH4BX6QtFK0=",
]
CHECKPOINT_5 = (
    "ledger.example.org/volunteer-hours\n"
    "5\n"
    "Jf2js5qgaCgg6QlnEaO87HfN3zIKbGizHH4BX6QtFK0=\n"
    "\n"
    "\u2014 ledger.example.org/volunteer-hours "
    "SQJ+qGkKAh/jC5qdPnu69OSrEbPqlNSRUXjZNau0mrcZCIea7oTHVFRDP2f54QMyiYkA7Gy/jP4hA6OGTFTZLBtIhAo=\n"
).encode("utf-8")
INCLUSION_2_OF_5 = [
    "Op0GXX+LSKtggCzDZ0W0zle1AxlJzJNfo8F1X1BxziY=",
    "eVyi4cpXwSZpcfc+zqgYsw/ZZ1TopCH6a69SoLtTx9c=",
    "sOzIUwBPdjj/R4dgDULjQIyOMFcQcFwtPp0yOHQ4RMM=",
]
CONSISTENCY_3_TO_5 = [
    "yvgP6yoXhfnVRWHvaLVGeH+migmTwfAtghKVKq8A5bE=",
    "Op0GXX+LSKtggCzDZ0W0zle1AxlJzJNfo8F1X1BxziY=",
    "eVyi4cpXwSZpcfc+zqgYsw/ZZ1TopCH6a69SoLtTx9c=",
    "sOzIUwBPdjj/R4dgDULjQIyOMFcQcFwtPp0yOHQ4RMM=",
]

# The RFC 6962 reference tree: the inputs of the Certificate Transparency test suite, whose
# published roots and proofs (certificate-transparency / trillian `log_verifier_test.go`) follow.
RFC6962_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"
    ]
]
RFC6962_ROOT_8 = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
RFC6962_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    RFC6962_ROOT_8,
]
RFC6962_INCLUSION = [  # (index, size, audit path)
    (0, 8, [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]),
    (5, 8, [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ]),
    (0, 1, []),
]
RFC6962_CONSISTENCY = [  # (old size, new size, proof)
    (1, 8, [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]),
    (6, 8, [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]),
    (2, 5, [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ]),
    (1, 1, []),
    (0, 8, []),
]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64s(hashes: Sequence[bytes]) -> list[str]:
    return [b64(h) for h in hashes]


def hexes(hashes: Sequence[bytes]) -> list[str]:
    return [h.hex() for h in hashes]


def grow_log(leaves: Sequence[bytes]) -> tuple[dict[Coord, bytes], list[bytes]]:
    """Append `leaves` through a Frontier: the stored hashes, and the frontier's root after each size."""
    frontier = Frontier()
    store: dict[Coord, bytes] = {}
    roots = [frontier.root()]
    for leaf in leaves:
        store.update(frontier.push(merkle.leaf_hash(leaf)))
        roots.append(frontier.root())
    return store, roots


def dict_reader(store: dict[Coord, bytes]) -> merkle.HashReader:
    """A HashReader over an in-memory store."""
    return lambda coords: [store[coord] for coord in coords]


def example_leaves() -> list[bytes]:
    return [canonical.encode(record) for record in RECORDS]


def example_signer() -> Signer:
    return Signer.from_seed(ORIGIN, SEED)


# --- the spec's §6 example log ---------------------------------------------------------------


def test_the_example_seed_gives_the_published_verifier_key() -> None:
    assert example_signer().vkey == VKEY


def test_the_published_verifier_key_parses_back_to_the_same_key() -> None:
    verifier = Verifier.from_vkey(VKEY)
    assert verifier.name == ORIGIN
    assert verifier.key_id.hex() == "49027ea8"
    assert verifier.public_key == example_signer().verifier.public_key


@pytest.mark.parametrize("seq", range(5))
def test_each_example_record_encodes_to_the_exact_published_leaf(seq: int) -> None:
    assert canonical.encode(RECORDS[seq]) == LEAVES[seq].encode("utf-8")


@pytest.mark.parametrize("seq", range(5))
def test_each_published_leaf_decodes_as_canonical(seq: int) -> None:
    assert canonical.decode(LEAVES[seq].encode("utf-8")) == RECORDS[seq]


def test_the_frontier_gives_the_published_root_at_every_size() -> None:
    _, roots = grow_log(example_leaves())
    assert b64s(roots) == ROOTS


def test_tree_root_over_stored_hashes_gives_the_published_root_at_every_size() -> None:
    store, _ = grow_log(example_leaves())
    read = dict_reader(store)
    assert [b64(merkle.tree_root(size, read)) for size in range(6)] == ROOTS


def test_the_naive_tree_gives_the_published_root_at_every_size() -> None:
    leaves = example_leaves()
    assert [b64(naive.mth(leaves[:size])) for size in range(6)] == ROOTS


def test_the_checkpoint_at_size_5_is_signed_byte_for_byte() -> None:
    root = base64.b64decode(ROOTS[5])
    assert example_signer().sign_checkpoint(Checkpoint(ORIGIN, 5, root)) == CHECKPOINT_5


def test_the_published_checkpoint_opens_with_the_published_verifier_key() -> None:
    checkpoint = Verifier.from_vkey(VKEY).open_checkpoint(CHECKPOINT_5)
    assert checkpoint == Checkpoint(ORIGIN, 5, base64.b64decode(ROOTS[5]))


def test_the_inclusion_proof_of_index_2_in_size_5_is_the_published_one() -> None:
    store, _ = grow_log(example_leaves())
    assert b64s(merkle.inclusion_proof(2, 5, dict_reader(store))) == INCLUSION_2_OF_5
    assert b64s(naive.path(2, example_leaves())) == INCLUSION_2_OF_5


def test_the_published_inclusion_proof_verifies() -> None:
    proof = [base64.b64decode(h) for h in INCLUSION_2_OF_5]
    leaf = merkle.leaf_hash(LEAVES[2].encode("utf-8"))
    merkle.verify_inclusion(2, 5, leaf, proof, base64.b64decode(ROOTS[5]))


def test_the_consistency_proof_from_3_to_5_is_the_published_one() -> None:
    store, _ = grow_log(example_leaves())
    assert b64s(merkle.consistency_proof(3, 5, dict_reader(store))) == CONSISTENCY_3_TO_5
    assert b64s(naive.proof(3, example_leaves())) == CONSISTENCY_3_TO_5


def test_the_published_consistency_proof_verifies() -> None:
    proof = [base64.b64decode(h) for h in CONSISTENCY_3_TO_5]
    merkle.verify_consistency(3, 5, base64.b64decode(ROOTS[3]), base64.b64decode(ROOTS[5]), proof)


# --- the RFC 6962 reference tree --------------------------------------------------------------


def test_the_rfc6962_reference_tree_has_the_published_root_at_size_8() -> None:
    store, roots = grow_log(RFC6962_LEAVES)
    assert roots[8].hex() == RFC6962_ROOT_8
    assert merkle.tree_root(8, dict_reader(store)).hex() == RFC6962_ROOT_8
    assert naive.mth(RFC6962_LEAVES).hex() == RFC6962_ROOT_8


@pytest.mark.parametrize("size", range(9))
def test_the_rfc6962_reference_roots_agree_with_the_naive_tree_at_every_size(size: int) -> None:
    store, roots = grow_log(RFC6962_LEAVES)
    expected = naive.mth(RFC6962_LEAVES[:size])
    assert roots[size] == expected
    assert merkle.tree_root(size, dict_reader(store)) == expected
    assert expected.hex() == RFC6962_ROOTS[size]


@pytest.mark.parametrize(("index", "size", "expected"), RFC6962_INCLUSION)
def test_the_rfc6962_reference_inclusion_proofs_are_built_and_verified(
    index: int, size: int, expected: list[str]
) -> None:
    store, _ = grow_log(RFC6962_LEAVES)
    proof = merkle.inclusion_proof(index, size, dict_reader(store))
    assert hexes(proof) == expected
    assert hexes(naive.path(index, RFC6962_LEAVES[:size])) == expected
    leaf = merkle.leaf_hash(RFC6962_LEAVES[index])
    merkle.verify_inclusion(index, size, leaf, proof, bytes.fromhex(RFC6962_ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "expected"), RFC6962_CONSISTENCY)
def test_the_rfc6962_reference_consistency_proofs_are_built_and_verified(
    old: int, new: int, expected: list[str]
) -> None:
    store, _ = grow_log(RFC6962_LEAVES)
    proof = merkle.consistency_proof(old, new, dict_reader(store))
    assert hexes(proof) == expected
    assert hexes(naive.proof(old, RFC6962_LEAVES[:new])) == expected
    merkle.verify_consistency(
        old, new, bytes.fromhex(RFC6962_ROOTS[old]), bytes.fromhex(RFC6962_ROOTS[new]), proof
    )


@pytest.mark.parametrize(("index", "size", "expected"), RFC6962_INCLUSION[:4])
def test_the_rfc6962_reference_inclusion_proofs_fail_at_a_neighbouring_index_or_other_size(
    index: int, size: int, expected: list[str]
) -> None:
    # The same mutations as the CT verifier's own test (log_verifier_test.go, verifierCheck).
    proof = [bytes.fromhex(h) for h in expected]
    leaf = merkle.leaf_hash(RFC6962_LEAVES[index])
    root = bytes.fromhex(RFC6962_ROOTS[size])
    for wrong_index, wrong_size in [
        (index - 1, size), (index + 1, size), (index ^ 2, size), (index, size * 2), (index, size // 2)
    ]:
        with pytest.raises(ProofError):
            merkle.verify_inclusion(wrong_index, wrong_size, leaf, proof, root)


@pytest.mark.parametrize(("old", "new", "expected"), RFC6962_CONSISTENCY[:3])
def test_the_rfc6962_reference_consistency_proofs_fail_at_other_sizes(
    old: int, new: int, expected: list[str]
) -> None:
    proof = [bytes.fromhex(h) for h in expected]
    old_root = bytes.fromhex(RFC6962_ROOTS[old])
    new_root = bytes.fromhex(RFC6962_ROOTS[new])
    for wrong_old, wrong_new in [
        (old - 1, new), (old + 1, new), (old ^ 2, new), (old, new * 2), (old, new // 2)
    ]:
        with pytest.raises(ProofError):
            merkle.verify_consistency(wrong_old, wrong_new, old_root, new_root, proof)
    with pytest.raises(ProofError):
        merkle.verify_consistency(old, new, new_root, old_root, proof)
