from __future__ import annotations

import asyncio

from tests.gateway.conftest import REQUESTS, Client, mint_token, requests_to
from tests.gateway.subgraphs import core as subgraphs


async def test_a_root_field_is_answered_by_its_subgraph(client: Client) -> None:
    result = await client.post("{ me { id username name } }")
    assert result == {"data": {"me": {"id": "u1", "username": "alice", "name": "Alice Lee"}}}


async def test_fields_of_one_entity_come_from_several_subgraphs(client: Client) -> None:
    result = await client.post(
        "{ me { name memberships { role organization { name facilities { cersId } } } } }"
    )
    assert result["data"]["me"] == {
        "name": "Alice Lee",
        "memberships": [
            {"role": "LEAD_USER", "organization": {
                "name": "Acme Fuels", "facilities": [{"cersId": 10000001}, {"cersId": 10000002}]
            }},
            {"role": "VIEWER", "organization": {
                "name": "Bay Plating", "facilities": [{"cersId": 10000003}]
            }},
        ],
    }


async def test_a_nested_query_jumps_across_all_three_subgraphs_and_back(client: Client) -> None:
    result = await client.post("""
        { facilities { name elements { kind submittedBy { username memberships { role } } } } }
    """)
    assert "errors" not in result
    first = result["data"]["facilities"][0]
    assert first["name"] == "Acme Yard"
    assert first["elements"] == [
        {"kind": "FACILITY_INFORMATION", "submittedBy": {
            "username": "alice", "memberships": [{"role": "LEAD_USER"}, {"role": "VIEWER"}]}},
        {"kind": "HAZARDOUS_MATERIALS_INVENTORY", "submittedBy": {
            "username": "bob", "memberships": [{"role": "VIEWER"}]}},
    ]


async def test_aliases_fragments_variables_and_typename_shape_the_answer(client: Client) -> None:
    result = await client.post(
        """
        query Q($id: ID!, $withOrg: Boolean!, $noName: Boolean!) {
          f: facility(id: $id) {
            __typename
            ...Names
            org: organization @include(if: $withOrg) { label: name }
            ... on Facility { count: elementCount }
          }
          other: facility(id: "f3") { name @skip(if: $noName) cersId }
        }
        fragment Names on Facility { title: name cersId }
        """,
        {"id": "f1", "withOrg": True, "noName": True},
    )
    assert result == {"data": {
        "f": {"__typename": "Facility", "title": "Acme Yard", "cersId": 10000001,
              "org": {"label": "Acme Fuels"}, "count": 2},
        "other": {"cersId": 10000003},
    }}
    flipped = await client.post(
        "query Q($id: ID!, $w: Boolean!) { facility(id: $id) { organization @include(if: $w) "
        "{ name } } }", {"id": "f1", "w": False},
    )
    assert flipped == {"data": {"facility": {}}}


async def test_introspection_fields_mix_with_subgraph_fields(client: Client) -> None:
    result = await client.post(
        '{ __typename me { username } __type(name: "Facility") { fields { name } } }'
    )
    assert result["data"]["__typename"] == "Query"
    assert result["data"]["me"] == {"username": "alice"}
    names = {f["name"] for f in result["data"]["__type"]["fields"]}
    assert {"elements", "cersId", "organization"} <= names
    schema = await client.post("{ __schema { types { name } directives { name } } }")
    type_names = {t["name"] for t in schema["data"]["__schema"]["types"]}
    assert "Facility" in type_names
    assert not any(n.startswith(("join__", "link__")) for n in type_names)
    assert "join__field" not in {d["name"] for d in schema["data"]["__schema"]["directives"]}


async def test_mutations_run_in_the_order_written_even_across_subgraphs(client: Client) -> None:
    subgraphs.MUTATION_LOG.clear()
    result = await client.post("""
        mutation { a: addNote(text: "1") b: submit(facilityId: "f1") { name }
                   c: addNote(text: "2") }
    """)
    assert "errors" not in result
    assert subgraphs.MUTATION_LOG == ["orgs:1", "elements:f1", "orgs:2"]
    assert result["data"]["b"] == {"name": "Acme Yard"}
    assert result["data"]["c"] == ["orgs:1", "elements:f1", "orgs:2"]


async def test_a_failing_field_is_null_with_its_path_and_subgraph(client: Client) -> None:
    result = await client.post("{ me { id flaky } }")
    assert result["data"] == {"me": {"id": "u1", "flaky": None}}
    [error] = result["errors"]
    assert error["path"] == ["me", "flaky"]
    assert error["extensions"]["serviceName"] == "users"


async def test_a_null_non_null_field_nulls_the_nearest_nullable_parent(client: Client) -> None:
    result = await client.post('{ facility(id: "f1") { name } mustUser(id: "nobody") { id } }')
    assert result["data"] is None
    assert any(e.get("path") == ["mustUser"] for e in result["errors"])


async def test_entities_are_fetched_once_per_subgraph_per_step_without_duplicates(
    client: Client,
) -> None:
    REQUESTS.clear()
    result = await client.post(
        '{ users(ids: ["u1", "u2", "u1", "nobody"]) { username memberships '
        "{ organization { name } } } }"
    )
    assert "errors" not in result
    users = result["data"]["users"]
    assert users[2] == users[0] and users[3] is None
    # One _entities call for the memberships (and their organizations, which orgs owns too),
    # with u1 sent once.
    [orgs_call] = requests_to("core/orgs")
    assert orgs_call["variables"]["representations"] == [
        {"__typename": "User", "id": "u1"}, {"__typename": "User", "id": "u2"}
    ]
    REQUESTS.clear()
    result = await client.post(
        '{ users(ids: ["u1", "u2"]) { memberships { organization { facilities '
        "{ elementCount } } } } }"
    )
    assert "errors" not in result
    # u1 and u2 share organization o1, so facilities f1 and f2 appear twice: sent once each.
    [elements_call] = requests_to("core/elements")
    assert sorted(r["id"] for r in elements_call["variables"]["representations"]) == [
        "f1", "f2", "f3"
    ]
    assert [n for n, _ in REQUESTS] == ["core/users", "core/orgs", "core/elements"]


async def test_invalid_queries_answer_bad_user_input_not_500(client: Client) -> None:
    for query in ["{ me { nope } }", "{ me { ", "query A { me { id } } query B { me { id } }"]:
        response = await client.raw(query)
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    bad_var = await client.raw("query Q($id: ID!) { facility(id: $id) { name } }", {})
    assert bad_var.status_code == 400
    for body in [
        b"not json", b"[]", b"42", b'{"query": 3}', b'{"query": ["{ me { id } }"]}',
        b'{"query": "{ me { id } }", "variables": [1]}',
        b'{"query": "{ me { id } }", "operationName": 7}',
        b'{"query": "query Q($n: Int!) { facilities(first: $n) { id } }", '
        b'"variables": {"n": 99999999999999999999}}',
        b'{"query": "query Q($ids: [ID!]!) { users(ids: $ids) { id } }", '
        b'"variables": {"ids": [[["deep"]]]}}',
        b'{"query": "{ me { id } }", "operationName": "Missing"}',
        b'{"query": "fragment A on User { ...B } fragment B on User { ...A } { me { ...A } }"}',
        b'{"query": "subscription { me { id } }"}',
        b"\xff\xfe",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"query": "' + b"{ me " * 20_000 + b'"}',
        b'{"query": "query { ' + b"... on Query { " * 700 + b"me { id }" + b" }" * 700
        + b' }"}',
        b'{"query": "query { ' + b"... on Query { " * 9_000 + b"me { id }" + b" }" * 9_000
        + b' }"}',
        b'{"query": "query Q($ids: [ID!]!) { users(ids: $ids) { id } }", "variables": {"ids": '
        + b"[" * 5000 + b"]" * 5000 + b"}}",
    ]:
        response = await client.http.post(client.base + "/graphql", content=body)
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_an_alias_hiding_a_key_field_is_answered_with_the_key_fetched_under_an_alias(
    client: Client,
) -> None:
    REQUESTS.clear()
    result = await client.post('{ facility(id: "f1") { id: name elementCount } }')
    assert result == {"data": {"facility": {"id": "Acme Yard", "elementCount": 2}}}
    # The key goes to the subgraph under an alias of its own; the client's "id" stays a name.
    [orgs_call] = requests_to("core/orgs")
    assert "id:name" in orgs_call["query"] and "id__" in orgs_call["query"]
    [elements_call] = requests_to("core/elements")
    assert elements_call["variables"]["representations"] == [{"__typename": "Facility",
                                                              "id": "f1"}]


async def test_identical_queries_in_flight_share_one_subgraph_call_per_caller(
    client: Client,
) -> None:
    query = "{ me { slow(seconds: 0.5) } }"
    alice, bob = mint_token("u1"), mint_token("u2")
    REQUESTS.clear()
    answers = await asyncio.gather(*(client.post(query, token=alice) for _ in range(4)),
                                   client.post(query, token=bob))
    assert all(a == {"data": {"me": {"slow": "finally"}}} for a in answers), answers
    # Four of Alice's requests overlap while the first is in flight; Bob's token differs.
    assert 2 <= len(requests_to("core/users")) < 5
    subgraphs.MUTATION_LOG.clear()
    await asyncio.gather(*(client.post('mutation { addNote(text: "m") }') for _ in range(3)))
    assert subgraphs.MUTATION_LOG == ["orgs:m"] * 3
