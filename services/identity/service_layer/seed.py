"""Operator-made accounts: STATE accounts from the CLI, and the demo accounts.

They are registered and activated at once (their registered and activated events go out like
any others, so facility can link them), since an operator vouches for the address.
"""

from __future__ import annotations

import logging

from services.identity.adapters import repository as repo
from services.identity.domain.tokens import EmailTokenPurpose
from services.identity.service_layer import accounts
from services.identity.service_layer.accounts import Registration, Result, issue_token
from services.identity.service_layer.deps import Deps

log = logging.getLogger(__name__)

DEMO_ACCOUNTS = (
    Registration(
        portal="business", username="demo.business", email="demo.business@example.com",
        password="Demo-Business-2026!", first_name="Dana", last_name="Business",
        title="Environmental Manager", phone="(530) 555-0100",
    ),
    Registration(
        portal="regulator", username="demo.plumas", email="demo.plumas@example.com",
        password="Demo-Plumas-2026!", first_name="Pat", last_name="Plumas",
        title="Environmental Health Specialist", phone="(530) 555-0150",
    ),
)


class _Quiet:
    """Swallows the activation email of an account that is activated on the spot."""

    async def send(self, to: str, subject: str, text: str, html: str | None = None) -> object:
        return None


async def create_active_account(deps: Deps, reg: Registration) -> Result:
    quiet = Deps(deps.db, _Quiet(), deps.public_base_url, deps.lockout, deps.clock)
    result = await accounts.register(quiet, reg, allow_state=True)
    if not result.ok or result.user is None:
        return result
    # Redeem the activation token the registration issued, through the normal path.
    secret = await _fresh_activation_secret(deps, result.user.id)
    return await accounts.activate(deps, secret)


async def _fresh_activation_secret(deps: Deps, user_id: str) -> str:
    async with deps.db.transaction() as session:
        user = await repo.user_by_id(session, user_id)
        assert user is not None
        return await issue_token(session, deps, user, EmailTokenPurpose.ACTIVATION)


async def seed_demo(deps: Deps) -> list[tuple[str, str]]:
    """Create the demo accounts that are missing; returns (username, password) created."""
    created = []
    for reg in DEMO_ACCOUNTS:
        async with deps.db.read() as session:
            if await repo.user_by_username(session, reg.username):
                continue
        result = await create_active_account(deps, reg)
        if result.ok:
            created.append((reg.username, reg.password))
            log.info("demo account %s created (password %s)", reg.username, reg.password)
        else:
            log.error("demo account %s not created: %s", reg.username, result.problems)
    return created

