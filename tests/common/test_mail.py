from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from common.mail import Mailer, read_mail_drop
from common.settings import Settings, load_settings


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    base = dataclasses.replace(
        load_settings(), data_dir=tmp_path, smtp_host="", mail_from="CERS <no-reply@cers.test>"
    )
    return dataclasses.replace(base, **overrides)


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], EmailMessage]] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = BytesParser(policy=default_policy).parsebytes(envelope.content)
        assert isinstance(message, EmailMessage)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        login, password = data.login.decode(), data.password.decode()
        self.logins.append((login, password))
        return AuthResult(success=(login, password) == ("mailer", "s3cret-s3cret"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=inbox.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    yield inbox, port
    controller.stop()


async def test_without_smtp_mail_lands_in_the_drop_as_a_parseable_eml(tmp_path):
    mailer = Mailer(settings_for(tmp_path))

    await mailer.send("ada@example.com", "Activate your account", "Open http://x/activate?t=1")

    files = list((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1
    [message] = read_mail_drop(tmp_path / "mail")
    assert message["To"] == "ada@example.com"
    assert message["From"] == "CERS <no-reply@cers.test>"
    assert message["Subject"] == "Activate your account"
    assert "http://x/activate?t=1" in message.get_content()
    assert message["Message-ID"].endswith("@cers.test>")
    assert parsedate_to_datetime(message["Date"]).tzinfo is not None


async def test_the_drop_keeps_every_recipient_and_the_html_alternative(tmp_path):
    mailer = Mailer(settings_for(tmp_path))

    await mailer.send(
        ["lead@example.com", "other@example.com"], "Reminder", "plain body", html="<p>html</p>"
    )

    [message] = read_mail_drop(tmp_path / "mail")
    assert message["To"].addresses[0].addr_spec == "lead@example.com"
    assert [a.addr_spec for a in message["To"].addresses] == [
        "lead@example.com",
        "other@example.com",
    ]
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and plain.get_content().strip() == "plain body"
    assert html is not None and html.get_content().strip() == "<p>html</p>"


async def test_the_drop_lists_messages_oldest_first(tmp_path):
    mailer = Mailer(settings_for(tmp_path))
    for n in range(5):
        await mailer.send(f"user{n}@example.com", f"message {n}", "body")

    subjects = [m["Subject"] for m in read_mail_drop(tmp_path / "mail")]

    assert subjects == [f"message {n}" for n in range(5)]


def test_a_missing_drop_reads_as_empty(tmp_path):
    assert read_mail_drop(tmp_path / "nowhere") == []


async def test_mail_without_recipients_is_refused(tmp_path):
    with pytest.raises(ValueError, match="recipient"):
        await Mailer(settings_for(tmp_path)).send([], "s", "t")
    assert read_mail_drop(tmp_path / "mail") == []


async def test_with_smtp_configured_mail_is_delivered_to_the_server(tmp_path, smtp_server):
    inbox, port = smtp_server
    settings = settings_for(tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)

    await Mailer(settings).send(["a@example.com", "b@example.com"], "Hello", "Body text")

    [(sender, recipients, message)] = inbox.received
    assert sender == "no-reply@cers.test"
    assert recipients == ["a@example.com", "b@example.com"]
    assert message["Subject"] == "Hello"
    assert message.get_content().strip() == "Body text"
    assert read_mail_drop(tmp_path / "mail") == []


async def test_smtp_login_uses_the_configured_credentials(tmp_path, smtp_server):
    inbox, port = smtp_server
    settings = settings_for(
        tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        smtp_username="mailer",
        smtp_password="s3cret-s3cret",
    )

    await Mailer(settings).send("a@example.com", "Hello", "Body")

    assert inbox.logins == [("mailer", "s3cret-s3cret")]
    assert len(inbox.received) == 1



async def test_an_unreachable_smtp_server_raises_and_says_where_it_tried(tmp_path, caplog):
    settings = settings_for(
        tmp_path, smtp_host="127.0.0.1", smtp_port=_free_port(), smtp_starttls=False
    )

    with pytest.raises(OSError):
        await Mailer(settings, timeout=5).send("a@example.com", "Hello", "Body")

    assert any("SMTP_HOST" in r.getMessage() for r in caplog.records)
    assert read_mail_drop(tmp_path / "mail") == []
