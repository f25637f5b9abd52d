from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from common.events import event_tables
from services.identity.adapters import repository as repo
from services.identity.adapters.tables import Base
from services.identity.graphql.schema import CHECK_EMAIL
from tests.identity.conftest import (
    ACTIVATE,
    BASE,
    ME,
    REGISTER,
    STRONG,
    Env,
    make_settings,
    open_env,
    tokens_for,
)


async def outbox(env: Env) -> list[dict[str, object]]:
    tables = event_tables(Base.metadata)
    async with env.identity.deps.db.read() as session:
        rows = (await session.execute(
            select(tables.outbox.c.subject, tables.outbox.c.payload)
            .order_by(tables.outbox.c.position)
        )).all()
    return [{"subject": r.subject, **json.loads(r.payload)} for r in rows]


async def test_registration_mails_a_link_that_activates_the_account_once(env: Env) -> None:
    payload = await env.register("alice")
    assert payload == {"message": CHECK_EMAIL, "userErrors": []}

    token = env.last_link("alice@example.com", "/account/activate")
    first = await env.gql(ACTIVATE, {"input": {"token": token}})
    assert first["data"]["activateAccount"]["user"]["status"] == "ACTIVE"
    again = await env.gql(ACTIVATE, {"input": {"token": token}})
    assert again["data"]["activateAccount"]["user"] is None
    assert again["data"]["activateAccount"]["userErrors"][0]["code"] == "INVALID_TOKEN"


async def test_an_activation_link_expires_after_a_day(env: Env) -> None:
    await env.register("late")
    token = env.last_link("late@example.com", "/account/activate")
    env.clock.advance(hours=24, seconds=1)
    body = await env.gql(ACTIVATE, {"input": {"token": token}})
    assert body["data"]["activateAccount"]["userErrors"][0]["code"] == "EXPIRED_TOKEN"


async def test_registration_reports_every_invalid_field(env: Env) -> None:
    body = await env.gql(
        """mutation($input: RegisterAccountInput!) { registerAccount(input: $input) {
        user { id } userErrors { field code } } }""",
        {"input": {"portal": "BUSINESS", "username": "a b", "email": "nope",
                   "password": "short", "firstName": "", "lastName": "X"}},
    )
    errors = {(e["field"][0], e["code"]) for e in body["data"]["registerAccount"]["userErrors"]}
    assert errors == {
        ("username", "INVALID_USERNAME"), ("email", "INVALID_EMAIL"),
        ("password", "PASSWORD_TOO_SHORT"), ("firstName", "REQUIRED"),
    }


async def test_weak_passwords_are_refused(env: Env) -> None:
    for password, code in [
        ("password1234", "PASSWORD_TOO_COMMON"),
        ("Qwertyuiop123", "PASSWORD_TOO_COMMON"),
        ("carol.smith-is-my-name", "PASSWORD_CONTAINS_PERSONAL_DATA"),
        ("eleven-char", "PASSWORD_TOO_SHORT"),
    ]:
        payload = await env.register("carol.smith", password=password,
                                     email="carol.smith@example.com")
        assert [e["code"] for e in payload["userErrors"]] == [code], password


async def test_user_names_are_unique_regardless_of_case(env: Env) -> None:
    assert (await env.register("Bob"))["userErrors"] == []
    dup = await env.register("bob", email="other@example.com")
    assert [e["code"] for e in dup["userErrors"]] == ["USERNAME_TAKEN"]
    assert dup["message"] == ""


async def test_a_registered_email_gets_the_answer_a_new_one_gets_and_its_owner_a_mail(
    env: Env,
) -> None:
    bob = await env.active_user("bob")
    fresh = await env.register("robin", email="robin@example.com")
    taken = await env.register("robert", email="BOB@example.com")
    assert taken == fresh == {"message": CHECK_EMAIL, "userErrors": []}
    # No account was made: the user name is still free, and bob's account is unchanged.
    assert (await env.register("robert", email="robert@example.com"))["userErrors"] == []
    [notice] = [m for m in env.mails("bob@example.com") if "tried" in str(m["Subject"])]
    text = notice.get_content()
    assert "user name bob" in text and f"sign in instead: {BASE}/" in text
    reset = env.last_link("bob@example.com", "/account/reset")
    assert not any("/account/activate" in m.get_content() for m in [notice])
    page = await env.http.get(f"/account/reset?token={reset}")
    assert page.status_code == 200
    async with env.identity.deps.db.read() as session:
        user = await repo.user_by_email(session, "bob@example.com")
    assert user is not None and user.id == bob and user.username == "bob"


async def test_a_pending_accounts_owner_is_mailed_a_fresh_activation_link(env: Env) -> None:
    await env.register("pat", email="pat@example.com")
    first = env.last_link("pat@example.com", "/account/activate")
    assert (await env.register("patricia", email="pat@example.com"))["userErrors"] == []
    again = env.last_link("pat@example.com", "/account/activate")
    assert again != first
    body = await env.gql(ACTIVATE, {"input": {"token": again}})
    assert body["data"]["activateAccount"]["user"]["status"] == "ACTIVE"


async def test_a_closed_accounts_address_cannot_sign_up_again_and_only_its_owner_learns_why(
    env: Env,
) -> None:
    await env.active_user("cleo")
    token = (await tokens_for(env, "cleo"))["access_token"]
    closed = await env.gql(
        "mutation($p: String!) { deactivateAccount(input: {password: $p}) { ok } }",
        {"p": STRONG}, token=token)
    assert closed["data"]["deactivateAccount"]["ok"] is True
    answer = await env.register("cleo2", email="cleo@example.com")
    assert answer == {"message": CHECK_EMAIL, "userErrors": []}
    notice = env.mails("cleo@example.com")[-1].get_content()
    assert "closed" in notice and "/account/reset" not in notice


async def test_sign_ups_are_throttled_per_client_address_with_retry_after(
    database_url: str, tmp_path: Path, nats_server: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IDENTITY_REGISTRATIONS_PER_HOUR", "2")
    monkeypatch.setenv("IDENTITY_TRUSTED_PROXY_HOPS", "1")
    settings = make_settings(database_url, tmp_path, nats_server.url)
    async with open_env(settings) as env:
        def through_gateway(client: str, forged: str = "") -> dict[str, str]:
            # Ingress appends the client, the gateway appends the ingress: identity believes
            # its one trusted hop plus the gateway's, never what the client wrote itself.
            chain = ", ".join(x for x in (forged, client, "10.0.0.2") if x)
            return {"x-forwarded-for": chain}

        async def sign_up(n: int, headers: dict[str, str]) -> Any:
            return await env.http.post("/graphql", headers=headers, json={
                "query": REGISTER, "variables": {"input": {
                    "portal": "BUSINESS", "username": f"spam{n}", "email": f"s{n}@example.com",
                    "password": STRONG, "firstName": "S", "lastName": "P"}}})

        answers = [await sign_up(n, through_gateway("203.0.113.9", forged=f"198.51.100.{n}"))
                   for n in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        refused = answers[2]
        wait = int(refused.headers["retry-after"])
        assert 0 < wait <= 3600
        error = refused.json()["errors"][0]
        assert error["extensions"] == {"code": "TOO_MANY_REQUESTS", "retryAfter": wait}
        assert refused.json()["data"] is None
        # Nothing of the refused attempt was kept.
        async with env.identity.deps.db.read() as session:
            assert await repo.user_by_username(session, "spam2") is None
        # Another client behind the same proxies is not held back.
        other = await sign_up(9, through_gateway("203.0.113.10"))
        assert other.status_code == 200 and other.json()["data"]["registerAccount"]["message"]


async def test_state_accounts_cannot_be_registered_by_sign_up(env: Env) -> None:
    payload = await env.register("statey", portal="STATE")
    assert payload["message"] == ""
    assert payload["userErrors"][0]["code"] == "INVALID_PORTAL"


async def test_events_go_through_the_outbox_with_the_verified_email(env: Env) -> None:
    user_id = await env.active_user("erin")
    events = [e for e in await outbox(env) if e["aggregate_id"] == user_id]
    assert [e["subject"] for e in events] == [
        "identity.user.registered", "identity.user.activated"
    ]
    assert "email" not in events[0]["data"]  # type: ignore[operator]
    assert events[1]["data"]["email"] == "erin@example.com"  # type: ignore[index]


async def test_me_shows_email_and_phone_only_to_the_owner(env: Env) -> None:
    alice = await env.active_user("alice")
    bob = await env.active_user("bob")
    alice_token = (await tokens_for(env, "alice"))["access_token"]

    me = (await env.gql(ME, token=alice_token))["data"]["me"]
    assert me["id"] == alice and me["email"] == "alice@example.com"
    assert me["phone"] == "(530) 555-0199" and me["portal"] == "BUSINESS"

    entities = """query($r: [_Any!]!) { _entities(representations: $r) {
      ... on User { id username email phone } } }"""
    reps = {"r": [{"__typename": "User", "id": bob}, {"__typename": "User", "id": alice}]}
    answer = await env.gql(entities, reps, token=alice_token)
    seen = answer["data"]["_entities"]
    # Alice and Bob share no business or agency (test_visibility has who may read whom).
    assert seen[0] is None and answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert seen[1]["email"] == "alice@example.com"
    anonymous = (await env.gql(entities, reps))["data"]["_entities"]
    assert anonymous == [None, None]
    assert (await env.gql(ME))["data"]["me"] is None


async def test_a_forged_or_foreign_token_is_refused(env: Env) -> None:
    response = await env.http.post(
        "/graphql", json={"query": ME}, headers={"authorization": "Bearer not.a.token"}
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_profile_changes_wait_for_the_new_email_to_be_verified(env: Env) -> None:
    user_id = await env.active_user("dora")
    token = (await tokens_for(env, "dora"))["access_token"]
    update = """mutation($input: UpdateProfileInput!) { updateProfile(input: $input) {
      user { email pendingEmail firstName } userErrors { field code } } }"""
    body = await env.gql(update, {"input": {"firstName": "Dorothy",
                                            "email": "dora.new@example.com"}}, token)
    result = body["data"]["updateProfile"]
    assert result["userErrors"] == []
    assert result["user"] == {"email": "dora@example.com", "pendingEmail": "dora.new@example.com",
                              "firstName": "Dorothy"}
    confirm = env.last_link("dora.new@example.com", "/account/confirm-email")
    await env.gql(ACTIVATE, {"input": {"token": confirm}})
    me = (await env.gql(ME, token=token))["data"]["me"]
    assert me["email"] == "dora.new@example.com"
    updates = [e for e in await outbox(env)
               if e["aggregate_id"] == user_id and e["subject"] == "identity.user.updated"]
    assert [u["data"]["email"] for u in updates] == [  # type: ignore[index]
        "dora@example.com", "dora.new@example.com"
    ]

    anonymous = await env.gql(update, {"input": {"firstName": "Mallory"}})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_changing_to_another_accounts_address_looks_the_same_and_never_takes_effect(
    env: Env,
) -> None:
    await env.active_user("hana")
    await env.active_user("ivo")
    token = (await tokens_for(env, "ivo"))["access_token"]
    update = """mutation($input: UpdateProfileInput!) { updateProfile(input: $input) {
      user { email pendingEmail } userErrors { field code } } }"""
    body = await env.gql(update, {"input": {"email": "HANA@example.com"}}, token)
    result = body["data"]["updateProfile"]
    assert result == {"user": {"email": "ivo@example.com", "pendingEmail": "HANA@example.com"},
                      "userErrors": []}
    # No link goes anywhere; the address's owner is told, and it stays theirs.
    notice = env.mails("hana@example.com")[-1]
    assert "asked to use your CERS email address" in str(notice["Subject"])
    assert "/account/confirm-email" not in notice.get_content()
    me = (await env.gql(ME, token=token))["data"]["me"]
    assert me["email"] == "ivo@example.com"


async def test_change_password_requires_the_current_one(env: Env) -> None:
    await env.active_user("gil")
    token = (await tokens_for(env, "gil"))["access_token"]
    change = """mutation($input: ChangePasswordInput!) { changePassword(input: $input) {
      ok userErrors { field code } } }"""
    wrong = await env.gql(change, {"input": {"currentPassword": "not-it-at-all",
                                             "newPassword": "Granite-Willow-Comet-88"}}, token)
    assert wrong["data"]["changePassword"]["userErrors"][0]["code"] == "WRONG_PASSWORD"
    ok = await env.gql(change, {"input": {"currentPassword": STRONG,
                                          "newPassword": "Granite-Willow-Comet-88"}}, token)
    assert ok["data"]["changePassword"]["ok"] is True
    await tokens_for(env, "gil", "Granite-Willow-Comet-88")
