"""Property tests of ledger.merkle against the naive RFC 6962 tree in `naive`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import naive
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ledger import merkle
from ledger.errors import ProofError
from ledger.merkle import Coord, Frontier

# Distinct leaves, so that a proof shown for one position or size is never also true of another.
LEAVES = st.lists(st.binary(max_size=12), min_size=1, max_size=70, unique=True)
HASHES = st.binary(min_size=32, max_size=32)
SETTINGS = settings(max_examples=150, deadline=None)


@dataclass
class Log:
    """A tree grown leaf by leaf through `Frontier.push`, its hashes kept in a dict by Coord."""

    leaves: list[bytes]
    store: dict[Coord, bytes] = field(default_factory=dict)
    created: list[Coord] = field(default_factory=list)
    created_by_size: list[int] = field(default_factory=list)
    frontier_roots: list[bytes] = field(default_factory=list)


def grow(leaves: Sequence[bytes]) -> Log:
    log = Log(list(leaves))
    frontier = Frontier()
    log.frontier_roots.append(frontier.root())
    log.created_by_size.append(0)
    for leaf in leaves:
        for coord, h in frontier.push(merkle.leaf_hash(leaf)):
            assert coord not in log.store, f"{coord} was created twice"
            log.store[coord] = h
            log.created.append(coord)
        log.frontier_roots.append(frontier.root())
        log.created_by_size.append(len(log.created))
    return log


def reader(store: dict[Coord, bytes], calls: list[list[Coord]] | None = None) -> merkle.HashReader:
    """A HashReader over `store` that records each request in `calls`."""

    def read(coords: Sequence[Coord]) -> list[bytes]:
        if calls is not None:
            calls.append(list(coords))
        return [store[coord] for coord in coords]

    return read


def must_not_read(coords: Sequence[Coord]) -> list[bytes]:
    raise AssertionError(f"bad arguments must be refused before reading {list(coords)}")


def root(log: Log, size: int) -> bytes:
    return merkle.tree_root(size, reader(log.store))


def flip(h: bytes, bit: int) -> bytes:
    """`h` with one bit flipped."""
    out = bytearray(h)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def ceil_log2(n: int) -> int:
    return (n - 1).bit_length() if n > 1 else 0


def read_bound(n: int) -> int:
    """Most stored hashes one inclusion or consistency proof in a tree of n leaves may read.

    Every hash of a proof is one stored hash, except at most one: the piece [lo + k, n) of the
    tree's right edge cut off where the path first turns left (below that turn every range is a
    complete subtree). That piece, no longer than k, is tiled by at most log2(k) complete subtrees,
    and log2(k) more levels lie under the turn. With L = ⌈log2 n⌉ this gives 2·L − 1 for n ≥ 2,
    0 for n = 1; `test_every_proof_of_a_small_tree_reads_within_the_bound` shows it is reached
    (a consistency proof from 3 to 7 reads 5 hashes, for instance).
    """
    return max(0, 2 * ceil_log2(n) - 1)


def draw_inclusion(data: st.DataObject, n: int) -> tuple[int, int]:
    size = data.draw(st.integers(1, n), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    return index, size


def draw_consistency(data: st.DataObject, n: int, at_least: int = 0) -> tuple[int, int]:
    new = data.draw(st.integers(at_least, n), label="new size")
    old = data.draw(st.integers(at_least, new), label="old size")
    return old, new


def inclusion_case(leaves: list[bytes], data: st.DataObject) -> tuple[Log, int, int, list[bytes]]:
    log = grow(leaves)
    index, size = draw_inclusion(data, len(leaves))
    return log, index, size, merkle.inclusion_proof(index, size, reader(log.store))


def consistency_case(leaves: list[bytes], data: st.DataObject) -> tuple[Log, int, int, list[bytes]]:
    log = grow(leaves)
    old, new = draw_consistency(data, len(leaves))
    return log, old, new, merkle.consistency_proof(old, new, reader(log.store))


# --- roots and proofs equal the naive tree's, and verify ---------------------------------------


@SETTINGS
@given(LEAVES)
def test_roots_equal_the_naive_tree_at_every_size(leaves: list[bytes]) -> None:
    log = grow(leaves)
    for size in range(len(leaves) + 1):
        expected = naive.mth(leaves[:size])
        assert log.frontier_roots[size] == expected
        assert root(log, size) == expected


@SETTINGS
@given(LEAVES, st.data())
def test_inclusion_proofs_equal_the_naive_audit_paths_and_verify(
    leaves: list[bytes], data: st.DataObject
) -> None:
    log, index, size, proof = inclusion_case(leaves, data)
    assert proof == naive.path(index, leaves[:size])
    leaf = naive.leaf_hash(leaves[index])
    merkle.verify_inclusion(index, size, leaf, proof, naive.mth(leaves[:size]))
    assert merkle.root_from_inclusion(index, size, leaf, proof) == naive.mth(leaves[:size])


@SETTINGS
@given(LEAVES, st.data())
def test_consistency_proofs_equal_the_naive_proofs_and_verify(
    leaves: list[bytes], data: st.DataObject
) -> None:
    log, old, new, proof = consistency_case(leaves, data)
    assert proof == naive.proof(old, leaves[:new])
    merkle.verify_consistency(old, new, naive.mth(leaves[:old]), naive.mth(leaves[:new]), proof)


# --- tampered inclusion proofs are rejected ----------------------------------------------------


@SETTINGS
@given(LEAVES.filter(lambda leaves: len(leaves) >= 2), st.data())
def test_a_flipped_bit_in_an_inclusion_proof_breaks_it(leaves: list[bytes], data: st.DataObject) -> None:
    log = grow(leaves)
    size = data.draw(st.integers(2, len(leaves)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = merkle.inclusion_proof(index, size, reader(log.store))
    at = data.draw(st.integers(0, len(proof) - 1), label="hash")
    proof[at] = flip(proof[at], data.draw(st.integers(0, 255), label="bit"))
    with pytest.raises(ProofError):
        merkle.verify_inclusion(index, size, naive.leaf_hash(leaves[index]), proof, root(log, size))


@SETTINGS
@given(LEAVES, st.data(), st.integers(0, 255), st.booleans())
def test_a_flipped_bit_in_the_leaf_or_the_root_breaks_an_inclusion_proof(
    leaves: list[bytes], data: st.DataObject, bit: int, in_leaf: bool
) -> None:
    log, index, size, proof = inclusion_case(leaves, data)
    leaf, tree_root = naive.leaf_hash(leaves[index]), root(log, size)
    if in_leaf:
        leaf = flip(leaf, bit)
    else:
        tree_root = flip(tree_root, bit)
    with pytest.raises(ProofError):
        merkle.verify_inclusion(index, size, leaf, proof, tree_root)


@SETTINGS
@given(LEAVES.filter(lambda leaves: len(leaves) >= 2), st.data())
def test_a_dropped_hash_breaks_an_inclusion_proof(leaves: list[bytes], data: st.DataObject) -> None:
    log = grow(leaves)
    size = data.draw(st.integers(2, len(leaves)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = merkle.inclusion_proof(index, size, reader(log.store))
    del proof[data.draw(st.integers(0, len(proof) - 1), label="dropped")]
    with pytest.raises(ProofError):
        merkle.verify_inclusion(index, size, naive.leaf_hash(leaves[index]), proof, root(log, size))


@SETTINGS
@given(LEAVES, st.data())
def test_an_added_hash_breaks_an_inclusion_proof(leaves: list[bytes], data: st.DataObject) -> None:
    log, index, size, proof = inclusion_case(leaves, data)
    extra = data.draw(st.sampled_from([*proof, root(log, size)]) | HASHES, label="added hash")
    proof.insert(data.draw(st.integers(0, len(proof)), label="at"), extra)
    with pytest.raises(ProofError):
        merkle.verify_inclusion(index, size, naive.leaf_hash(leaves[index]), proof, root(log, size))


@SETTINGS
@given(LEAVES.filter(lambda leaves: len(leaves) >= 2), st.data())
def test_an_inclusion_proof_fails_at_a_wrong_index(leaves: list[bytes], data: st.DataObject) -> None:
    log = grow(leaves)
    size = data.draw(st.integers(2, len(leaves)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    wrong = data.draw(st.integers(0, size - 1).filter(lambda i: i != index), label="wrong index")
    proof = merkle.inclusion_proof(index, size, reader(log.store))
    with pytest.raises(ProofError):
        merkle.verify_inclusion(wrong, size, naive.leaf_hash(leaves[index]), proof, root(log, size))


@SETTINGS
@given(LEAVES.filter(lambda leaves: len(leaves) >= 2), st.data())
def test_an_inclusion_proof_fails_for_a_wrong_size_and_that_sizes_root(
    leaves: list[bytes], data: st.DataObject
) -> None:
    log, index, size, proof = inclusion_case(leaves, data)
    wrong = data.draw(st.integers(index + 1, len(leaves)).filter(lambda n: n != size), label="wrong size")
    assume(naive.path(index, leaves[:wrong]) != proof)  # else the claim holds with this very proof
    with pytest.raises(ProofError):
        merkle.verify_inclusion(index, wrong, naive.leaf_hash(leaves[index]), proof, root(log, wrong))


def test_a_proof_alone_does_not_bind_the_tree_size() -> None:
    # Spec §3: size and root must come from a signed checkpoint. The audit path of leaf 0 in a tree
    # of 4 also "proves" leaf 0 under that same root for size 3: the verifier cannot tell.
    log = grow([b"a", b"b", b"c", b"d"])
    proof = merkle.inclusion_proof(0, 4, reader(log.store))
    merkle.verify_inclusion(0, 3, merkle.leaf_hash(b"a"), proof, root(log, 4))
    with pytest.raises(ProofError):
        merkle.verify_inclusion(0, 3, merkle.leaf_hash(b"a"), proof, root(log, 3))


# --- tampered consistency proofs are rejected --------------------------------------------------


def nontrivial_consistency(leaves: list[bytes], data: st.DataObject) -> tuple[Log, int, int, list[bytes]]:
    """A case with 0 < old < new, whose proof is not empty."""
    log = grow(leaves)
    new = data.draw(st.integers(2, len(leaves)), label="new size")
    old = data.draw(st.integers(1, new - 1), label="old size")
    return log, old, new, merkle.consistency_proof(old, new, reader(log.store))


@SETTINGS
@given(LEAVES.filter(lambda leaves: len(leaves) >= 2), st.data())
def test_a_flipped_bit_in_a_consistency_proof_breaks_it(leaves: list[bytes], data: st.DataObject) -> None:
    log, old, new, proof = nontrivial_consistency(leaves, data)
    at = data.draw(st.integers(0, len(proof) - 1), label="hash")
    proof[at] = flip(proof[at], data.draw(st.integers(0, 255), label="bit"))
    with pytest.raises(ProofError):
        merkle.verify_consistency(old, new, root(log, old), root(log, new), proof)


@SETTINGS
@given(LEAVES, st.data(), st.integers(0, 255), st.booleans())
def test_a_flipped_bit_in_either_root_breaks_a_consistency_proof(
    leaves: list[bytes], data: st.DataObject, bit: int, in_old: bool
) -> None:
    # From size 0 the new root is unconstrained (every tree extends the empty one), so old ≥ 1.
    log, old, new, proof = consistency_case(leaves, data)
    assume(old >= 1)
    old_root, new_root = root(log, old), root(log, new)
    if in_old:
        old_root = flip(old_root, bit)
    else:
        new_root = flip(new_root, bit)
    with pytest.raises(ProofError):
        merkle.verify_consistency(old, new, old_root, new_root, proof)


@SETTINGS
@given(LEAVES.filter(lambda leaves: len(leaves) >= 2), st.data())
def test_a_dropped_hash_breaks_a_consistency_proof(leaves: list[bytes], data: st.DataObject) -> None:
    log, old, new, proof = nontrivial_consistency(leaves, data)
    del proof[data.draw(st.integers(0, len(proof) - 1), label="dropped")]
    with pytest.raises(ProofError):
        merkle.verify_consistency(old, new, root(log, old), root(log, new), proof)


@SETTINGS
@given(LEAVES, st.data())
def test_an_added_hash_breaks_a_consistency_proof(leaves: list[bytes], data: st.DataObject) -> None:
    log, old, new, proof = consistency_case(leaves, data)
    old_root, new_root = root(log, old), root(log, new)
    extra = data.draw(st.sampled_from([*proof, old_root, new_root]) | HASHES, label="added hash")
    proof.insert(data.draw(st.integers(0, len(proof)), label="at"), extra)
    with pytest.raises(ProofError):
        merkle.verify_consistency(old, new, old_root, new_root, proof)


@SETTINGS
@given(LEAVES.filter(lambda leaves: len(leaves) >= 2), st.data())
def test_a_consistency_proof_fails_for_a_wrong_old_size_and_that_sizes_root(
    leaves: list[bytes], data: st.DataObject
) -> None:
    log, old, new, proof = consistency_case(leaves, data)
    assume(new >= 1)
    wrong = data.draw(st.integers(1, new).filter(lambda m: m != old), label="wrong old size")
    assume(naive.proof(wrong, leaves[:new]) != proof)  # else the claim holds with this very proof
    with pytest.raises(ProofError):
        merkle.verify_consistency(wrong, new, root(log, wrong), root(log, new), proof)


@SETTINGS
@given(LEAVES.filter(lambda leaves: len(leaves) >= 2), st.data())
def test_a_consistency_proof_fails_for_a_wrong_new_size_and_that_sizes_root(
    leaves: list[bytes], data: st.DataObject
) -> None:
    log, old, new, proof = consistency_case(leaves, data)
    assume(old >= 1)
    wrong = data.draw(st.integers(old, len(leaves)).filter(lambda n: n != new), label="wrong new size")
    assume(naive.proof(old, leaves[:wrong]) != proof)
    with pytest.raises(ProofError):
        merkle.verify_consistency(old, wrong, root(log, old), root(log, wrong), proof)


# --- the stored-hashes layout ------------------------------------------------------------------


@SETTINGS
@given(st.integers(0, 300))
def test_stored_hashes_are_created_in_stored_hash_index_order(n: int) -> None:
    log = grow([i.to_bytes(2, "big") for i in range(n)])
    positions = [merkle.stored_hash_index(level, index) for level, index in log.created]
    assert positions == list(range(len(log.created)))


@SETTINGS
@given(st.integers(0, 300))
def test_stored_hash_count_is_the_number_of_hashes_created(n: int) -> None:
    log = grow([i.to_bytes(2, "big") for i in range(n)])
    assert [merkle.stored_hash_count(size) for size in range(n + 1)] == log.created_by_size


@SETTINGS
@given(LEAVES, st.data())
def test_a_frontier_reloaded_from_stored_hashes_grows_the_same_tree(
    leaves: list[bytes], data: st.DataObject
) -> None:
    log = grow(leaves)
    size = data.draw(st.integers(0, len(leaves)), label="reload at")
    frontier = Frontier.at(size, reader(log.store))
    assert frontier.root() == naive.mth(leaves[:size])
    for index in range(size, len(leaves)):
        for coord, h in frontier.push(merkle.leaf_hash(leaves[index])):
            assert log.store[coord] == h
    assert frontier.root() == naive.mth(leaves)


# --- proofs read O(log n) stored hashes, in one call -------------------------------------------


def counted(log: Log, action: Callable[[merkle.HashReader], object]) -> int:
    """How many coords `action` asked the reader for; it must ask at most once."""
    calls: list[list[Coord]] = []
    action(reader(log.store, calls))
    assert len(calls) <= 1, f"read {len(calls)} times: {calls}"
    return sum(len(call) for call in calls)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 1500), st.data())
def test_roots_and_proofs_read_o_log_n_stored_hashes_in_one_call(n: int, data: st.DataObject) -> None:
    log = grow([i.to_bytes(2, "big") for i in range(n)])
    size = data.draw(st.integers(0, n), label="root size")
    assert counted(log, lambda read: merkle.tree_root(size, read)) == bin(size).count("1")
    assert counted(log, lambda read: Frontier.at(size, read)) == bin(size).count("1")
    index, size = draw_inclusion(data, n)
    assert counted(log, lambda read: merkle.inclusion_proof(index, size, read)) <= read_bound(size)
    old, new = draw_consistency(data, n)
    assert counted(log, lambda read: merkle.consistency_proof(old, new, read)) <= read_bound(new)


def test_every_proof_of_a_small_tree_reads_within_the_bound() -> None:
    log = grow([i.to_bytes(1, "big") for i in range(130)])
    worst = 0
    for n in range(1, 131):
        for m in range(n + 1):
            if m < n:
                reads = counted(log, lambda read: merkle.inclusion_proof(m, n, read))
                assert reads <= read_bound(n), (m, n)
                worst = max(worst, reads - read_bound(n))
            reads = counted(log, lambda read: merkle.consistency_proof(m, n, read))
            assert reads <= read_bound(n), (m, n)
            worst = max(worst, reads - read_bound(n))
    assert worst == 0  # the bound is tight, not just safe


def test_a_store_that_returns_too_few_hashes_is_a_proof_error() -> None:
    log = grow([b"a", b"b", b"c"])
    with pytest.raises(ProofError, match="returned"):
        merkle.inclusion_proof(0, 3, lambda coords: [log.store[c] for c in coords][:-1])


# --- bad arguments -----------------------------------------------------------------------------

NEGATIVE = st.integers(max_value=-1)
SIZES = st.integers(0, 2**70)


@SETTINGS
@given(NEGATIVE, SIZES)
def test_a_negative_index_is_refused(index: int, size: int) -> None:
    with pytest.raises(ProofError):
        merkle.inclusion_proof(index, size, must_not_read)
    with pytest.raises(ProofError):
        merkle.verify_inclusion(index, size, bytes(32), [], bytes(32))


@SETTINGS
@given(SIZES, st.integers(0, 2**70))
def test_an_index_at_or_beyond_the_size_is_refused(size: int, beyond: int) -> None:
    with pytest.raises(ProofError, match="not below"):
        merkle.inclusion_proof(size + beyond, size, must_not_read)
    with pytest.raises(ProofError, match="not below"):
        merkle.verify_inclusion(size + beyond, size, bytes(32), [], bytes(32))


@SETTINGS
@given(NEGATIVE)
def test_a_negative_tree_size_is_refused(size: int) -> None:
    with pytest.raises(ProofError):
        merkle.tree_root(size, must_not_read)
    with pytest.raises(ProofError):
        merkle.inclusion_proof(0, size, must_not_read)
    with pytest.raises(ProofError):
        merkle.consistency_proof(0, size, must_not_read)
    with pytest.raises(ProofError):
        merkle.consistency_proof(size, 5, must_not_read)
    with pytest.raises(ProofError):
        merkle.consistency_proof(size, size, must_not_read)
    with pytest.raises(ProofError):
        merkle.verify_consistency(size, 5, bytes(32), bytes(32), [])
    with pytest.raises(ProofError):
        merkle.verify_consistency(0, size, merkle.EMPTY_ROOT, bytes(32), [])


@SETTINGS
@given(SIZES, st.integers(1, 2**70))
def test_an_old_size_beyond_the_new_size_is_refused(new: int, beyond: int) -> None:
    with pytest.raises(ProofError, match="beyond"):
        merkle.consistency_proof(new + beyond, new, must_not_read)
    with pytest.raises(ProofError, match="beyond"):
        merkle.verify_consistency(new + beyond, new, bytes(32), bytes(32), [bytes(32)])


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_a_hash_of_the_wrong_length_is_refused(length: int) -> None:
    log = grow([b"a", b"b", b"c"])
    good = merkle.inclusion_proof(1, 3, reader(log.store))
    bad = bytes(length)
    with pytest.raises(ProofError, match="32 bytes"):
        merkle.verify_inclusion(1, 3, bad, good, root(log, 3))
    with pytest.raises(ProofError, match="32 bytes"):
        merkle.verify_inclusion(1, 3, merkle.leaf_hash(b"b"), [good[0], bad], root(log, 3))
    with pytest.raises(ProofError, match="32 bytes"):
        merkle.verify_consistency(1, 3, bad, root(log, 3), merkle.consistency_proof(1, 3, reader(log.store)))
    with pytest.raises(ProofError, match="32 bytes"):
        merkle.verify_consistency(3, 3, root(log, 3), bad, [])


def test_the_empty_tree_is_consistent_with_any_tree_only_through_the_empty_root() -> None:
    log = grow([b"a", b"b", b"c"])
    merkle.verify_consistency(0, 3, merkle.EMPTY_ROOT, root(log, 3), [])
    with pytest.raises(ProofError, match="empty"):
        merkle.verify_consistency(0, 3, bytes(32), root(log, 3), [])
    with pytest.raises(ProofError, match="must be empty"):
        merkle.verify_consistency(0, 3, merkle.EMPTY_ROOT, root(log, 3), [root(log, 3)])


def test_two_roots_for_the_same_size_are_inconsistent() -> None:
    log = grow([b"a", b"b", b"c"])
    merkle.verify_consistency(3, 3, root(log, 3), root(log, 3), [])
    with pytest.raises(ProofError, match="same size"):
        merkle.verify_consistency(3, 3, root(log, 3), root(log, 2), [])
