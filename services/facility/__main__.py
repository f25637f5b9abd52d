"""``python -m services.facility [serve|migrate|schema|create-agency|set-jurisdiction|resync|
seed-demo|events]``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from common.logs import configure_logging
from common.settings import Settings, load_settings
from services.facility.service_layer.errors import ServiceError

if TYPE_CHECKING:
    from services.facility.service_layer.agencies import Place
    from services.facility.service_layer.context import Facilities

SCHEMA_FILE = Path(__file__).with_name("schema.graphql")


def serve(settings: Settings) -> int:
    from common.asgi import serve as serve_app
    from common.tracing import configure_tracing
    from services.facility.app import create_app

    configure_tracing("facility")
    serve_app(
        create_app(settings),
        host=settings.bind_host,
        port=settings.port("facility"),
        ops_port=settings.ops_port("facility"),
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
    from services.facility.domain.actors import Actor
    from services.facility.migrate import migrate
    from services.facility.service_layer import agencies

    await migrate(settings.database_url("facility"))
    app = build_facilities(settings)
    try:
        if work == "create-agency":
            return await _create_agency(app, args)
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
        elif work == "events":
            from common.events import admin
            from services.facility.worker import Worker

            bus = Worker(app, settings).bus
            return await admin.run(bus, args.rest, "python -m services.facility")
        elif work == "set-jurisdiction":
            places = _places(args)
            try:
                moved = await agencies.change_jurisdiction(
                    app, args.agency_id, places, Actor.operator("set-jurisdiction")
                )
            except ServiceError as error:
                return _refused(work, error.message)
            except IntegrityError:
                return _refused(work, await _conflict(app, None, places, args.agency_id))
            print(f"jurisdiction of {args.agency_id} set; {len(moved)} facilities reassigned")
        await app.send_mail()
    finally:
        await app.db.dispose()
    return 0


def _refused(work: str, reason: str) -> int:
    # One line an operator can act on; the transaction rolled back, so nothing was written.
    print(f"{work}: {reason} Nothing was changed.", file=sys.stderr)
    return 1


async def _create_agency(app: Facilities, args: argparse.Namespace) -> int:
    from services.facility.domain.actors import Actor
    from services.facility.domain.roles import AgencyKind
    from services.facility.service_layer import agencies

    places = _places(args)
    try:
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
            actor=Actor.operator("create-agency"),
        )
    except ServiceError as error:
        return _refused("create-agency", error.message)
    except IntegrityError:
        return _refused("create-agency", await _conflict(app, args.name, places, None))
    await app.send_mail()
    print(
        f"created agency {agency.id} {agency.name!r}; ADMIN {args.admin_email} "
        "(active once that account is activated)"
    )
    return 0


def _places(args: argparse.Namespace) -> list[Place]:
    from services.facility.service_layer.agencies import Place

    return [Place(c) for c in args.county] + [Place(*p.split(":", 1)) for p in args.city]


async def _conflict(
    app: Facilities, name: str | None, places: list[Place], agency_id: str | None
) -> str:
    """Which existing row the unique constraints hit, and the command that resolves it."""
    from sqlalchemy import select
    from sqlmodel import col

    from services.facility.adapters.tables import Agency, Jurisdiction
    from services.facility.domain.counties import counties, county_id
    from services.facility.service_layer.records import city_key

    async with app.db.read() as session:
        if name is not None:
            same = (
                await session.execute(select(Agency).where(col(Agency.name) == name.strip()))
            ).scalar_one_or_none()
            if same is not None:
                return (
                    f"an agency named {same.name!r} already exists (id {same.id}); pick another "
                    "--name, or change that agency's counties and cities with `python -m "
                    f"services.facility set-jurisdiction --agency-id {same.id} --county ...`."
                )
        seen: set[tuple[int, str]] = set()
        for place in places:
            cid = county_id(place.county)
            if cid is None:
                continue
            key = (cid, city_key(place.city))
            county = f"{counties()[cid]} County"
            where = f"{(place.city or '').strip()}, {county}" if key[1] else county
            if key in seen:
                return f"{where} is given twice; list each county or city once."
            seen.add(key)
            owner = (
                await session.execute(
                    select(Agency)
                    .join(Jurisdiction, col(Jurisdiction.agency_id) == col(Agency.id))
                    .where(col(Jurisdiction.county_id) == cid, col(Jurisdiction.city_key) == key[1])
                )
            ).scalar_one_or_none()
            if owner is not None and owner.id != agency_id:
                return (
                    f"{where} is already the jurisdiction of {owner.name!r} (id {owner.id}) and "
                    "a place has one agency; move it first with `python -m services.facility "
                    f"set-jurisdiction --agency-id {owner.id}` listing the places that agency "
                    "keeps, or give this agency cities only (--city County:City)."
                )
    return "the database refused it as a duplicate of an existing agency or place."


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.facility")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the facility service (the default)")
    sub.add_parser("migrate", help="upgrade the database to the newest schema")
    sub.add_parser("schema", help="write schema.graphql")
    sub.add_parser("seed-demo", help="seed the demo data on an empty database")
    sub.add_parser("resync", help="rebuild the account read model from identity's events")
    events = sub.add_parser("events", help="held events: stuck, retry, replay (see --help)")
    events.add_argument("rest", nargs=argparse.REMAINDER)
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
