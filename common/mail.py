"""Outgoing email: SMTP when configured, else RFC 5322 ``.eml`` files in a mail drop folder.

The drop lets the embedded run, tests and journeys read activation and reset links without
a mail server; ``read_mail_drop`` returns what was sent, oldest first.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

import aiosmtplib

from common.settings import Settings

log = logging.getLogger(__name__)

_SMTPS_PORT = 465


class Mailer:
    """Sends email as settings say: via SMTP when ``smtp_host`` is set, else into the drop."""

    def __init__(self, settings: Settings, *, timeout: float = 30.0) -> None:
        self.settings = settings
        self.timeout = timeout

    def build(
        self, to: str | list[str], subject: str, text: str, html: str | None = None
    ) -> EmailMessage:
        recipients = [to] if isinstance(to, str) else list(to)
        if not recipients:
            raise ValueError("an email needs at least one recipient")
        message = EmailMessage()
        message["From"] = self.settings.mail_from
        message["To"] = ", ".join(recipients)
        message["Subject"] = subject
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = make_msgid(domain=_domain(self.settings.mail_from))
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
        return message

    async def send(
        self, to: str | list[str], subject: str, text: str, html: str | None = None
    ) -> EmailMessage:
        """Send one email (plain text, plus an HTML alternative when given); returns it."""
        message = self.build(to, subject, text, html)
        if self.settings.smtp_host:
            await self._send_smtp(message)
        else:
            path = await asyncio.to_thread(_drop, self.settings.mail_dir, message)
            log.info(
                "mail written to %s for %s: %s", path, message["To"], subject,
                extra={"mail_path": str(path)},
            )
        return message

    async def _send_smtp(self, message: EmailMessage) -> None:
        s = self.settings
        implicit_tls = s.smtp_port == _SMTPS_PORT
        try:
            await aiosmtplib.send(
                message,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username or None,
                password=s.smtp_password or None,
                use_tls=implicit_tls,
                start_tls=s.smtp_starttls and not implicit_tls,
                timeout=self.timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.error(
                "cannot send mail via %s:%s (STARTTLS %s, login %s) to %s: %s; "
                "check SMTP_HOST, SMTP_PORT, SMTP_STARTTLS and the credentials",
                s.smtp_host, s.smtp_port, "on" if s.smtp_starttls else "off",
                "set" if s.smtp_username else "none", message["To"], exc,
            )
            raise
        log.info(
            "mail sent via %s:%s to %s: %s", s.smtp_host, s.smtp_port, message["To"],
            message["Subject"],
        )


def _domain(address: str) -> str:
    _, addr = parseaddr(address)
    return addr.rpartition("@")[2] or "localhost"


def _drop(mail_dir: Path, message: EmailMessage) -> Path:
    mail_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = mail_dir / f"{stamp}-{uuid.uuid4().hex}.eml"
    # Write then rename, so a reader polling the drop never sees half a message.
    partial = path.with_suffix(".tmp")
    partial.write_bytes(message.as_bytes(policy=policy.SMTP))
    os.replace(partial, path)
    return path


def read_mail_drop(mail_dir: Path | str) -> list[EmailMessage]:
    """Every message in the drop folder, oldest first (empty when the folder is missing)."""
    folder = Path(mail_dir)
    if not folder.is_dir():
        return []
    parser = BytesParser(policy=policy.default)
    messages: list[EmailMessage] = []
    for path in sorted(folder.glob("*.eml")):
        with path.open("rb") as handle:
            parsed = parser.parse(handle)
        assert isinstance(parsed, EmailMessage)
        messages.append(parsed)
    return messages
