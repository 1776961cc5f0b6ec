"""The one way a deployment appends: signs with the log's own key, refuses logs found tampered."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from . import store
from .errors import AppendConflict, LogTampered
from .keys import Keyring


class Writer:
    """Appends to logs whose start-up check passed; `frozen` maps a log id to why it failed."""

    def __init__(self, keyring: Keyring, frozen: Mapping[str, str] | None = None) -> None:
        self.keyring = keyring
        self.frozen = dict(frozen or {})

    def append(
        self, session: Session, log_id: str, entries: Sequence[Mapping[str, Any]], *, at: datetime
    ) -> list[store.Receipt]:
        """Append `entries` to `log_id` in the caller's transaction (see `store.append`).

        Raises LogTampered for a log that failed its check, and whatever `store.append` raises.
        """
        if log_id in self.frozen:
            raise LogTampered(log_id, None, f"writes refused since the start-up check: {self.frozen[log_id]}")
        info = store.get_log(session, log_id)
        signer = self.keyring.signer(log_id, info.origin)
        try:
            return store.append(session, log_id, entries, signer=signer, at=at)
        except LogTampered as exc:
            self.frozen[log_id] = str(exc)
            raise

    def create_log(self, session: Session, *, log_id: str, origin: str, at: datetime) -> store.LogInfo:
        """Create a log, with a new key file unless one for `origin` is already in place (an
        operator's own key, or one left by a create that never committed).

        Raises what `store.create_log` and `Keyring.load_or_create` raise.
        """
        store.check_log_id(log_id)
        if any(log.id == log_id or log.origin == origin for log in store.list_logs(session)):
            raise AppendConflict(f"a log with id {log_id!r} or origin {origin!r} already exists")
        signer = self.keyring.load_or_create(log_id, origin)
        return store.create_log(session, log_id=log_id, origin=origin, signer=signer, at=at)
