"""The identity service process: GraphQL subgraph, OAuth/OIDC provider, hosted pages, outbox."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.routing import Route

from common.asgi import create_app as create_base_app
from common.db import Database
from common.graphql import graphql_route
from common.mail import Mailer
from common.settings import Settings, load_settings
from services.identity.adapters.tables import User
from services.identity.config import IdentityConfig
from services.identity.domain import passwords
from services.identity.domain.lockout import Clock, utcnow
from services.identity.graphql.schema import schema
from services.identity.metrics import IdentityMetrics
from services.identity.migrate import migrate
from services.identity.oauth.account_pages import AccountPages
from services.identity.oauth.endpoints import Endpoints, LocalVerifier
from services.identity.oauth.keys import KeyStore
from services.identity.oauth.server import IdentityServer
from services.identity.oauth.signin_pages import SignInPages
from services.identity.oauth.throttle import AddressThrottle, RequestThrottle
from services.identity.service_layer.clients import seed_clients
from services.identity.service_layer.deps import Deps, MailSender
from services.identity.service_layer.profile import refuse_closed_accounts
from services.identity.service_layer.seed import seed_demo
from services.identity.worker import create_bus

log = logging.getLogger(__name__)


@dataclass
class Identity:
    """Everything one identity process holds, for tests and the CLI to reach."""

    settings: Settings
    config: IdentityConfig
    deps: Deps
    keys: KeyStore
    server: IdentityServer
    verifier: LocalVerifier


def build(
    settings: Settings, *, mailer: MailSender | None = None, clock: Clock = utcnow
) -> Identity:
    config = IdentityConfig.from_env(settings)
    passwords.configure(config.hash_cost)
    db = Database(settings.database_url("identity"))
    deps = Deps(db, mailer or Mailer(settings), settings.public_base_url, config.lockout, clock)
    keys = KeyStore(config.keys, create=not settings.production)
    issuer = settings.public_base_url.rstrip("/")
    server = IdentityServer(deps, keys, issuer, settings.api_audience)
    verifier = LocalVerifier(keys, issuer=issuer, audience=settings.api_audience)
    return Identity(settings, config, deps, keys, server, verifier)


async def prepare(identity: Identity) -> None:
    """Migrate, add the standard clients and the demo accounts, as settings allow."""
    settings, deps = identity.settings, identity.deps
    if settings.auto_migrate:
        await migrate(settings.database_url("identity"))
    if not settings.production:
        created = await seed_clients(deps, demo=settings.seed_demo)
        if created:
            log.info("created OAuth clients %s", ", ".join(created))
    if settings.seed_demo:
        async with deps.db.read() as session:
            users = await session.scalar(select(func.count()).select_from(User))
        if not users:
            for username, password in await seed_demo(deps):
                print(f"identity demo account: {username} / {password}", flush=True)


def create_app(
    settings: Settings | None = None, *, mailer: MailSender | None = None, clock: Clock = utcnow
) -> Starlette:
    settings = settings or load_settings()
    identity = build(settings, mailer=mailer, clock=clock)
    deps = identity.deps
    bus = create_bus(deps.db, settings)
    signin = SignInPages(
        deps, identity.server,
        AddressThrottle(identity.config.address_attempts_per_minute),
        identity.config.trusted_proxy_hops,
    )
    pages = AccountPages(deps)
    # GraphQL requests come through the gateway: one proxy more than the hosted pages.
    sign_ups = RequestThrottle(
        AddressThrottle(identity.config.registrations_per_hour, window_seconds=3600),
        identity.config.trusted_proxy_hops + 1,
    )
    endpoints = Endpoints(deps, identity.server, identity.keys, identity.verifier)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await prepare(identity)
        await bus.start()
        try:
            yield
        finally:
            await bus.stop()
            await identity.verifier.aclose()
            await deps.db.dispose()

    async def database_ready() -> tuple[bool, Any]:
        await deps.db.ping()
        return True, "ok"

    routes = [
        graphql_route("/graphql", schema, identity.verifier,
                      {"deps": deps, "sign_ups": sign_ups,
                       "read_model_fresh": bus.read_model_fresh},
                      graphiql=not settings.production,
                      admit=refuse_closed_accounts(deps)),
        Route("/authorize", signin.authorize, methods=["GET"]),
        Route("/account/signin/username", signin.username_step, methods=["POST"]),
        Route("/account/signin/password", signin.password_step, methods=["POST"]),
        Route("/account/forgot", pages.forgot, methods=["GET"]),
        Route("/account/forgot/username", pages.forgot_username, methods=["POST"]),
        Route("/account/forgot/password", pages.forgot_password, methods=["POST"]),
        Route("/account/resend-activation", pages.resend_activation, methods=["GET", "POST"]),
        Route("/account/activate", pages.activate, methods=["GET", "POST"]),
        Route("/account/reset", pages.reset, methods=["GET", "POST"]),
        Route("/account/confirm-email", pages.confirm_email, methods=["GET", "POST"]),
        *endpoints.routes(),
    ]
    app = create_base_app(
        "identity", routes=routes, lifespan=lifespan,
        readiness={"database": database_ready, "events": bus.readiness},
    )
    app.state.identity = identity
    app.state.bus = bus
    bus.register_metrics(app.state.metrics.registry, app.state.metrics.refreshers)
    signin.metrics = IdentityMetrics(app.state.metrics.registry, deps.db, identity.keys,
                                     identity.config.signing_key_max_age)
    app.state.metrics.refreshers.append(signin.metrics.refresh_keys)
    return app
