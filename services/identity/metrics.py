"""identity's own metrics: sign-in outcomes, lockouts, and the age of the signing keys.

A PEM key has no date, so a key's age counts from the first time any identity process loaded
it (``signing_keys_seen``); ``IDENTITY_SIGNING_KEY_MAX_AGE_DAYS`` later it is due for rotation.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from common.db import Database
from services.identity.adapters.tables import SigningKeySeen
from services.identity.oauth.keys import KeyStore


class IdentityMetrics:
    def __init__(self, registry: CollectorRegistry, db: Database, keys: KeyStore,
                 max_key_age: timedelta) -> None:
        self.db = db
        self.keys = keys
        self.max_key_age = max_key_age
        self.signins = Counter(
            "identity_signin_attempts", "Password sign-in attempts at the hosted page, by outcome "
            "(ok, invalid, locked, not_activated, wrong_portal, throttled)", ["outcome"],
            registry=registry,
        )
        self.lockouts = Counter(
            "identity_account_lockouts", "Accounts locked after too many wrong passwords",
            registry=registry,
        )
        self.key_age = Gauge(
            "identity_signing_key_age_seconds",
            "Seconds since identity first loaded the signing key (key: current or previous)",
            ["key", "kid"], registry=registry,
        )
        self.key_expiry = Gauge(
            "identity_signing_key_expiry_timestamp_seconds",
            "When the key is due for rotation: first loaded + IDENTITY_SIGNING_KEY_MAX_AGE_DAYS",
            ["key", "kid"], registry=registry,
        )

    def signin(self, outcome: str, *, locked_now: bool = False) -> None:
        self.signins.labels(outcome).inc()
        if locked_now:
            self.lockouts.inc()

    async def refresh_keys(self) -> None:
        """Record keys seen for the first time and set the age gauges (before each scrape)."""
        kids = {name: kid for name, kid in self.keys.kids().items() if kid}
        now = datetime.now(UTC)
        seen = await self._first_seen(set(kids.values()), now)
        self.key_age.clear()
        self.key_expiry.clear()
        for name, kid in kids.items():
            first = seen[kid]
            self.key_age.labels(name, kid).set((now - first).total_seconds())
            self.key_expiry.labels(name, kid).set((first + self.max_key_age).timestamp())

    async def _first_seen(self, kids: set[str], now: datetime) -> dict[str, datetime]:
        table = SigningKeySeen.__table__  # type: ignore[attr-defined]
        query = select(col(SigningKeySeen.kid), col(SigningKeySeen.first_seen_at)).where(
            col(SigningKeySeen.kid).in_(sorted(kids))
        )
        async with self.db.read() as session:
            seen = {kid: at for kid, at in (await session.execute(query)).all()}
        missing = kids - set(seen)
        if missing:
            async with self.db.transaction() as session:
                insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql"
                          else sqlite.insert)
                await session.execute(
                    insert(table).on_conflict_do_nothing(index_elements=["kid"]),
                    [{"kid": kid, "first_seen_at": now} for kid in sorted(missing)],
                )
            async with self.db.read() as session:
                seen = {kid: at for kid, at in (await session.execute(query)).all()}
        return {kid: at if at.tzinfo else at.replace(tzinfo=UTC) for kid, at in seen.items()}
