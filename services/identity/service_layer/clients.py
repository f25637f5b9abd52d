"""OAuth clients: the seeded ones of the embedded run, and creating more from the CLI."""

from __future__ import annotations

import asyncio

from sqlalchemy import delete, select
from sqlmodel import col

from services.identity.adapters.tables import ClientWebOrigin, OAuthClient
from services.identity.domain.clients import STATEWIDE_SCOPE, ClientSpec, normalize_origin
from services.identity.domain.passwords import hash_password
from services.identity.service_layer.deps import Deps

MOBILE_REDIRECTS = (
    "http://127.0.0.1/callback", "http://[::1]/callback", "gov.example.cers:/callback"
)
DEMO_STATE_SECRET = "state-demo-secret"


def standard_clients(public_base_url: str, *, demo: bool) -> list[tuple[ClientSpec, str | None]]:
    """The clients every embedded run has, with their plain secrets (None for public ones)."""
    base = public_base_url.rstrip("/")
    callback, home = f"{base}/auth/callback", (f"{base}/",)
    # The portal is served from the issuer's own origin, so it needs no web origins (CORS).
    clients: list[tuple[ClientSpec, str | None]] = [
        (ClientSpec("business-web", "Business Portal (web)", (callback,), "business",
                    post_logout_redirect_uris=home), None),
        (ClientSpec("regulator-web", "Regulator Portal (web)", (callback,), "regulator",
                    post_logout_redirect_uris=home), None),
        # STATE accounts (made by an operator) redraw agency jurisdictions in the portal.
        (ClientSpec("state-web", "State Portal (web)", (callback,), "state",
                    post_logout_redirect_uris=home), None),
        (ClientSpec("mobile", "CERS mobile app", MOBILE_REDIRECTS, None), None),
    ]
    if demo:
        clients.append((
            ClientSpec("state-demo", "Statewide demo integration", (), None,
                       scopes=(STATEWIDE_SCOPE,), grant_types=("client_credentials",)),
            DEMO_STATE_SECRET,
        ))
    return clients


class InvalidClient(ValueError):
    """A client setting that cannot work; the message says which and why."""


def check_spec(spec: ClientSpec) -> None:
    for origin in spec.web_origins:
        if normalize_origin(origin) != origin:
            suggestion = normalize_origin(origin)
            raise InvalidClient(
                f"web origin {origin!r} is not an origin (scheme://host[:port], lower case, "
                "no path)" + (f"; did you mean {suggestion!r}?" if suggestion else "")
            )
    for uri in (*spec.redirect_uris, *spec.post_logout_redirect_uris):
        if not uri or "#" in uri or any(c.isspace() for c in uri):
            raise InvalidClient(f"{uri!r} cannot be a redirect URI (no spaces, no fragment)")


async def save_client(deps: Deps, spec: ClientSpec, secret: str | None, *, replace: bool) -> bool:
    """Create (or, with ``replace``, overwrite) a client; False when it exists and is kept.

    Raises InvalidClient for settings that could never match a request."""
    check_spec(spec)
    secret_hash = await asyncio.to_thread(hash_password, secret) if secret else None
    async with deps.db.transaction() as session:
        row = await session.get(OAuthClient, spec.client_id)
        if row is not None and not replace:
            return False
        row = row or OAuthClient(client_id=spec.client_id, name=spec.name)
        row.name = spec.name
        row.secret_hash = secret_hash
        row.redirect_uris = " ".join(spec.redirect_uris)
        row.portal = spec.portal
        row.scopes = " ".join(spec.scopes)
        row.grant_types = " ".join(spec.grant_types)
        row.post_logout_redirect_uris = " ".join(spec.post_logout_redirect_uris)
        session.add(row)
        await session.flush()
        await session.execute(
            delete(ClientWebOrigin).where(col(ClientWebOrigin.client_id) == spec.client_id)
        )
        for origin in dict.fromkeys(spec.web_origins):
            session.add(ClientWebOrigin(origin=origin, client_id=spec.client_id))
    return True


async def seed_clients(deps: Deps, *, demo: bool) -> list[str]:
    """Add the standard clients that are missing; returns the ids it created."""
    created = []
    for spec, secret in standard_clients(deps.public_base_url, demo=demo):
        if await save_client(deps, spec, secret, replace=False):
            created.append(spec.client_id)
    return created


async def client_ids(deps: Deps) -> list[str]:
    async with deps.db.read() as session:
        return list(await session.scalars(select(col(OAuthClient.client_id))))

