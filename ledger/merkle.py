"""RFC 6962 / RFC 9162 §2.1 Merkle tree: hashing, proofs built from stored subtree hashes, checks.

A complete subtree is named by a `Coord` (level, index): it covers leaves
[index·2^level, (index+1)·2^level). Every complete subtree's hash is stored once, in the order
of the Go tlog "stored hashes" layout, so a root or a proof for any size is a fold over at most
O(log n) stored hashes, read in one go through a `HashReader`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .errors import ProofError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"

Coord = tuple[int, int]
Range = tuple[int, int]
HashReader = Callable[[Sequence[Coord]], Sequence[bytes]]


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 ‖ leaf bytes)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly below n (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def stored_hash_index(level: int, index: int) -> int:
    """Position of a subtree hash in the stored-hashes layout (as golang.org/x/mod/sumdb/tlog)."""
    n = index
    for _ in range(level):
        n = 2 * n + 1
    position = 0
    while n > 0:
        position += n
        n >>= 1
    return position + level


def stored_hash_count(size: int) -> int:
    """How many subtree hashes a tree of `size` leaves has stored."""
    if size == 0:
        return 0
    count = stored_hash_index(0, size - 1) + 1
    last = size - 1
    while last & 1:
        count += 1
        last >>= 1
    return count


def subtrees(lo: int, hi: int) -> list[Coord]:
    """The complete subtrees that tile [lo, hi), left to right, largest first."""
    coords: list[Coord] = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        while lo % (1 << level):
            level -= 1
        coords.append((level, lo >> level))
        lo += 1 << level
    return coords


def fold(hashes: Sequence[bytes]) -> bytes:
    """The RFC 6962 hash of a range given its complete subtrees' hashes, left to right."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges whose hashes form the audit path of `index` in a tree of `size` (RFC 9162 order)."""
    check_index(index, size)
    path: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            lo += k
    path.reverse()
    return path


def consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """The ranges whose hashes form the consistency proof from `old_size` to `new_size`."""
    check_sizes(old_size, new_size)
    if old_size in (0, new_size):
        return []
    path: list[Range] = []
    m, lo, hi, whole = old_size, 0, new_size, True
    while m != hi - lo:
        k = split_point(hi - lo)
        if m <= k:
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            m -= k
            lo += k
            whole = False
    if not whole:
        path.append((lo, hi))
    path.reverse()
    return path


def hash_ranges(ranges: Sequence[Range], read: HashReader) -> list[bytes]:
    """Hash each range from its stored complete subtrees, fetched with one call to `read`."""
    tilings = [subtrees(lo, hi) for lo, hi in ranges]
    wanted = sorted({coord for tiling in tilings for coord in tiling})
    if not wanted:
        return []
    got = read(wanted)
    if len(got) != len(wanted):
        raise ProofError(f"hash store returned {len(got)} hashes for {len(wanted)} requested")
    by_coord = dict(zip(wanted, got))
    return [fold([by_coord[c] for c in tiling]) for tiling in tilings]


def tree_root(size: int, read: HashReader) -> bytes:
    """The root of the first `size` leaves."""
    if size < 0:
        raise ProofError(f"tree size must be ≥ 0, got {size}")
    if size == 0:
        return EMPTY_ROOT
    return hash_ranges([(0, size)], read)[0]


def inclusion_proof(index: int, size: int, read: HashReader) -> list[bytes]:
    """The audit path of leaf `index` in the tree of `size` leaves."""
    return hash_ranges(inclusion_ranges(index, size), read)


def consistency_proof(old_size: int, new_size: int, read: HashReader) -> list[bytes]:
    """The consistency proof from the tree of `old_size` leaves to that of `new_size`."""
    return hash_ranges(consistency_ranges(old_size, new_size), read)


def check_index(index: int, size: int) -> None:
    """Raise ProofError unless 0 ≤ index < size."""
    if index < 0:
        raise ProofError(f"index must be ≥ 0, got {index}")
    if index >= size:
        raise ProofError(f"index {index} is not below the tree size {size}")


def check_sizes(old_size: int, new_size: int) -> None:
    """Raise ProofError unless 0 ≤ old_size ≤ new_size."""
    if old_size < 0:
        raise ProofError(f"old size must be ≥ 0, got {old_size}")
    if old_size > new_size:
        raise ProofError(f"old size {old_size} is beyond the new size {new_size}")


def equal(a: bytes, b: bytes) -> bool:
    """Constant-time comparison of two hashes."""
    return hmac.compare_digest(a, b)


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root implied by an audit path (RFC 9162 §2.1.3.2); ProofError if the path is malformed."""
    check_index(index, size)
    _check_hash_sizes([leaf, *proof])
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError(f"inclusion proof has {len(proof)} hashes, too many for size {size}")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"inclusion proof has {len(proof)} hashes, too few for size {size}")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Raise ProofError unless `proof` shows leaf hash `leaf` at `index` under `root`."""
    computed = root_from_inclusion(index, size, leaf, proof)
    if not equal(computed, root):
        raise ProofError("inclusion proof does not lead to the given root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise ProofError unless `proof` shows the tree of `old_size` is a prefix of `new_size`'s."""
    check_sizes(old_size, new_size)
    _check_hash_sizes([old_root, new_root, *proof])
    if old_size == 0 or old_size == new_size:
        if proof:
            raise ProofError(f"consistency proof from {old_size} to {new_size} must be empty")
        if old_size == new_size and not equal(old_root, new_root):
            raise ProofError(f"two different roots for the same size {new_size}")
        if old_size == 0 and not equal(old_root, EMPTY_ROOT):
            raise ProofError("the root of the empty tree is not SHA-256 of the empty string")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof has too many hashes")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof has too few hashes")
    if not equal(fr, old_root):
        raise ProofError(f"consistency proof does not lead to the old root at size {old_size}")
    if not equal(sr, new_root):
        raise ProofError(f"consistency proof does not lead to the new root at size {new_size}")


def _check_hash_sizes(hashes: Sequence[bytes]) -> None:
    for h in hashes:
        if len(h) != HASH_SIZE:
            raise ProofError(f"a hash must be {HASH_SIZE} bytes, got {len(h)}")


@dataclass
class Frontier:
    """The right edge of a growing tree: extends it leaf by leaf in O(log n) memory.

    `edge` holds (level, hash) of the complete subtrees of `subtrees(0, size)`, largest first.
    """

    size: int = 0
    edge: list[tuple[int, bytes]] = field(default_factory=list)

    @classmethod
    def at(cls, size: int, read: HashReader) -> Frontier:
        """The frontier of an existing tree of `size` leaves, from its stored hashes."""
        coords = subtrees(0, size)
        hashes = read(coords) if coords else []
        return cls(size, [(level, h) for (level, _), h in zip(coords, hashes)])

    def push(self, leaf: bytes) -> list[tuple[Coord, bytes]]:
        """Add a leaf hash; return the newly completed subtrees in stored-hashes order."""
        index = self.size
        level, h = 0, leaf
        created: list[tuple[Coord, bytes]] = [((0, index), h)]
        while self.edge and self.edge[-1][0] == level:
            _, left = self.edge.pop()
            h = node_hash(left, h)
            level += 1
            created.append(((level, index >> level), h))
        self.edge.append((level, h))
        self.size += 1
        return created

    def root(self) -> bytes:
        """The root of the tree so far."""
        if not self.edge:
            return EMPTY_ROOT
        return fold([h for _, h in self.edge])
