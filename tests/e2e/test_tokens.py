"""Every journey refuses an expired or forged token, and does nothing with it."""

from __future__ import annotations

import json
import time
from base64 import urlsafe_b64decode
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.e2e import client
from tests.e2e.conftest import DEMO_BUSINESS, DEMO_REGULATOR, Actors
from tests.e2e.journeys import COMPLIANCE, ISSUE_PERMIT, START, demo_facility, in_a_year
from tests.e2e.system import RunningSystem

# One operation of each journey, as its rightful caller would send it.
JOURNEYS: dict[str, tuple[str, str, str]] = {
    "1 create an account": (DEMO_BUSINESS[0], """mutation($id: ID!) { requestAccess(input:
        {organizationId: $id, requestedRole: VIEWER}) { userErrors { code } } }""", "org"),
    "2 annual update": (DEMO_BUSINESS[0], """mutation($id: ID!) { certifyNoChange(input:
        {facilityId: $id, statement: "unchanged"}) { userErrors { code } } }""", "facility"),
    "3 update when something changed": (DEMO_BUSINESS[0], """mutation($id: ID!) {
        updateFacility(input: {facilityId: $id, name: "Forged name"}) { changes } }""",
        "facility"),
    "4 sign in": (DEMO_BUSINESS[0], "{ me { id username } }", ""),
    "5 add a person": (DEMO_BUSINESS[0], """mutation($id: ID!) { addPerson(input:
        {organizationId: $id, email: "forged@example.com", role: LEAD_USER}) {
        userErrors { code } } }""", "org"),
    "6 view business information": (DEMO_BUSINESS[0], COMPLIANCE, "facility"),
    "7 update business information": (DEMO_BUSINESS[0], START, "start"),
    "7 regulator's permit": (DEMO_REGULATOR[0], ISSUE_PERMIT, "permit"),
    "8 statewide": ("state-demo", "{ facilities(first: 5) { totalCount } }", ""),
}


def claims_of(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, body, _ = token.split(".")
    pad = "=" * (-len(body) % 4)
    return (json.loads(urlsafe_b64decode(header + "=" * (-len(header) % 4))),
            json.loads(urlsafe_b64decode(body + pad)))


def expired(system: RunningSystem, token: str) -> str:
    """The same token, signed with identity's own key, but expired an hour ago."""
    header, claims = claims_of(token)
    key = RSAKey.import_key((system.data_dir / "keys" / "signing.pem").read_bytes())
    now = int(time.time())
    return jwt.encode(header, {**claims, "iat": now - 4000, "exp": now - 3600}, key)


def forged(token: str) -> str:
    """The same claims and key id, signed with a key identity never had."""
    header, claims = claims_of(token)
    return jwt.encode(header, {**claims, "exp": int(time.time()) + 600},
                      RSAKey.generate_key(2048))


def variables(actors: Actors, kind: str) -> dict[str, Any]:
    greenville = demo_facility(actors, "Greenville")
    if kind == "org":
        body = client.data(actors.gql(DEMO_BUSINESS[0],
                                      "{ myBusinesses { edges { node { id } } } }"))
        return {"id": body["myBusinesses"]["edges"][0]["node"]["id"]}
    if kind == "facility":
        return {"id": greenville["id"]}
    if kind == "start":
        return {"input": {"facilityId": greenville["id"], "element": "FACILITY_INFORMATION",
                          "basedOn": "LAST_SUBMITTAL"}}
    if kind == "permit":
        return {"input": {"facilityId": greenville["id"], "expiresAt": in_a_year()}}
    return {}


@pytest.mark.parametrize("journey", list(JOURNEYS))
def test_an_expired_or_forged_token_is_refused_as_unauthenticated(
    system: RunningSystem, actors: Actors, journey: str
) -> None:
    caller, operation, kind = JOURNEYS[journey]
    real = actors.token(caller)
    given = variables(actors, kind)
    before = client.data(actors.gql(DEMO_BUSINESS[0], COMPLIANCE, variables(actors, "facility")))
    for bad in (expired(system, real), forged(real), real[:-4] + "AAAA"):
        answer = system.graphql(operation, given, token=bad)
        assert client.errors(answer) == ["UNAUTHENTICATED"], (journey, answer)
        assert not (answer.get("data") or {}), answer
    after = client.data(actors.gql(DEMO_BUSINESS[0], COMPLIANCE, variables(actors, "facility")))
    assert after == before


def test_the_hosted_endpoints_refuse_an_expired_or_forged_token(
    system: RunningSystem, actors: Actors
) -> None:
    real = actors.token(DEMO_BUSINESS[0])
    ok = httpx.get(f"{system.base_url}/userinfo", headers={"authorization": f"Bearer {real}"})
    assert ok.status_code == 200 and ok.json()["sub"]
    for bad in (expired(system, real), forged(real)):
        refused = httpx.get(f"{system.base_url}/userinfo",
                            headers={"authorization": f"Bearer {bad}"})
        assert refused.status_code == 401
