from __future__ import annotations

import pytest
from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StorageType

from common.events import STREAMS, ensure_streams, stream_for_subject


async def test_streams_are_created_once_and_kept_forever_with_a_two_minute_duplicate_window(
    js_client: JetStreamContext,
):
    await ensure_streams(js_client)
    await js_client.publish("facility.facility.created", b"{}")
    await ensure_streams(js_client)  # every start does this; nothing is lost

    for name, subject in STREAMS.items():
        info = await js_client.stream_info(name)
        assert info.config.subjects == [subject]
        assert info.config.storage == StorageType.FILE
        assert info.config.retention == RetentionPolicy.LIMITS
        assert not info.config.max_age and info.config.max_msgs in (None, -1)
        assert info.config.duplicate_window == 120
    assert (await js_client.stream_info("FACILITY")).state.messages == 1


def test_each_subject_belongs_to_its_producers_stream():
    assert stream_for_subject("identity.user.activated") == "IDENTITY"
    assert stream_for_subject("submittal.hmbp.certified") == "SUBMITTAL"
    with pytest.raises(ValueError):
        stream_for_subject("billing.invoice.sent")
