"""A hostile-input corpus through the gateway and straight at each service: every answer is
coded, none is a 5xx, none hangs (each request has a deadline)."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import DEMO_BUSINESS, Actors
from tests.e2e.system import RunningSystem
from tests.security.hostile import (
    SERVICE_ANSWERS,
    gateway_corpus,
    post_json,
    send,
    send_payload,
    service_corpus,
    traversals,
)

SERVICES = ("identity", "facility", "submittal")


@pytest.mark.parametrize("caller", ["anonymous", "business"])
def test_every_hostile_request_through_the_gateway_gets_a_coded_answer(
    system: RunningSystem, actors: Actors, facility_id: str, caller: str
) -> None:
    token = actors.token(DEMO_BUSINESS[0]) if caller == "business" else None
    for name, payload in gateway_corpus(facility_id).items():
        answer = send_payload(system.base_url, payload, token)
        assert answer.status < 500, (name, answer.status, answer.body[:300])
        assert answer.coded(), (name, answer.body[:300])
        if answer.status >= 400:
            assert answer.json()["errors"], name


@pytest.mark.parametrize("service", SERVICES)
def test_every_hostile_request_straight_at_a_service_gets_a_coded_answer(
    system: RunningSystem, service: str
) -> None:
    for name, payload in service_corpus().items():
        answer = send_payload(system.url(service), payload)
        assert answer.status < 500, (service, name, answer.status, answer.body[:300])
        assert answer.coded(), (service, name, answer.body[:300])
        if name not in SERVICE_ANSWERS:
            assert answer.json()["errors"], (service, name)


def test_no_spelling_of_a_proxied_route_reaches_anything_else(system: RunningSystem) -> None:
    bases = [system.base_url, *(system.url(s) for s in SERVICES)]
    for base in bases:
        for path in traversals():
            for method in ("GET", "POST"):
                answer = send(base, method, path, b'{"query": "{ __typename }"}',
                              {"content-type": "application/json"})
                assert answer.status in (400, 404, 405), (base, method, path, answer.status)
                assert b"__typename" not in answer.body and b"# HELP" not in answer.body, (
                    base, path, answer.body[:200])
                assert b'"ready"' not in answer.body, (base, path)


def test_the_public_routes_still_pass_through_the_proxy(system: RunningSystem) -> None:
    discovery = send(system.base_url, "GET", "/.well-known/openid-configuration")
    assert discovery.status == 200 and discovery.json()["issuer"] == system.base_url
    template = send(system.base_url, "GET", "/documents/templates/hmi.csv")
    assert template.status == 200 and template.body.startswith(b"commonName,")


def test_a_malformed_inventory_csv_is_refused_before_it_is_read(
    system: RunningSystem, actors: Actors, facility_id: str
) -> None:
    query = """mutation($id: ID!, $csv: String!) { importHazardousMaterials(input: {id: $id,
      csv: $csv, mode: APPEND}) { importedCount userErrors { code message } } }"""
    malformed = 'commonName\n"' + "x" * 300_000
    anonymous = post_json(system.base_url, {"query": query, "variables": {
        "id": "no-such-draft", "csv": malformed}})
    assert anonymous.status == 200 and anonymous.codes() == ["UNAUTHENTICATED"]
    token = actors.token(DEMO_BUSINESS[0])
    start = """mutation($f: ID!) { startSubmittal(input: {facilityId: $f,
      element: HAZARDOUS_MATERIALS_INVENTORY}) { element { id } userErrors { message } } }"""
    started = post_json(system.base_url, {"query": start, "variables": {"f": facility_id}},
                        token).json()["data"]["startSubmittal"]
    draft = (started["element"] or {}).get("id") or _open_draft(system, token, facility_id)
    answer = post_json(system.base_url, {"query": query, "variables": {
        "id": draft, "csv": malformed}}, token)
    payload = answer.json()["data"]["importHazardousMaterials"]
    assert payload["importedCount"] == 0
    assert [e["code"] for e in payload["userErrors"]] in (["BAD_CSV"], ["BAD_HEADER"])


def _open_draft(system: RunningSystem, token: str, facility_id: str) -> str:
    body = post_json(system.base_url, {"query": "query($f: ID!) { facility(id: $f) { drafts "
                                                "{ id element } } }", "variables": {
                                                    "f": facility_id}}, token).json()
    return next(d["id"] for d in body["data"]["facility"]["drafts"]
                if d["element"] == "HAZARDOUS_MATERIALS_INVENTORY")


@pytest.mark.parametrize("caller", ["anonymous", "business"])
def test_malformed_uploads_get_coded_refusals(
    system: RunningSystem, actors: Actors, facility_id: str, caller: str
) -> None:
    headers = {"authorization": f"Bearer {actors.token(DEMO_BUSINESS[0])}"} if (
        caller == "business") else {}
    path = f"/documents?facilityId={facility_id}"
    uploads = [
        ({"content-type": "multipart/form-data; boundary=x"}, b"--x\r\nnot a part\r\n--x--"),
        ({"content-type": "multipart/form-data"}, b"no boundary"),
        ({"content-type": "multipart/form-data; boundary=x"},
         b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
         b"Content-Type: application/pdf\r\n\r\nnot really a pdf\r\n--x--\r\n"),
        ({"content-type": "application/json"}, b'{"file": "x"}'),
        ({"content-type": "application/octet-stream"}, b"\x00" * 1000),
        ({"content-type": "text/csv", "content-length": str(10**12)}, b""),
    ]
    for extra, body in uploads:
        for base in (system.base_url, system.url("submittal")):
            answer = send(base, "POST", path, body, {**headers, **extra})
            assert 400 <= answer.status < 500, (base, extra, answer.status, answer.body[:200])
            assert answer.coded(), (base, extra, answer.body[:200])


def test_production_mode_gives_no_suggestions(system: RunningSystem) -> None:
    # The gateway runs with GATEWAY_INTROSPECTION=0 here, as in production.
    for query, variables in [
        ("{ facilitys { id } }", {}),
        ('{ facility(idd: "1") { id } }', {}),
        ("{ facilities { edges { node { nam } } } }", {}),
        ("query($s: ComplianceStatus) { facilities(filter: {complianceStatus: $s}) "
         "{ totalCount } }", {"s": "CURENT"}),
        ("{ __schema { types { name } } }", {}),
    ]:
        answer = post_json(system.base_url, {"query": query, "variables": variables})
        assert answer.status == 400 and answer.coded()
        assert "Did you mean" not in json.dumps(answer.json()), answer.body[:300]
