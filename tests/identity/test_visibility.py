"""Whose account a caller may read, decided from identity's read model of facility's events.

The facility service is played by publishing its events (docs/events/facility.md) to a NATS
server of the test's own; identity consumes them like in production.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from joserfc import jwt
from sqlalchemy import event, func, select

from common.events import Envelope
from common.events.streams import ensure_streams
from common.natsserver import NatsServerProcess
from services.identity.adapters.read_model import READ_MODEL_TABLES
from services.identity.adapters.tables import EVENTS
from services.identity.service_layer.accounts import Registration
from services.identity.service_layer.seed import create_active_account
from services.identity.worker import FACILITY_DURABLE
from tests.identity.conftest import BASE, STRONG, Env, make_settings, open_env

ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on User { id username firstName lastName } } }"""
PEOPLE = ("alice", "ann", "bob", "pat", "paz", "sid", "carl", "stella")


@dataclass
class World:
    env: Env
    js: Any
    ids: dict[str, str] = field(default_factory=dict)
    sequences: dict[str, int] = field(default_factory=dict)
    last: str | None = None
    org_a: str = field(default_factory=lambda: str(uuid.uuid4()))
    org_b: str = field(default_factory=lambda: str(uuid.uuid4()))
    plumas: str = field(default_factory=lambda: str(uuid.uuid4()))
    sierra: str = field(default_factory=lambda: str(uuid.uuid4()))
    yard: str = field(default_factory=lambda: str(uuid.uuid4()))
    mill: str = field(default_factory=lambda: str(uuid.uuid4()))

    async def publish(self, type: str, aggregate_id: str, data: dict[str, Any]) -> None:
        sequence = self.sequences.get(aggregate_id, 0) + 1
        self.sequences[aggregate_id] = sequence
        envelope = Envelope(type=type, aggregate_id=aggregate_id, sequence=sequence, data=data)
        await self.js.publish(type, envelope.to_json(), timeout=30,
                              headers={"Nats-Msg-Id": envelope.id})
        self.last = envelope.id

    async def settle(self) -> None:
        """Wait until identity applied the last published event."""
        inbox, last = EVENTS.inbox, self.last
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            async with self.env.identity.deps.db.read() as session:
                found = await session.scalar(select(func.count()).select_from(inbox).where(
                    inbox.c.consumer == FACILITY_DURABLE, inbox.c.event_id == last))
            if found:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"identity did not apply event {last}")

    async def member(self, org: str, who: str, role: str = "VIEWER") -> None:
        await self.publish("facility.membership.granted", f"{org}:{self.ids[who]}",
                           {"organization_id": org, "user_id": self.ids[who], "role": role})

    async def staff(self, agency: str, who: str, role: str = "INSPECTOR") -> None:
        await self.publish("facility.staff.granted", f"{agency}:{self.ids[who]}",
                           {"agency_id": agency, "user_id": self.ids[who], "role": role})

    def facility(self, facility_id: str, org: str, agency: str | None) -> dict[str, Any]:
        return {"facility_id": facility_id, "cers_id": 10000001, "organization_id": org,
                "agency_id": agency, "county_id": 32, "annual_due_date": "2027-03-01",
                "record": {"name": "Yard", "site_address": {}, "county": "Plumas", "city": None,
                           "mailing_address": {}, "contacts": {}, "owner_operator": {}}}

    def token(self, who: str | None, portal: str | None = "business", scope: str = "openid",
              client_id: str = "business-web") -> str:
        """An RFC 9068 access token signed with identity's own key, as /token would issue."""
        keys = self.env.identity.keys
        now = int(time.time())
        sub = self.ids[who] if who else client_id
        claims: dict[str, Any] = {"iss": BASE, "aud": "cers-api", "sub": sub, "scope": scope,
                                  "client_id": client_id, "iat": now, "exp": now + 600,
                                  "jti": str(uuid.uuid4())}
        if portal:
            claims["portal"] = portal
        header = {"alg": "RS256", "typ": "at+jwt", "kid": keys.signing_key.kid}
        return jwt.encode(header, claims, keys.signing_key)

    async def read(self, caller: str | None, *whom: str, **token: Any) -> dict[str, Any]:
        reps = [{"__typename": "User", "id": self.ids[w]} for w in whom]
        body: dict[str, Any] = await self.env.gql(
            ENTITIES, {"r": reps}, token=self.token(caller, **token) if token or caller else None)
        return body

    async def sees(self, caller: str | None, **token: Any) -> set[str]:
        """The people (of PEOPLE) whose names ``caller`` gets."""
        body = await self.read(caller, *PEOPLE, **token)
        names = {self.ids[p]: p for p in PEOPLE}
        entities = body["data"]["_entities"]
        seen = {names[e["id"]] for e in entities if e and e["username"]}
        refused = {tuple(e["path"]) for e in body.get("errors", [])}
        assert len(refused) + len(seen) == len(PEOPLE), body
        assert all(e["extensions"]["code"] == "FORBIDDEN" for e in body.get("errors", [])), body
        return seen


@pytest.fixture
async def world(
    database_url: str, tmp_path: Path, private_nats_server: NatsServerProcess
) -> AsyncIterator[World]:
    settings = replace(make_settings(database_url, tmp_path, private_nats_server.url),
                       read_model_max_lag_seconds=2.0)
    connection = await nats.connect(private_nats_server.url)
    js = connection.jetstream()
    await ensure_streams(js)
    async with open_env(settings) as env:
        created = World(env, js)
        for who in PEOPLE:
            result = await create_active_account(env.identity.deps, Registration(
                portal="state" if who == "stella" else "business", username=who,
                email=f"{who}@example.com", password=STRONG, first_name=who.title(),
                last_name="Example",
            ))
            assert result.user is not None, result.problems
            created.ids[who] = result.user.id
        w = created
        await w.member(w.org_a, "alice", "LEAD_USER")
        await w.member(w.org_a, "ann", "EDITOR")
        await w.member(w.org_b, "bob", "LEAD_USER")
        await w.staff(w.plumas, "pat")
        await w.staff(w.plumas, "paz", "ADMIN")
        await w.staff(w.sierra, "sid")
        await w.publish("facility.facility.created", w.yard,
                        {"facility": w.facility(w.yard, w.org_a, w.plumas)})
        await w.publish("facility.facility.created", w.mill,
                        {"facility": w.facility(w.mill, w.org_b, w.sierra)})
        request = str(uuid.uuid4())
        await w.publish("facility.access_request.created", request, {
            "access_request_id": request, "requester_id": w.ids["carl"],
            "organization_id": w.org_a, "facility_id": None, "requested_role": "VIEWER",
            "routed_to_agency_id": None})
        await w.settle()
        yield created
    await connection.close()


async def test_a_member_reads_their_business_its_regulators_and_who_asked_to_join(
    world: World,
) -> None:
    assert await world.sees("alice") == {"alice", "ann", "pat", "paz", "carl"}
    body = await world.read("alice", "ann")
    assert body["data"]["_entities"] == [
        {"id": world.ids["ann"], "username": "ann", "firstName": "Ann", "lastName": "Example"}]


async def test_regulators_read_their_agency_and_the_businesses_they_regulate(
    world: World,
) -> None:
    assert await world.sees("pat") == {"pat", "paz", "alice", "ann"}
    assert await world.sees("sid") == {"sid", "bob"}
    assert await world.sees("bob") == {"bob", "sid"}


async def test_someone_unrelated_reads_as_null_with_a_forbidden_error(world: World) -> None:
    body = await world.read("bob", "alice", "bob")
    assert body["data"]["_entities"][0] is None
    assert body["data"]["_entities"][1]["username"] == "bob"
    [error] = body["errors"]
    assert error["path"] == ["_entities", 0] and error["extensions"]["code"] == "FORBIDDEN"
    # An unknown id reads the same as someone unrelated: nothing tells them apart. A system
    # actor (the demo seed, an operator's script) is no account: nothing to hide.
    unknown = await world.env.gql(ENTITIES, {"r": [
        {"__typename": "User", "id": str(uuid.uuid4())},
        {"__typename": "User", "id": "seed"}]}, token=world.token("bob"))
    assert unknown["data"]["_entities"] == [None, None]
    [refused] = unknown["errors"]
    assert refused["path"] == ["_entities", 0]
    assert refused["extensions"]["code"] == "FORBIDDEN" and refused["message"] == error["message"]


async def test_statewide_readers_read_every_member_and_staff_member(world: World) -> None:
    everyone_working = {"alice", "ann", "bob", "pat", "paz", "sid"}
    assert await world.sees("stella", portal="state") == everyone_working | {"stella"}
    assert await world.sees(None, portal=None, scope="statewide:read",
                            client_id="state-demo") == everyone_working


async def test_anonymous_callers_read_no_one(world: World) -> None:
    body = await world.read(None, "alice")
    assert body["data"]["_entities"] == [None]
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_leaving_a_business_ends_what_its_members_may_read(world: World) -> None:
    await world.publish("facility.membership.revoked", f"{world.org_a}:{world.ids['ann']}",
                        {"organization_id": world.org_a, "user_id": world.ids["ann"]})
    await world.settle()
    assert "ann" not in await world.sees("alice")
    assert await world.sees("ann") == {"ann"}


async def test_a_transferred_facility_brings_its_regulator_to_the_new_owner(world: World) -> None:
    await world.publish("facility.facility.transferred", world.yard, {
        "facility": world.facility(world.yard, world.org_a, world.plumas),
        "from_organization_id": world.org_a, "to_organization_id": world.org_b})
    await world.settle()
    assert await world.sees("bob") == {"bob", "sid", "pat", "paz"}
    assert await world.sees("alice") == {"alice", "ann", "carl"}
    assert await world.sees("pat") == {"pat", "paz", "bob"}


async def test_a_batch_of_users_costs_a_fixed_number_of_queries(world: World) -> None:
    statements: list[str] = []
    engine = world.env.identity.deps.db.read_engine.sync_engine

    def count(*args: Any) -> None:
        # Only this request's: the event worker shares the engine.
        if "FROM users" in args[2] or "rm_" in args[2]:
            statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        few = len(statements)
        await world.read("alice", "ann")
        few = len(statements) - few
        many = len(statements)
        await world.read("alice", *PEOPLE, *PEOPLE)
        many = len(statements) - many
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # The closed-account check of the caller, the caller's relations, the users asked for.
    assert many == few == 3


async def test_a_stale_read_model_refuses_everyone_but_yourself(
    world: World, private_nats_server: NatsServerProcess
) -> None:
    private_nats_server.stop()
    deadline = time.monotonic() + 30
    while True:
        body = await world.read("alice", "ann", "alice")
        if body["data"]["_entities"][0] is None:
            break
        assert time.monotonic() < deadline, "a stale read model kept granting"
        await asyncio.sleep(0.2)
    assert body["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    assert body["data"]["_entities"][1]["username"] == "alice"
    ops = httpx.AsyncClient(transport=httpx.ASGITransport(app=world.env.app.state.ops),
                            base_url="http://identity-ops")
    async with ops:
        ready = await ops.get("/readyz")
    assert FACILITY_DURABLE in ready.text


async def test_resync_rebuilds_the_read_model_from_the_facility_stream(
    world: World, database_url: str, tmp_path: Path, private_nats_server: NatsServerProcess
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.identity", "resync",
        env={**os.environ, "DATA_DIR": str(tmp_path), "IDENTITY_DATABASE_URL": database_url,
             "NATS_URL": private_nats_server.url, "LOG_FORMAT": "text"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    assert "rebuilt" in out.decode()
    async with world.env.identity.deps.db.read() as session:
        for table in READ_MODEL_TABLES:
            assert await session.scalar(select(func.count()).select_from(table))
    assert await world.sees("alice") == {"alice", "ann", "pat", "paz", "carl"}
