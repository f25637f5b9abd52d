"""The mail job: queued mail goes out once; an empty queue takes no write transaction."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import select

from services.facility.adapters.tables import OutgoingMail


async def test_the_mail_job_sends_what_is_queued_and_writes_nothing_when_nothing_is(
    app: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    writes: list[str] = []
    transaction = app.db.transaction

    @asynccontextmanager
    async def counted() -> Any:
        writes.append("write")
        async with transaction() as session:
            yield session

    monkeypatch.setattr(app.db, "transaction", counted)

    assert await app.send_mail() == 0
    assert writes == []  # on SQLite a write transaction is the writer lock, every 2 s

    async with app.db.transaction() as session:
        app.mail(session, "ann@example.com", "Your access request", "Approved.")
    writes.clear()
    assert await app.send_mail() == 1
    assert writes  # claimed and marked sent in a write transaction
    async with app.db.read() as session:
        [mail] = (await session.execute(select(OutgoingMail))).scalars()
    assert mail.sent_at is not None
    assert await app.send_mail() == 0  # sent once
    sent = sorted((app.mailer.settings.mail_dir).glob("*.eml"))
    assert len(sent) == 1 and "Your access request" in sent[0].read_text()
