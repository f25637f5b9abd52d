"""Each attack of issue 12 against the running system: a coded 4xx, never a stall.

While attackers repeat an attack, an ordinary query is sent: it must answer, with data, while
the attack is still going on. The gateway's CPU per refused attack is printed (not asserted:
the machine is shared).
"""

from __future__ import annotations

import itertools

import pytest

from tests.e2e.conftest import DEMO_BUSINESS, Actors
from tests.e2e.system import RunningSystem
from tests.security.hostile import (
    cpu_seconds,
    fan_out,
    gateway_pid,
    nested_lists,
    post_json,
    send,
    under_attack,
)

ORDINARY = "{ regulatorAgencies(county: \"Plumas\") { name } }"


def attacks(facility_id: str) -> dict[str, tuple[str, str]]:
    """name -> (query, the limit that refuses it)."""
    deep = "id"
    for _ in range(10):
        deep = f"organization {{ facilities(first: 1) {{ edges {{ node {{ {deep} }} }} }} }}"
    return {
        "fragment fan-out (issue 12.1)": (fan_out(9), "cost"),
        "fragment fan-out, 30 levels": (fan_out(30), "cost"),
        "unpaginated list nesting (12.2)": (nested_lists(facility_id, 4), "cost"),
        "deep nesting": (f'{{ facility(id: "{facility_id}") {{ {deep} }} }}', "depth"),
        "alias bomb": ("{ " + " ".join(f"a{i}: __typename" for i in range(200)) + " }",
                       "aliases"),
        "directive bomb": ("{ me { id " + "@include(if: true) " * 100 + "} }", "directives"),
        "conflicting fields": ("{ " + " ".join(f'facility(id: "{i}") {{ id }}'
                                               for i in range(1000)) + " }", "repeats"),
    }


@pytest.mark.parametrize("name", list(attacks("x")))
def test_an_attack_is_refused_with_a_coded_4xx_while_an_ordinary_query_still_answers(
    system: RunningSystem, actors: Actors, facility_id: str, name: str
) -> None:
    query, limit = attacks(facility_id)[name]
    token = actors.token(DEMO_BUSINESS[0])
    gateway = gateway_pid(system)
    before = cpu_seconds(gateway)
    # A comment makes each attack a new document, so none is answered from the plan cache.
    counter = itertools.count()
    siege = under_attack(
        lambda: post_json(system.base_url, {"query": f"{query}\n# {next(counter)}"}, token),
        lambda: system.graphql(ORDINARY))
    spent = cpu_seconds(gateway) - before
    assert siege.ordinary == {"data": {"regulatorAgencies": [
        {"name": "Plumas County Environmental Health"}]}}
    assert siege.ordinary_before_the_attack_ended, "the attack ended before the ordinary answer"
    for answer in siege.attacks:
        assert answer.status == 400 and answer.coded(), answer.body[:300]
        assert answer.json()["errors"][0]["extensions"] == {
            **answer.json()["errors"][0]["extensions"], "code": "BAD_USER_INPUT", "limit": limit}
    print(f"\n{name}: {len(siege.attacks)} attacks refused; gateway CPU "
          f"{1000 * spent / (len(siege.attacks) + 1):.1f} ms per request")


def test_the_anonymous_fan_out_of_the_issue_is_refused_too(system: RunningSystem) -> None:
    answer = post_json(system.base_url, {"query": fan_out(8)})
    assert answer.status == 400 and answer.limit() == "cost"


def test_a_response_is_sized_by_the_request_s_own_page_variables(
    system: RunningSystem, actors: Actors
) -> None:
    query = ("query($n: Int!) { facilities(first: $n) { edges { node { id "
             "history(first: 200) { id actor { id } } } } } }")
    token = actors.token(DEMO_BUSINESS[0])
    small = post_json(system.base_url, {"query": query, "variables": {"n": 2}}, token)
    assert small.status == 200 and "errors" not in small.json(), small.body[:300]
    large = post_json(system.base_url, {"query": query, "variables": {"n": 200}}, token)
    assert large.status == 400 and large.limit() == "cost"


def test_operational_endpoints_are_only_on_the_internal_port(system: RunningSystem) -> None:
    for name in ("gateway", "identity", "facility", "submittal"):
        public, ops = system.url(name), system.ops_url(name)
        assert send(public, "GET", "/healthz").status == 200
        for path in ("/readyz", "/metrics"):
            answer = send(public, "GET", path)
            assert answer.status in (404, 405) and b"http_requests_total" not in answer.body
            assert send(ops, "GET", path).status == 200, (name, path)
    plan = post_json(system.base_url, {"query": "{ __typename }"}, path="/graphql/plan")
    assert plan.status in (404, 405)
    assert post_json(system.ops_url("gateway"), {"query": "{ me { id } }"},
                     path="/graphql/plan").json()["kind"] in ("Fetch", "Sequence")
