"""``python -m services.identity [serve|migrate|schema|create-client|create-state-account|
rotate-keys|seed-demo|resync|events]``."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path

from common.db import Database
from common.logs import configure_logging
from common.mail import Mailer
from common.settings import Settings, load_settings
from services.identity.config import IdentityConfig
from services.identity.domain import passwords
from services.identity.domain.clients import PEOPLE_SCOPES, ClientSpec
from services.identity.migrate import migrate
from services.identity.oauth.keys import rotate
from services.identity.service_layer.accounts import Registration
from services.identity.service_layer.clients import InvalidClient, check_spec, save_client
from services.identity.service_layer.deps import Deps

SCHEMA_FILE = Path(__file__).with_name("schema.graphql")
RESYNC_TIMEOUT_SECONDS = 600


def _deps(settings: Settings) -> Deps:
    config = IdentityConfig.from_env(settings)
    passwords.configure(config.hash_cost)
    return Deps(Database(settings.database_url("identity")), Mailer(settings),
                settings.public_base_url, config.lockout)


def serve(settings: Settings) -> int:
    from common.asgi import serve as serve_app
    from common.tracing import configure_tracing
    from services.identity.app import create_app

    configure_tracing("identity")
    serve_app(
        create_app(settings), host=settings.bind_host, port=settings.port("identity"),
        ops_port=settings.ops_port("identity"), log_config=None, proxy_headers=False,
    )
    return 0


def schema() -> int:
    from services.identity.graphql.schema import schema as sdl_schema

    SCHEMA_FILE.write_text(sdl_schema.as_str() + "\n")
    print(f"wrote {SCHEMA_FILE}")
    return 0


async def create_client(settings: Settings, args: argparse.Namespace) -> int:
    secret = args.secret
    if args.confidential and not secret:
        secret = secrets.token_urlsafe(32)
    spec = ClientSpec(
        client_id=args.client_id, name=args.name or args.client_id,
        redirect_uris=tuple(args.redirect_uri), portal=args.portal,
        scopes=tuple(args.scope or (["statewide:read"] if secret and not args.redirect_uri
                                    else list(PEOPLE_SCOPES))),
        grant_types=tuple(args.grant or (["client_credentials"] if secret and not args.redirect_uri
                                         else ["authorization_code", "refresh_token"])),
        post_logout_redirect_uris=tuple(args.post_logout_redirect_uri),
        web_origins=tuple(args.web_origin),
    )
    try:
        check_spec(spec)
    except InvalidClient as exc:
        print(f"client {spec.client_id} not saved: {exc}", file=sys.stderr)
        return 1
    deps = _deps(settings)
    try:
        if settings.auto_migrate:
            await migrate(settings.database_url("identity"))
        saved = await save_client(deps, spec, secret, replace=args.replace)
    finally:
        await deps.db.dispose()
    if not saved:
        print(f"client {spec.client_id} exists; pass --replace to overwrite it", file=sys.stderr)
        return 1
    print(f"client {spec.client_id}: grants {' '.join(spec.grant_types)}; "
          f"scopes {' '.join(spec.scopes)}")
    if secret and not args.secret:
        print(f"client secret (shown once): {secret}")
    return 0


async def create_state_account(settings: Settings, args: argparse.Namespace) -> int:
    from services.identity.service_layer.seed import create_active_account

    password = os.environ.get("IDENTITY_NEW_PASSWORD") or getpass.getpass("Password: ")
    deps = _deps(settings)
    try:
        if settings.auto_migrate:
            await migrate(settings.database_url("identity"))
        result = await create_active_account(deps, Registration(
            portal="state", username=args.username, email=args.email, password=password,
            first_name=args.first_name, last_name=args.last_name, title=args.title,
        ))
    finally:
        await deps.db.dispose()
    if not result.ok or result.user is None:
        for problem in result.problems:
            print(f"{problem.field}: {problem.message} ({problem.code})", file=sys.stderr)
        return 1
    print(f"STATE account {args.username} created and active (id {result.user.id})")
    return 0


async def seed_demo_command(settings: Settings) -> int:
    from services.identity.demo import seed_demo

    deps = _deps(settings)
    try:
        await migrate(settings.database_url("identity"))
        for username, password in await seed_demo(deps):
            print(f"identity demo account: {username} / {password}")
    finally:
        await deps.db.dispose()
    return 0


async def resync(settings: Settings) -> int:
    """Rebuild the relationship read model from the first FACILITY event."""
    from sqlalchemy import delete

    from services.identity.adapters.read_model import READ_MODEL_TABLES
    from services.identity.worker import FACILITY_DURABLE, create_bus

    db = Database(settings.database_url("identity"))
    bus = create_bus(db, settings, relay=False)
    try:
        # Replay first: it fails (changing nothing) when NATS is unreachable.
        await bus.replay(FACILITY_DURABLE)
        async with db.transaction() as session:
            for table in READ_MODEL_TABLES:
                await session.execute(delete(table))
        await bus.start()
        consumer = bus.consumers[FACILITY_DURABLE]
        for _ in range(RESYNC_TIMEOUT_SECONDS * 2):
            if consumer.caught_up and not consumer.pending:
                break
            await asyncio.sleep(0.5)  # noqa: ASYNC110 - the consumer reports only by fields
        else:
            print(f"resync did not catch up within {RESYNC_TIMEOUT_SECONDS}s; check NATS and "
                  "the identity logs, then run it again", file=sys.stderr)
            return 1
    except ConnectionError as exc:
        print(f"resync changed nothing: {exc}", file=sys.stderr)
        return 1
    finally:
        await bus.stop()
        await db.dispose()
    print("relationship read model rebuilt from the FACILITY stream")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m services.identity")
    sub = p.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the HTTP service (default)")
    sub.add_parser("migrate", help="upgrade the database to the newest schema")
    sub.add_parser("schema", help=f"write the subgraph SDL to {SCHEMA_FILE.name}")
    sub.add_parser("rotate-keys", help="make the signing key the previous one; add a new one")
    sub.add_parser("seed-demo", help="create the demo accounts that are missing")
    sub.add_parser("resync", help="rebuild the read model of facility's events (who may read "
                                  "whose name) from the FACILITY stream")
    c = sub.add_parser("create-client", help="register an OAuth client")
    c.add_argument("client_id")
    c.add_argument("--name")
    c.add_argument("--redirect-uri", action="append", default=[],
                   help="where authorization answers go (repeat); matched exactly, loopback "
                        "URIs on any port (RFC 8252)")
    c.add_argument("--post-logout-redirect-uri", action="append", default=[],
                   help="where /logout may return to (repeat); default: the redirect URIs "
                        "and the portal's root")
    c.add_argument("--web-origin", action="append", default=[],
                   help="browser origin (scheme://host[:port]) allowed to call /token, "
                        "/userinfo and /revoke for this client (repeat)")
    c.add_argument("--portal", choices=["business", "regulator"],
                   help="fixed portal; omit for a client that passes portal= itself")
    c.add_argument("--scope", action="append", help="allowed scope (repeat)")
    c.add_argument("--grant", action="append",
                   choices=["authorization_code", "refresh_token", "client_credentials"])
    c.add_argument("--confidential", action="store_true", help="generate a secret")
    c.add_argument("--secret", help="use this secret (confidential client)")
    c.add_argument("--replace", action="store_true")
    s = sub.add_parser("create-state-account",
                       help="create an active STATE account (password from "
                            "IDENTITY_NEW_PASSWORD or a prompt)")
    s.add_argument("--username", required=True)
    s.add_argument("--email", required=True)
    s.add_argument("--first-name", required=True)
    s.add_argument("--last-name", required=True)
    s.add_argument("--title")
    e = sub.add_parser("events", help="held events: stuck, retry, replay (see --help)")
    e.add_argument("rest", nargs=argparse.REMAINDER)
    return p


async def events_command(settings: Settings, argv: list[str]) -> int:
    from common.events import admin
    from services.identity.worker import create_bus

    db = Database(settings.database_url("identity"))
    try:
        await migrate(settings.database_url("identity"))
        return await admin.run(create_bus(db, settings), argv, "python -m services.identity")
    finally:
        await db.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = load_settings()
    configure_logging("identity", settings.log_level, settings.log_format)
    command = args.command or "serve"
    if command == "serve":
        return serve(settings)
    if command == "schema":
        return schema()
    if command == "migrate":
        asyncio.run(migrate(settings.database_url("identity")))
        return 0
    if command == "rotate-keys":
        kid = rotate(IdentityConfig.from_env(settings).keys)
        print(f"new signing key {kid}; the previous key stays published for verification")
        return 0
    if command == "seed-demo":
        return asyncio.run(seed_demo_command(settings))
    if command == "resync":
        return asyncio.run(resync(settings))
    if command == "create-client":
        return asyncio.run(create_client(settings, args))
    if command == "events":
        return asyncio.run(events_command(settings, args.rest))
    return asyncio.run(create_state_account(settings, args))


if __name__ == "__main__":
    sys.exit(main())
