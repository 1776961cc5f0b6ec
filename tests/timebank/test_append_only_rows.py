"""The rows that point at ledger leaves (entries, postings) and status history refuse UPDATE and DELETE."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from redemption_helpers import give
from world import World

from timebank import people


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE entry SET seq = seq + 100",
        "DELETE FROM entry",
        "UPDATE posting SET amount = amount + 1",
        "DELETE FROM posting",
        "UPDATE status_change SET status = 'active'",
        "DELETE FROM status_change",
    ],
)
def test_history_rows_cannot_be_changed_or_deleted(world: World, statement: str) -> None:
    volunteer = world.volunteer()
    people.set_status(world.session, world.writer, subject_id=volunteer.id, status="suspended", by=world.admin.id,
                      reason="complaint under review", at=world.now)
    give(world, volunteer, 30)  # a transfer, so there are postings
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with world.session.begin_nested():
            world.session.execute(sa.text(statement))
