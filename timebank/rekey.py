"""Re-sealing personal data under the current key after a rotation, and counting what each key still seals.

A rotation (`Sealer.rotated`) only changes what new values are sealed with. `reseal` moves the old
values over, page by page; `retire_check` counts what an old key still seals, so an operator
drops a key from the key file only when nothing needs it any more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import people, tables
from .model import Base
from .sealing import PREFIX, Sealer, SealError

PAGE = 500
SUFFIX = "_sealed"
NO_EXTRA: Mapping[type[Base], tuple[str, ...]] = MappingProxyType({})


def sealed_columns(extra: Mapping[type[Base], tuple[str, ...]] = NO_EXTRA) -> dict[type[Base], tuple[str, ...]]:
    """The models and sealed columns `reseal` rewrites: those each domain module lists in its
    `SEALED_COLUMNS` (people's, care's, records'…) and `extra`'s. Every model must have an `id` and
    seal its values for `people.where(row, column)`."""
    merged: dict[type[Base], tuple[str, ...]] = {}
    listed = [people.SEALED_COLUMNS] + [getattr(m, "SEALED_COLUMNS", {}) for m in tables.MODULES]
    for source in (*listed, extra):
        for model, columns in source.items():
            bad = [c for c in columns if not c.endswith(SUFFIX) or c not in model.__mapper__.column_attrs]
            if bad:
                raise ValueError(f"{model.__name__} has no sealed columns {', '.join(bad)}")
            merged[model] = tuple(dict.fromkeys(merged.get(model, ()) + tuple(columns)))
    return merged


def _under(column: sa.ColumnElement[str], kid: str) -> sa.ColumnElement[bool]:
    """SQL: the value in `column` was sealed with key `kid` (a case-sensitive prefix test; SQLite's
    LIKE would fold case)."""
    prefix = f"{PREFIX}.{kid}."
    return sa.func.substr(column, 1, len(prefix)) == prefix


def _stale(column: sa.ColumnElement[str], kid: str) -> sa.ColumnElement[bool]:
    return sa.and_(column.is_not(None), sa.not_(_under(column, kid)))


def pending(session: Session, sealer: Sealer, *, extra: Mapping[type[Base], tuple[str, ...]] = NO_EXTRA) -> int:
    """How many values `reseal` would re-seal now."""
    return sum(
        int(session.scalar(sa.select(sa.func.count()).select_from(model).where(
            _stale(getattr(model, column), sealer.current))) or 0)
        for model, columns in sealed_columns(extra).items() for column in columns
    )


def reseal(
    session: Session,
    sealer: Sealer,
    *,
    progress: Callable[[int], None] | None = None,
    extra: Mapping[type[Base], tuple[str, ...]] = NO_EXTRA,
) -> int:
    """Re-seal every value of `sealed_columns(extra)` that is not under the sealer's current key,
    in pages of `PAGE` rows (`progress(n)` after each page, n the values re-sealed in it). Values
    already under the current key are left as they are. Returns how many values were re-sealed.

    Does not commit. Raises SealError when a value cannot be opened (a key missing from the
    sealer, or an altered value): roll back, then restore the key or repair the row it names.
    """
    current = f"{PREFIX}.{sealer.current}."
    total = 0
    for model, columns in sealed_columns(extra).items():
        ident = model.__mapper__.c["id"]
        stale = sa.or_(*(_stale(getattr(model, c), sealer.current) for c in columns))
        last: str | None = None
        while True:
            query = sa.select(model).where(stale).order_by(ident).limit(PAGE)
            if last is not None:
                query = query.where(ident > last)
            rows = session.scalars(query).all()
            if not rows:
                break
            done = 0
            for row in rows:
                for column in columns:
                    value = getattr(row, column)
                    if value is None or value.startswith(current):
                        continue
                    where = people.where(row, column)
                    setattr(row, column, sealer.seal(sealer.open(value, where=where), where=where))
                    done += 1
            session.flush()
            total += done
            if progress is not None:
                progress(done)
            last = rows[-1].id  # type: ignore[attr-defined]
    return total


def _all_sealed(extra: Mapping[type[Base], tuple[str, ...]]) -> list[sa.Column[str]]:
    """Every `_sealed` column of every domain table (whether `reseal` knows it or not) and `extra`'s."""
    found = {(table.name, c.name): c for table in tables.metadata.tables.values()
             for c in table.columns if c.name.endswith(SUFFIX)}
    for model, columns in extra.items():
        for name in columns:
            column = model.__table__.c[name]  # type: ignore[attr-defined]
            found[(column.table.name, name)] = column
    return [found[k] for k in sorted(found)]


def uncovered(extra: Mapping[type[Base], tuple[str, ...]] = NO_EXTRA) -> list[str]:
    """`table.column` of every `_sealed` column that `reseal` would not rewrite: a module that
    forgot to list it in its `SEALED_COLUMNS`. While any is left, old keys cannot be retired."""
    known = {(model.__table__.name, c) for model, columns in sealed_columns(extra).items()  # type: ignore[attr-defined]
             for c in columns}
    return [f"{c.table.name}.{c.name}" for c in _all_sealed(extra) if (c.table.name, c.name) not in known]


def _count(session: Session, column: sa.Column[str], condition: sa.ColumnElement[bool]) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(column.table).where(condition)) or 0)


def retire_check(
    session: Session, sealer: Sealer, kid: str, *, extra: Mapping[type[Base], tuple[str, ...]] = NO_EXTRA
) -> int:
    """How many values, in any `_sealed` column of any domain table, are still sealed with key
    `kid`. Retire the key only when this is 0. Raises SealError for the current key, which is
    never retired."""
    if kid == sealer.current:
        raise SealError(f"key {kid} is the current key and cannot be retired; rotate first")
    return sum(_count(session, column, _under(column, kid)) for column in _all_sealed(extra))


def key_usage(
    session: Session, sealer: Sealer, *, extra: Mapping[type[Base], tuple[str, ...]] = NO_EXTRA
) -> dict[str | None, int]:
    """How many values each of the sealer's keys seals, over every `_sealed` column; under None,
    values sealed with a key the sealer does not hold (they cannot be opened)."""
    usage: dict[str | None, int] = {kid: 0 for kid in sealer.keys}
    unknown = 0
    for column in _all_sealed(extra):
        counts = {kid: _count(session, column, _under(column, kid)) for kid in sealer.keys}
        for kid, n in counts.items():
            usage[kid] += n
        unknown += _count(session, column, column.is_not(None)) - sum(counts.values())
    usage[None] = unknown
    return usage
