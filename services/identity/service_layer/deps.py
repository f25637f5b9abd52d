"""What every identity use case needs, wired once (the bootstrap of cosmicpython)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from common.db import Database
from services.identity.domain.lockout import Clock, LockoutPolicy, utcnow


class MailSender(Protocol):
    async def send(self, to: str, subject: str, text: str, html: str | None = None) -> object: ...


@dataclass
class Deps:
    db: Database
    mailer: MailSender
    public_base_url: str
    lockout: LockoutPolicy = field(default_factory=LockoutPolicy)
    clock: Clock = utcnow

    def link(self, path: str) -> str:
        return f"{self.public_base_url.rstrip('/')}{path}"
