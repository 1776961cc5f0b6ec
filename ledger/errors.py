"""Typed ledger errors: every failure caused by stored or outside data becomes one of these."""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every ledger error."""


class CanonicalError(LedgerError, ValueError):
    """A value cannot be, or bytes are not, canonical JSON within the ledger's limits."""


class ProofError(LedgerError):
    """A proof, a size or an index does not check out."""


class CheckpointError(LedgerError):
    """A checkpoint or signed note is malformed or its signature does not verify."""


class KeyFileError(LedgerError):
    """A signing key file is missing, malformed, too open, or for another log."""


class UnknownLog(LedgerError):
    """No log has this id."""

    def __init__(self, log_id: str) -> None:
        super().__init__(f"no log {log_id!r}")
        self.log_id = log_id


class NoSuchCheckpoint(LedgerError):
    """No checkpoint was ever signed for this size."""

    def __init__(self, log_id: str, size: int) -> None:
        super().__init__(f"log {log_id!r} has no signed checkpoint of size {size}")
        self.log_id = log_id
        self.size = size


class LogTampered(LedgerError):
    """Stored data disagrees with itself or with a signed checkpoint: writes are refused."""

    def __init__(self, log_id: str, index: int | None, reason: str) -> None:
        where = f" at index {index}" if index is not None else ""
        super().__init__(f"log {log_id!r} failed verification{where}: {reason}")
        self.log_id = log_id
        self.index = index
        self.reason = reason


class AppendConflict(LedgerError):
    """Another writer appended to the same log first; the whole append was undone, retry it."""


class EntryError(LedgerError, ValueError):
    """An entry or an argument given to the ledger is not acceptable; nothing was written."""
