"""The JSON envelope every event travels in (DESIGN §3)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

# <service>.<aggregate>.<past-tense-event>: lower case words joined by "_".
SUBJECT_PATTERN = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


class Envelope(BaseModel):
    """One event: its identity, its place in its aggregate's history, and its payload.

    ``type`` is also the NATS subject. ``sequence`` increases by one per aggregate, from 1.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    type: str
    schema_version: int = 1
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    aggregate_id: str
    sequence: int
    actor: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id_is_uuid(cls, value: str) -> str:
        return str(uuid.UUID(value))

    @field_validator("type")
    @classmethod
    def _type_is_subject(cls, value: str) -> str:
        if not SUBJECT_PATTERN.match(value):
            raise ValueError(
                f"event type {value!r} must look like <service>.<aggregate>.<past_tense_event>"
            )
        return value

    @field_validator("occurred_at")
    @classmethod
    def _occurred_at_is_utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @field_validator("sequence")
    @classmethod
    def _sequence_is_positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError("sequence starts at 1")
        return value

    @property
    def subject(self) -> str:
        return self.type

    @property
    def service(self) -> str:
        return self.type.split(".", 1)[0]

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> Envelope:
        """Parse an envelope; raises ``pydantic.ValidationError`` on anything malformed."""
        return cls.model_validate_json(raw)
