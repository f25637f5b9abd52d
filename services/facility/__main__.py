"""``python -m services.facility [serve|migrate|schema|create-agency|set-jurisdiction|resync|
seed-demo]``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from common.logs import configure_logging
from common.settings import Settings, load_settings

SCHEMA_FILE = Path(__file__).with_name("schema.graphql")


def serve(settings: Settings) -> int:
    import uvicorn

    from services.facility.app import create_app

    uvicorn.run(
        create_app(settings),
        host=settings.bind_host,
        port=settings.port("facility"),
        log_config=None,
        proxy_headers=False,
    )
    return 0


def schema() -> int:
    from services.facility.graphql.schema import schema as sdl

    SCHEMA_FILE.write_text(sdl.as_str() + "\n")
    print(f"wrote {SCHEMA_FILE}")
    return 0


async def _with_app(settings: Settings, work: str, args: argparse.Namespace) -> int:
    from services.facility.app import build_facilities
    from services.facility.domain.roles import AgencyKind
    from services.facility.migrate import migrate
    from services.facility.service_layer import agencies

    await migrate(settings.database_url("facility"))
    app = build_facilities(settings)
    try:
        if work == "create-agency":
            places = [agencies.Place(c) for c in args.county] + [
                agencies.Place(*p.split(":", 1)) for p in args.city
            ]
            agency = await agencies.create_agency(
                app,
                agencies.NewAgency(
                    name=args.name,
                    kind=AgencyKind(args.kind),
                    places=places,
                    admin_email=args.admin_email,
                    phone=args.phone,
                    email=args.email,
                    address=args.address,
                    website=args.website,
                ),
                actor="operator",
            )
            print(
                f"created agency {agency.id} {agency.name!r}; ADMIN {args.admin_email} "
                "(active once that account is activated)"
            )
        elif work == "seed-demo":
            from services.facility.seed import seed_demo

            print("seeded" if await seed_demo(app) else "database not empty; nothing seeded")
        elif work == "resync":
            from services.facility.worker import (
                DURABLES,
                RESYNC_DURABLES,
                Worker,
                clear_read_model,
            )

            await clear_read_model(app)
            worker = Worker(app, settings)
            for durable in RESYNC_DURABLES:
                await worker.bus.replay(durable)
                print(
                    f"{durable}: will replay {DURABLES[durable]} from the start when the "
                    "service next runs its worker"
                )
            await worker.bus.stop()
        elif work == "set-jurisdiction":
            places = [agencies.Place(c) for c in args.county] + [
                agencies.Place(*p.split(":", 1)) for p in args.city
            ]
            moved = await agencies.change_jurisdiction(app, args.agency_id, places, "operator")
            print(f"jurisdiction of {args.agency_id} set; {len(moved)} facilities reassigned")
        await app.send_mail()
    finally:
        await app.db.dispose()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.facility")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the facility service (the default)")
    sub.add_parser("migrate", help="upgrade the database to the newest schema")
    sub.add_parser("schema", help="write schema.graphql")
    sub.add_parser("seed-demo", help="seed the demo data on an empty database")
    sub.add_parser("resync", help="rebuild the account read model from identity's events")
    jurisdiction = sub.add_parser(
        "set-jurisdiction", help="replace an agency's counties and cities; reassigns facilities"
    )
    jurisdiction.add_argument("--agency-id", required=True)
    jurisdiction.add_argument("--county", action="append", default=[], help="a whole county")
    jurisdiction.add_argument("--city", action="append", default=[], help="County:City")
    agency = sub.add_parser("create-agency", help="create an agency and its first ADMIN")
    agency.add_argument("--name", required=True)
    agency.add_argument("--kind", choices=["CUPA", "PA"], default="CUPA")
    agency.add_argument("--county", action="append", default=[], help="a whole county")
    agency.add_argument("--city", action="append", default=[], help="County:City")
    agency.add_argument("--admin-email", required=True)
    for option in ("--phone", "--email", "--address", "--website"):
        agency.add_argument(option)
    args = parser.parse_args(argv)
    settings = load_settings()
    configure_logging("facility", settings.log_level, settings.log_format)
    command = args.command or "serve"
    if command == "serve":
        return serve(settings)
    if command == "schema":
        return schema()
    if command == "migrate":
        from services.facility.migrate import migrate

        asyncio.run(migrate(settings.database_url("facility")))
        return 0
    if command in ("create-agency", "set-jurisdiction") and not (args.county or args.city):
        parser.error("give at least one --county or --city")
    return asyncio.run(_with_app(settings, command, args))


if __name__ == "__main__":
    sys.exit(main())
