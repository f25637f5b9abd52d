"""Demo data for the embedded run: two activated accounts other services can link to."""

from __future__ import annotations

from services.identity.service_layer.seed import DEMO_ACCOUNTS, seed_demo

__all__ = ["DEMO_ACCOUNTS", "describe_demo_accounts", "seed_demo"]


def describe_demo_accounts() -> list[str]:
    """One line per demo account, for the runner's banner."""
    return [
        f"{reg.portal:<9} {reg.username} / {reg.password}" for reg in DEMO_ACCOUNTS
    ]
