"""The SQL identity's ``me`` sends, counted around real requests: one connection, and the
account, read once for the closed-account check and the answer, nothing more."""

from __future__ import annotations

from tests.identity.conftest import ME, Env, tokens_for
from tests.statements import counting


async def test_me_is_one_connection_and_a_fixed_number_of_statements(env: Env) -> None:
    alice = await env.active_user("alice")
    token = (await tokens_for(env, "alice"))["access_token"]
    await env.gql(ME, token=token)  # the document and the token are cached from here on

    with counting(env.identity.deps.db) as counted:
        me = (await env.gql(ME, token=token))["data"]["me"]
    assert me["id"] == alice
    assert counted.checkouts == 1, counted.sql
    # the account (closed accounts are refused), kept for the answer
    assert len(counted.queries) == 1, counted.sql

    with counting(env.identity.deps.db) as counted:
        assert (await env.gql(ME))["data"]["me"] is None
    assert counted.queries == []
