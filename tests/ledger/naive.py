"""A deliberately naive RFC 6962 §2.1 Merkle tree, transcribed from the RFC's text; used only by tests.

It recomputes everything from the leaf bytes on every call and shares no code with `ledger.merkle`,
so agreeing with it means agreeing with the RFC, not with ourselves. Names follow the RFC:
`mth` is MTH(D[n]), `path` is PATH(m, D[n]), `proof` is PROOF(m, D[n]), `subproof` is SUBPROOF.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def sha256(data: bytes) -> bytes:
    """SHA-256 of `data`."""
    return hashlib.sha256(data).digest()


def leaf_hash(leaf: bytes) -> bytes:
    """MTH({d(0)}) = SHA-256(0x00 || d(0))."""
    return sha256(b"\x00" + leaf)


def largest_power_of_two_below(n: int) -> int:
    """k: the largest power of two smaller than n (n > 1), i.e. k < n <= 2k."""
    assert n > 1
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]): the Merkle Tree Hash of a list of leaf byte strings."""
    n = len(leaves)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return leaf_hash(leaves[0])
    k = largest_power_of_two_below(n)
    return sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]): the audit path of leaf m, the sibling nearest the leaf first."""
    n = len(leaves)
    if not 0 <= m < n:
        raise ValueError(f"PATH is defined for 0 <= m < n, got m={m}, n={n}")
    if n == 1:
        return []
    k = largest_power_of_two_below(n)
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def proof(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true); [] for m = 0 or m = n as the ledger spec fixes."""
    n = len(leaves)
    if not 0 <= m <= n:
        raise ValueError(f"PROOF is defined for 0 <= m <= n, got m={m}, n={n}")
    if m == 0:
        # RFC 6962 only defines PROOF for 0 < m; the ledger spec (§3) says the proof from 0 is [].
        return []
    return subproof(m, leaves, True)


def subproof(m: int, leaves: Sequence[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) exactly as RFC 6962 §2.1.2 defines it."""
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = largest_power_of_two_below(n)
    if m <= k:
        return subproof(m, leaves[:k], b) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]
