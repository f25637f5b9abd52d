"""The JetStream streams: one per producing service, and the dead letters."""

from __future__ import annotations

import logging

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

log = logging.getLogger(__name__)

STREAMS: dict[str, str] = {
    "IDENTITY": "identity.>",
    "FACILITY": "facility.>",
    "SUBMITTAL": "submittal.>",
    "DEADLETTER": "deadletter.>",
}

DUPLICATE_WINDOW_SECONDS = 120.0


def stream_for_subject(subject: str) -> str:
    """The stream that captures ``subject`` ("facility.facility.created" -> "FACILITY")."""
    prefix = subject.split(".", 1)[0]
    for name, pattern in STREAMS.items():
        if pattern.split(".", 1)[0] == prefix:
            return name
    raise ValueError(f"no stream captures subject {subject!r}; streams: {STREAMS}")


def stream_config(name: str, replicas: int = 1) -> StreamConfig:
    # Limits retention with no age, size or count limit: a read model can always be rebuilt
    # from the first event. The duplicate window backs up the outbox's Nats-Msg-Id.
    return StreamConfig(
        name=name,
        subjects=[STREAMS[name]],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=0,
        max_msgs=-1,
        max_bytes=-1,
        num_replicas=replicas,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
    )


async def ensure_streams(js: JetStreamContext, replicas: int = 1) -> None:
    """Create each stream, or update it to our config if it exists; safe to call on every start."""
    for name in STREAMS:
        config = stream_config(name, replicas)
        try:
            await js.stream_info(name)
        except NotFoundError:
            await js.add_stream(config)
            log.info("created JetStream stream %s (%s)", name, STREAMS[name])
        else:
            await js.update_stream(config)
