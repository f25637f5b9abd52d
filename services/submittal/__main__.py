"""``python -m services.submittal [serve|schema|resync|reindex|migrate|events]``."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from common.logs import configure_logging
from common.settings import Settings, load_settings

RESYNC_TIMEOUT_SECONDS = 600


def serve() -> None:
    from common.process_memory import lean_process

    lean_process()  # before any thread starts or httpx is imported
    from common.asgi import serve as serve_app
    from common.tracing import configure_tracing
    from services.submittal.app import create_app

    settings = load_settings()
    configure_logging("submittal", settings.log_level, settings.log_format)
    configure_tracing("submittal")
    serve_app(create_app(settings), host=settings.bind_host, port=settings.port("submittal"),
              ops_port=settings.ops_port("submittal"), log_config=None)


def schema() -> None:
    from services.submittal.graphql.schema import schema as sdl

    path = Path(__file__).resolve().parent / "schema.graphql"
    path.write_text(sdl.as_str() + "\n")
    print(f"wrote {path}")


async def resync(settings: Settings) -> None:
    """Rebuild the facility read model from the first FACILITY event."""
    from sqlalchemy import delete

    from common.db import Database
    from services.submittal.adapters.search_tables import SearchFacility, SearchMaterial
    from services.submittal.adapters.tables import (
        FacilityView,
        MembershipView,
        OrganizationView,
        StaffView,
    )
    from services.submittal.worker import FACILITY_DURABLE, build_bus

    db = Database(settings.database_url("submittal"))
    bus = build_bus(db, settings, relay=False)
    # Replay first: it fails (changing nothing) when NATS is unreachable.
    await bus.replay(FACILITY_DURABLE)
    async with db.transaction() as session:
        for table in (FacilityView, MembershipView, OrganizationView, StaffView,
                      SearchFacility, SearchMaterial):
            await session.execute(delete(table))
    await bus.start()
    consumer = bus.consumers[FACILITY_DURABLE]
    try:
        # The consumer reports progress only through these fields; poll them.
        for _ in range(int(RESYNC_TIMEOUT_SECONDS * 2)):
            if consumer.caught_up and not consumer.pending:
                break
            await asyncio.sleep(0.5)  # noqa: ASYNC110
        else:
            raise SystemExit(f"resync did not catch up within {RESYNC_TIMEOUT_SECONDS}s; "
                             "check NATS and the submittal logs, then run it again")
        await reindex(db)
    finally:
        await bus.stop()
        await db.dispose()
    print("read model rebuilt from the FACILITY stream")


async def reindex(db: Any) -> None:
    """Rewrite every facility's search rows from the read model and the elements."""
    from services.submittal.service_layer.search_index import reindex_all

    async with db.transaction() as session:
        count = await reindex_all(session)
    print(f"search reindexed: {count} facilities")


async def reindex_command(settings: Settings) -> None:
    from common.db import Database

    db = Database(settings.database_url("submittal"))
    try:
        await reindex(db)
    finally:
        await db.dispose()


async def events(settings: Settings, argv: list[str]) -> int:
    from common.db import Database
    from common.events import admin
    from services.submittal.migrate import migrate
    from services.submittal.worker import build_bus

    db = Database(settings.database_url("submittal"))
    try:
        await migrate(settings.database_url("submittal"))
        bus = build_bus(db, settings, relay=False)
        return await admin.run(bus, argv, "python -m services.submittal")
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m services.submittal")
    parser.add_argument("command", nargs="?", default="serve",
                        choices=["serve", "schema", "resync", "reindex", "migrate", "events"])
    parser.add_argument("rest", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command
    if command == "events":
        settings = load_settings()
        configure_logging("submittal", settings.log_level, settings.log_format)
        raise SystemExit(asyncio.run(events(settings, args.rest)))
    if command == "serve":
        serve()
    elif command == "schema":
        schema()
    elif command == "resync":
        settings = load_settings()
        configure_logging("submittal", settings.log_level, settings.log_format)
        asyncio.run(resync(settings))
    elif command == "reindex":
        asyncio.run(reindex_command(load_settings()))
    else:
        from services.submittal.migrate import migrate

        asyncio.run(migrate(load_settings().database_url("submittal")))


if __name__ == "__main__":
    main()
