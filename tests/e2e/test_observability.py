"""Issue 19 against the real processes: one trace from the client's request to facility's
consumer, received by a local OTLP receiver as a Collector would; and every metric the
dashboards and alerts query, read off the processes' own /metrics."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e import client
from tests.e2e.conftest import DEMO_BUSINESS, Actors, _running, own_nats
from tests.e2e.journeys import SUBMIT, demo_facility, start
from tests.e2e.system import RunningSystem, eventually
from tests.monitoring import queried_metrics
from tests.otlp import OtlpReceiver, ReceivedSpan


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver().running() as running:
        yield running


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory, receiver: OtlpReceiver
           ) -> Iterator[RunningSystem]:
    folder: Path = tmp_path_factory.mktemp("traced")
    with own_nats(folder) as nats_url:
        system = RunningSystem(folder / "var", nats_url, demo=True)
        system.env.update({
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
            "OTEL_TRACES_SAMPLER_ARG": "1.0",
            "OTEL_BSP_SCHEDULE_DELAY": "200",  # the SDK's export interval, in ms
        })
        yield from _running(system)


@pytest.fixture(scope="module")
def actors(traced: RunningSystem) -> Actors:
    actors = Actors(traced)
    eventually(lambda: not actors.gql(DEMO_BUSINESS[0], "{ myBusinesses { totalCount } }")
               .get("errors"), timeout=60)
    return actors


def ancestors(span: ReceivedSpan, spans: list[ReceivedSpan]) -> list[ReceivedSpan]:
    by_id = {(s.trace_id, s.span_id): s for s in spans}
    chain = []
    while (parent := by_id.get((span.trace_id, span.parent_span_id))) is not None:
        chain.append(parent)
        span = parent
    return chain


def statement(span: ReceivedSpan) -> str:
    return str(span.attributes.get("db.statement") or span.attributes.get("db.query.text", ""))


def test_one_trace_follows_a_submission_from_the_gateway_to_facilitys_consumer(
    traced: RunningSystem, actors: Actors, receiver: OtlpReceiver
) -> None:
    facility = demo_facility(actors, "Quincy")
    element = start(actors, DEMO_BUSINESS[0], facility["id"], "FACILITY_INFORMATION")
    # The client starts the trace itself, so the test knows its id.
    trace_id, parent = secrets.token_hex(16), secrets.token_hex(8)
    response = httpx.post(f"{traced.base_url}/graphql", json={
        "query": SUBMIT, "operationName": "Submit",
        "variables": {"input": {"facilityId": facility["id"]}},
    }, headers={"authorization": f"Bearer {actors.token(DEMO_BUSINESS[0])}",
                "traceparent": f"00-{trace_id}-{parent}-01"}, timeout=30)
    submitted = client.payload(response.json(), "submitDrafts")["elements"]
    assert [e["id"] for e in submitted] == [element["id"]]

    # Each service exports its spans on its own schedule: the facility's can arrive before
    # the gateway's, so wait for every span asserted below, not only the last one made.
    exported_apart = {
        ("gateway", "POST /graphql"), ("gateway", "mutation Submit"),
        ("gateway", "fetch submittal"), ("submittal", "POST /graphql"),
        ("submittal", "create submittal.element.submitted"),
        ("submittal", "send submittal.element.submitted"),
    }

    def applied(spans: list[ReceivedSpan]) -> list[ReceivedSpan] | None:
        mine = [s for s in spans if s.trace_id == trace_id]
        if not exported_apart <= {(s.service, s.name) for s in mine}:
            return None
        done = [s for s in mine if s.service == "facility"
                and s.name == "apply submittal.element.submitted"]
        # The apply span ends inside the transaction it belongs to; wait for that one too.
        return mine if done and any(done[0].child_of(s) or done[0].links_to(s) for s in mine
                                    if s.service == "facility") else None

    spans = receiver.wait_for(applied)

    def one(service: str, name: str) -> ReceivedSpan:
        found = [s for s in spans if s.service == service and s.name == name]
        assert len(found) == 1, (service, name, sorted((s.service, s.name) for s in spans))
        return found[0]

    # The gateway: the client's context continued, one span for the operation, a fetch.
    gateway_server = one("gateway", "POST /graphql")
    assert gateway_server.parent_span_id == parent
    gateway_operation = one("gateway", "mutation Submit")
    assert gateway_operation.child_of(gateway_server)
    assert gateway_operation.attributes["graphql.operation.name"] == "Submit"
    assert str(gateway_operation.attributes["graphql.document.hash"]).startswith("sha256:")
    fetch = one("gateway", "fetch submittal")
    assert gateway_operation in ancestors(fetch, spans) and fetch.kind == "client"
    # Submittal: the mutation, under the fetch that called it.
    submittal_server = one("submittal", "POST /graphql")
    assert submittal_server.child_of(fetch) and submittal_server.kind == "server"
    # The gateway names each subgraph operation after the client's: Submit__submittal__0.
    [mutation] = [s for s in spans if s.service == "submittal"
                  and s.name.startswith("mutation Submit__submittal")]
    assert mutation.child_of(submittal_server)
    # The outbox insert, in the mutation's transaction.
    create = one("submittal", "create submittal.element.submitted")
    assert mutation in ancestors(create, spans) and create.kind == "producer"
    assert any(s.child_of(create) and "event_outbox" in statement(s) for s in spans)
    # The relay's publish, continuing the producer's span.
    send = one("submittal", "send submittal.element.submitted")
    assert send.child_of(create) and send.kind == "producer"
    assert send.attributes["messaging.message.id"] == create.attributes["messaging.message.id"]
    # Facility's consumer transaction: the child of that send, or linked to it in a batch.
    apply = one("facility", "apply submittal.element.submitted")
    transaction = next(s for s in spans if s.service == "facility" and s.kind == "consumer"
                       and s.name.startswith("process "))
    if transaction.name == "process submittal.element.submitted":
        assert transaction.child_of(send) and apply.child_of(transaction)
    else:
        assert apply.child_of(send) and apply.links_to(transaction)
    # Compliance updated: the facility's row changes inside that apply span.
    assert any(s.service == "facility" and apply in ancestors(s, spans)
               and statement(s).startswith("UPDATE facilities") for s in spans)
    # The operations' spans name them and hash them; the variables are in none of them.
    for span in (gateway_operation, mutation):
        assert facility["id"] not in str(span.attributes), span.name


def scrape(url: str) -> set[str]:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return {sample.name for family in text_string_to_metric_families(text)
            for sample in family.samples}


def test_no_query_string_of_the_sign_in_pages_reaches_a_span(
    traced: RunningSystem, receiver: OtlpReceiver
) -> None:
    # /authorize?...&code_challenge=...&state=... through the gateway's proxy (httpx) to
    # identity: both record the URL, neither its query.
    with client.browser(traced) as http:
        client.fill_sign_in(traced, http, DEMO_BUSINESS[0], "not-the-password", "business",
                            "challenge-" + "y" * 40, "state-of-the-test")
    spans = receiver.wait_for(lambda spans: [
        s for s in spans if s.service == "identity" and s.kind == "server"
        and "/authorize" in str(s.attributes)] and spans)
    leaked = [(s.service, s.name) for s in spans if "state-of-the-test" in str(s.attributes)
              or "yyyy" in str(s.attributes)]
    assert leaked == []


def test_every_metric_the_dashboards_and_alerts_query_is_exported(
    traced: RunningSystem, actors: Actors
) -> None:
    # Traffic of every kind the panels show: operations (the fixture signed in and queried),
    # a wrong password, events applied by every consumer.
    with client.browser(traced) as http:
        client.fill_sign_in(traced, http, DEMO_BUSINESS[0], "not-the-password", "business",
                            "challenge-" + "x" * 40, "state")
    demo_facility(actors, "Quincy")
    exported: set[str] = set()
    for name in ("gateway", "identity", "facility", "submittal"):
        exported |= scrape(traced.ops_url(name))
    missing = {metric: sorted(where) for metric, where in queried_metrics().items()
               if metric not in exported}
    assert not missing, f"dashboards and alerts query metrics no process exports: {missing}"
