"""Instants are UTC, with an explicit offset, from the database to the wire.

SQLite has no time zone type: SQLAlchemy stores a ``DateTime(timezone=True)`` there as text
and reads it back naive, while PostgreSQL's ``timestamptz`` comes back aware. ``UTCDateTime``
makes both answer aware UTC datetimes, so no code path can hand a naive one to GraphQL or an
event. ``DATETIME_SCALAR`` is the GraphQL ``DateTime`` every subgraph serves: ISO 8601, always
converted to UTC (``+00:00``), whatever reaches it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.types.scalar import ScalarDefinition


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC; a naive value is taken to be UTC already (it was stored so)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that always binds and returns aware UTC datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        # SQLite's DATETIME drops the offset without converting: convert first.
        return None if value is None else as_utc(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


def _serialize(value: Any) -> str:
    if not isinstance(value, datetime):
        raise TypeError(f"DateTime cannot represent {type(value).__name__} {value!r}")
    return as_utc(value).isoformat()


def _parse(value: object) -> datetime:
    if not isinstance(value, str):
        raise StrawberryInputCoercionError(
            f'DateTime must be an ISO 8601 string such as "2026-03-01T16:00:00+00:00", '
            f"not {value!r}."
        )
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise StrawberryInputCoercionError(
            f'"{value}" is not an ISO 8601 date-time; send e.g. "2026-03-01T16:00:00+00:00".'
        ) from None
    return as_utc(parsed)


DATETIME_SCALAR = ScalarDefinition(
    name="DateTime",
    description=(
        "An instant: ISO 8601 with an explicit offset, always UTC on output "
        '("2026-03-01T16:00:00+00:00"). Input without an offset is read as UTC.'
    ),
    specified_by_url=None,
    serialize=_serialize,
    parse_value=_parse,
    parse_literal=None,
    origin=datetime,
)
