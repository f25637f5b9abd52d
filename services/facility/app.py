"""The facility service's ASGI app: GraphQL subgraph, health, and its event worker."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client import Gauge
from starlette.applications import Starlette

from common.asgi import create_app as create_base_app
from common.auth import JWKSVerifier
from common.closed_accounts import refuse_closed
from common.db import Database
from common.graphql import graphql_route
from common.graphql_live import subscription_route
from common.mail import Mailer
from common.settings import Settings, load_settings
from services.facility.adapters.tables import CLOSED_ACCOUNTS
from services.facility.graphql.schema import schema
from services.facility.live import LiveFacilities
from services.facility.migrate import migrate
from services.facility.service_layer.access import GRANTS
from services.facility.service_layer.context import Facilities

log = logging.getLogger(__name__)


def build_facilities(settings: Settings) -> Facilities:
    return Facilities(
        db=Database(settings.database_url("facility")),
        mailer=Mailer(settings),
        public_base_url=settings.public_base_url,
        demo=settings.seed_demo,
    )


def graphql_app(
    facilities: Facilities, verifier: JWKSVerifier, *, graphiql: bool = False
) -> Starlette:
    """Just the subgraph, for tests and embedding: POST /graphql."""
    route = graphql_route(
        "/graphql",
        schema,
        verifier,
        context_extra={"app": facilities},
        graphiql=graphiql,
        admit=refuse_closed(facilities.db, CLOSED_ACCOUNTS, GRANTS),
    )
    return Starlette(routes=[route])


def create_app(settings: Settings | None = None) -> Starlette:
    from services.facility.worker import Worker

    settings = settings or load_settings()
    facilities = build_facilities(settings)
    verifier = JWKSVerifier(
        settings.jwks_url, issuer=settings.public_base_url, audience=settings.api_audience
    )
    worker = Worker(facilities, settings)
    facilities.read_model_fresh = worker.bus.read_model_fresh
    live = LiveFacilities(facilities, worker.bus.connection)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if settings.auto_migrate:
            await migrate(settings.database_url("facility"))
        if settings.seed_demo:
            from services.facility.seed import seed_demo

            await seed_demo(facilities)
        await worker.start()
        live.start()
        try:
            yield
        finally:
            await live.stop()
            await worker.stop()
            await verifier.aclose()
            await facilities.db.dispose()

    async def database_ready() -> tuple[bool, str]:
        await facilities.db.ping()
        return True, "ok"

    extra = {"app": facilities, "bus": worker.bus, "live": live}
    route = graphql_route(
        "/graphql",
        schema,
        verifier,
        context_extra=extra,
        graphiql=not settings.production,
        admit=refuse_closed(facilities.db, CLOSED_ACCOUNTS, GRANTS),
    )
    subscriptions = subscription_route("/graphql", schema, verifier, extra,
                                       admit=refuse_closed(facilities.db, CLOSED_ACCOUNTS))
    app = create_base_app(
        "facility",
        routes=[route, subscriptions],
        readiness={"database": database_ready, "events": worker.bus.readiness},
        lifespan=lifespan,
    )
    worker.bus.register_metrics(app.state.metrics.registry, app.state.metrics.refreshers)
    Gauge("facility_live_subscriptions", "Subscriptions running in this process",
          registry=app.state.metrics.registry).set_function(lambda: len(live.watchers))
    app.state.live = live
    return app
