"""The submittal service's ASGI app: GraphQL subgraph, documents, health and its event worker."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import Gauge
from starlette.applications import Starlette

from common.asgi import create_app as create_base_app
from common.auth import JWKSVerifier
from common.closed_accounts import refuse_closed
from common.db import Database
from common.graphql import graphql_route
from common.graphql_live import shared_counts, subscription_route
from common.settings import Settings, load_settings
from services.submittal.adapters.storage import FolderStorage
from services.submittal.adapters.tables import CLOSED_ACCOUNTS
from services.submittal.documents import document_routes
from services.submittal.exports import export_routes
from services.submittal.graphql.schema import schema
from services.submittal.live import LiveSubmittals
from services.submittal.service_layer.access import GRANTS
from services.submittal.service_layer.deps import Deps
from services.submittal.worker import build_bus

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None, *, bus_options: dict[str, Any] | None = None
) -> Starlette:
    """The service; ``bus_options`` tune the EventBus (tests shorten its waits)."""
    settings = settings or load_settings()
    db = Database(settings.database_url("submittal"))
    storage = FolderStorage(settings.data_dir / "documents")
    hook = None
    if settings.seed_demo:
        from services.submittal.seed import seed_facility

        hook = seed_facility
    bus = build_bus(db, settings, hook, **(bus_options or {}))
    deps = Deps(db=db, fresh=bus.read_model_fresh, storage=storage)
    live = LiveSubmittals(deps, bus.connection)
    verifier = JWKSVerifier(
        settings.jwks_url, issuer=settings.public_base_url, audience=settings.api_audience
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if settings.auto_migrate:
            # Imported only here: Alembic is ~10 MB resident, and production migrates in a
            # step of its own (AUTO_MIGRATE=0).
            from services.submittal.migrate import migrate

            await migrate(settings.database_url("submittal"))
        await bus.start()
        live.start()
        try:
            yield
        finally:
            await live.stop()
            await bus.stop()
            await verifier.aclose()
            await db.dispose()

    async def database_ready() -> tuple[bool, str]:
        await db.ping()
        return True, "ok"

    extra = {"deps": deps, "bus": bus, "live": live}
    graphql = graphql_route("/graphql", schema, verifier, extra,
                            graphiql=not settings.production,
                            admit=refuse_closed(db, CLOSED_ACCOUNTS, GRANTS))
    subscriptions = subscription_route("/graphql", schema, verifier, extra,
                                       admit=refuse_closed(db, CLOSED_ACCOUNTS))
    app = create_base_app(
        "submittal",
        routes=[graphql, subscriptions, *document_routes(deps, verifier),
                *export_routes(deps, verifier)],
        readiness={"database": database_ready, "events": bus.readiness},
        lifespan=lifespan,
    )
    app.state.deps = deps
    app.state.bus = bus
    app.state.live = live
    bus.register_metrics(app.state.metrics.registry, app.state.metrics.refreshers)
    Gauge("submittal_live_subscriptions", "Subscriptions running in this process",
          registry=app.state.metrics.registry).set_function(lambda: len(live.watchers))
    Gauge("submittal_live_event_executions", "Subscription events executed, once per "
          "operation, variables and audience", registry=app.state.metrics.registry
          ).set_function(lambda: shared_counts.executed)
    Gauge("submittal_live_event_results_shared", "Subscription event results handed on from "
          "an execution for the same audience", registry=app.state.metrics.registry
          ).set_function(lambda: shared_counts.shared)
    return app
