from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import func, select

from common.contracts import facility as contract
from common.events import Envelope, ensure_streams
from common.natsserver import NatsServerProcess
from common.settings import load_settings
from services.submittal.adapters.tables import EVENTS
from services.submittal.app import create_app
from services.submittal.worker import FACILITY_DURABLE

ISSUER = "http://cers.test"
AUDIENCE = "cers-api"


class Keys:
    """A test RSA signing key whose JWKS a loopback HTTP server publishes."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig"})
        jwks = json.dumps({"keys": [self.key.as_dict(private=False)]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(jwks)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def mint(self, sub: str, portal: str | None = "business", scope: str = "openid profile",
             **claims: Any) -> str:
        now = int(time.time())
        payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "scope": scope,
                   "client_id": "portal", "iat": now, "exp": now + 900,
                   "jti": uuid.uuid4().hex, **claims}
        if portal is not None:
            payload["portal"] = portal
        header = {"alg": "RS256", "typ": "at+jwt", "kid": "test-key"}
        return jwt.encode(header, payload, self.key)


@pytest.fixture(scope="session")
def keys() -> Iterator[Keys]:
    keys = Keys()
    yield keys
    keys.server.shutdown()
    keys.server.server_close()


async def eventually(check: Any, within: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {within}s")
        await asyncio.sleep(0.05)


@dataclass
class Harness:
    app: Any
    client: httpx.AsyncClient
    keys: Keys
    js: Any
    data_dir: Path
    settings: Any
    sequences: dict[str, int] = field(default_factory=dict)
    last_event: str | None = None

    @property
    def deps(self) -> Any:
        return self.app.state.deps

    def token(self, user: str, portal: str | None = "business", **claims: Any) -> str:
        return self.keys.mint(user, portal, **claims)

    async def gql(self, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post("/graphql", json={"query": query,
                                                             "variables": variables},
                                           headers=headers)
        body: dict[str, Any] = response.json()
        return body

    async def publish(self, type: str, aggregate_id: str, data: dict[str, Any],
                      envelope: Envelope | None = None, msg_id: str | None = None,
                      actor: str | None = "facility-test") -> Envelope:
        if envelope is None:
            sequence = self.sequences.get(aggregate_id, 0) + 1
            self.sequences[aggregate_id] = sequence
            envelope = Envelope(type=type, aggregate_id=aggregate_id, sequence=sequence,
                                data=data, actor=actor)
        # A generous ack timeout: on a saturated machine JetStream's ack can take seconds,
        # and the message id makes a retried publish harmless anyway.
        await self.js.publish(envelope.type, envelope.to_json(), timeout=30,
                              headers={"Nats-Msg-Id": msg_id or envelope.id})
        self.last_event = envelope.id
        return envelope

    async def applied(self, event_id: str) -> bool:
        inbox = EVENTS.inbox
        async with self.deps.db.read() as session:
            count = await session.execute(select(func.count()).select_from(inbox).where(
                inbox.c.consumer == FACILITY_DURABLE, inbox.c.event_id == event_id))
            return bool(count.scalar_one())

    async def settle(self) -> None:
        """Wait until the last published facility event is in the read model."""
        if self.last_event is not None:
            last = self.last_event
            await eventually(lambda: self.applied(last), what=f"event {last} applied")

    async def business(self, name: str = "Acme Fuel") -> str:
        org = str(uuid.uuid4())
        await self.publish(contract.ORGANIZATION_CREATED, org, contract.OrganizationCreated(
            organization_id=org, name=name, org_code=12345678).model_dump(mode="json"))
        return org

    async def facility(self, org: str, agency: str | None, name: str = "Acme Fuel #1",
                       facility_id: str | None = None, *, demo: bool = False,
                       created_by: str = "facility-test", **record: Any) -> str:
        facility_id = facility_id or str(uuid.uuid4())
        await self.publish(contract.FACILITY_CREATED, facility_id, contract.FacilityCreated(
            facility=snapshot(facility_id, org, agency, name, **record), demo=demo,
        ).model_dump(mode="json"), actor=created_by)
        return facility_id

    async def member(self, org: str, user: str, role: str) -> None:
        await self.publish(contract.MEMBERSHIP_GRANTED, f"{org}:{user}", contract.MembershipGranted(
            organization_id=org, user_id=user, role=role).model_dump(mode="json"))

    async def staff(self, agency: str, user: str, role: str) -> None:
        await self.publish(contract.STAFF_GRANTED, f"{agency}:{user}", contract.StaffGranted(
            agency_id=agency, user_id=user, role=role).model_dump(mode="json"))


def snapshot(facility_id: str, org: str, agency: str | None, name: str = "Acme Fuel #1",
             **record: Any) -> contract.Facility:
    """A facility as the facility service publishes it (common/contracts/facility.py)."""
    values: dict[str, Any] = {
        "name": name, "county": "Plumas", "city": "Quincy",
        "site_address": {"street": "1 Main St", "city": "Quincy", "zip": "95971"},
        "mailing_address": {"street": "PO Box 1", "city": "Quincy", "state": "CA",
                            "zip": "95971"},
        "contacts": {"environmental": {"name": "Erin Env", "phone": "530-555-0101",
                                       "phone24h": "530-555-0102"},
                     "primary_emergency": None, "secondary_emergency": None, "billing": None},
        "owner_operator": {"owner_name": "Acme LLC", "operator_name": "Acme Ops"},
        **record,
    }
    return contract.Facility(
        facility_id=facility_id, cers_id=10000001, organization_id=org, agency_id=agency,
        county_id=32, annual_due_date=dt.date(2027, 3, 1),
        record=contract.FacilityRecord(**values))


@pytest.fixture
async def harness(
    database_url: str, private_nats_server: NatsServerProcess, keys: Keys, tmp_path: Path,
) -> AsyncIterator[Harness]:
    base = load_settings()
    settings = replace(
        base, data_dir=tmp_path, database_urls={**base.database_urls, "submittal": database_url},
        nats_url=private_nats_server.url, jwks_url=keys.url, public_base_url=ISSUER,
        api_audience=AUDIENCE, auto_migrate=True, demo=False, outbox_poll_seconds=0.05,
    )
    app = create_app(settings, bus_options={
        "fetch_timeout": 0.2, "reconnect_seconds": 0.1, "backoff_max": 0.3})
    nc = await nats.connect(private_nats_server.url)
    js = nc.jetstream()
    await ensure_streams(js)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://submittal") as client:
            yield Harness(app=app, client=client, keys=keys, js=js, data_dir=tmp_path,
                          settings=settings)
        await cancel_bus_tasks(app.state.bus)
    await nc.close()


async def cancel_bus_tasks(bus: Any) -> None:
    """Cancel the bus's tasks until they are really done.

    Python 3.11's asyncio.wait_for can swallow a cancellation that lands while its timeout
    fires (gh-86296); the relay's wakeable sleep uses it, so one cancel may not stop the relay
    and EventBus.stop() would then wait forever.
    """
    for _ in range(100):
        tasks = [task for task in bus._tasks.values() if not task.done()]
        if not tasks:
            return
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks, timeout=0.1)


@dataclass
class World:
    """One business with a facility in one agency's county, its people, and another of each."""

    h: Harness
    org: str
    agency: str
    facility: str
    other_org: str
    other_agency: str
    other_facility: str

    def t(self, user: str) -> str:
        portal = "regulator" if user.startswith(("inspector", "approver-reg", "viewer-reg",
                                                 "other-inspector")) else "business"
        return self.h.token(user, portal)


@pytest.fixture
async def world(harness: Harness) -> World:
    h = harness
    org = await h.business("Acme Fuel")
    other_org = await h.business("Other Co")
    agency, other_agency = str(uuid.uuid4()), str(uuid.uuid4())
    facility = await h.facility(org, agency)
    other_facility = await h.facility(other_org, other_agency, name="Other Site")
    for user, role in (("viewer", "VIEWER"), ("editor", "EDITOR"), ("approver", "APPROVER"),
                       ("lead", "LEAD_USER")):
        await h.member(org, user, role)
    await h.member(other_org, "outsider", "LEAD_USER")
    await h.staff(agency, "inspector", "INSPECTOR")
    await h.staff(agency, "approver-reg", "APPROVER")
    await h.staff(agency, "viewer-reg", "VIEWER")
    await h.staff(other_agency, "other-inspector", "INSPECTOR")
    await h.settle()
    return World(h, org, agency, facility, other_org, other_agency, other_facility)
