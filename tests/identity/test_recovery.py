from __future__ import annotations

from typing import Any

from tests.identity.conftest import ME, STRONG, Env, hidden, sign_in, tokens_for

FORGOT = {
    "resendActivation": ("ResendActivationInput", "email"),
    "recoverUsername": ("RecoverUsernameInput", "email"),
    "requestPasswordReset": ("RequestPasswordResetInput", "usernameOrEmail"),
}
RESET = """mutation($input: ResetPasswordInput!) { resetPassword(input: $input) {
  ok userErrors { field code } } }"""
NEW_PASSWORD = "Cedar-Lantern-Orbit-42"


async def forgot(env: Env, mutation: str, value: str) -> dict[str, Any]:
    input_type, field = FORGOT[mutation]
    body = await env.gql(
        f"mutation($input: {input_type}!) {{ {mutation}(input: $input) "
        "{ ok message userErrors { code } } }",
        {"input": {field: value}},
    )
    result: dict[str, Any] = body["data"][mutation]
    return result


async def test_forgot_flows_answer_the_same_for_existing_and_unknown_accounts(env: Env) -> None:
    await env.active_user("fay")
    await env.register("pending.pete")
    cases = [
        ("resendActivation", "pending.pete@example.com", "nobody@example.com"),
        ("recoverUsername", "fay@example.com", "nobody@example.com"),
        ("requestPasswordReset", "fay", "nobody"),
        ("requestPasswordReset", "fay@example.com", "nobody@example.com"),
    ]
    for mutation, existing, unknown in cases:
        assert await forgot(env, mutation, existing) == await forgot(env, mutation, unknown)
    assert any("fay" in m.get_content() for m in env.mails("fay@example.com")
               if m["Subject"] == "Your CERS user name")
    assert env.mails("nobody@example.com") == []

    async with env.new_client() as one, env.new_client() as two:
        page_one = await one.get("/account/forgot")
        page_two = await two.get("/account/forgot")
        answer_known = await one.post("/account/forgot/password", data={
            "csrf": hidden(page_one.text, "csrf"), "username_or_email": "fay"})
        answer_unknown = await two.post("/account/forgot/password", data={
            "csrf": hidden(page_two.text, "csrf"), "username_or_email": "nobody"})
    assert answer_known.status_code == answer_unknown.status_code == 200
    assert answer_known.text == answer_unknown.text


async def test_a_reset_link_works_once_and_revokes_refresh_tokens(env: Env) -> None:
    await env.active_user("rita")
    tokens = await tokens_for(env, "rita")
    await forgot(env, "requestPasswordReset", "rita")
    token = env.last_link("rita@example.com", "/account/reset")

    weak = await env.gql(RESET, {"input": {"token": token, "newPassword": "password1234"}})
    assert weak["data"]["resetPassword"]["userErrors"] == [
        {"field": ["newPassword"], "code": "PASSWORD_TOO_COMMON"}
    ]
    ok = await env.gql(RESET, {"input": {"token": token, "newPassword": NEW_PASSWORD}})
    assert ok["data"]["resetPassword"] == {"ok": True, "userErrors": []}
    again = await env.gql(RESET, {"input": {"token": token, "newPassword": NEW_PASSWORD + "x"}})
    assert again["data"]["resetPassword"]["userErrors"][0]["code"] == "INVALID_TOKEN"

    refreshed = await env.http.post("/token", data={
        "grant_type": "refresh_token", "client_id": "business-web",
        "refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 400
    async with env.new_client() as browser:
        assert (await sign_in(browser, "rita", STRONG)).status_code == 401
    await tokens_for(env, "rita", NEW_PASSWORD)


async def test_a_reset_link_expires_after_an_hour(env: Env) -> None:
    await env.active_user("otto")
    await forgot(env, "requestPasswordReset", "otto@example.com")
    token = env.last_link("otto@example.com", "/account/reset")
    env.clock.advance(hours=1, seconds=1)
    late = await env.gql(RESET, {"input": {"token": token, "newPassword": NEW_PASSWORD}})
    assert late["data"]["resetPassword"]["userErrors"][0]["code"] == "EXPIRED_TOKEN"


async def test_the_hosted_reset_page_sets_a_new_password(env: Env) -> None:
    await env.active_user("hana")
    async with env.new_client() as browser:
        forgot_page = await browser.get("/account/forgot?portal=regulator")
        assert "portal-regulator" in forgot_page.text
        await browser.post("/account/forgot/password", data={
            "csrf": hidden(forgot_page.text, "csrf"), "username_or_email": "hana"})
        token = env.last_link("hana@example.com", "/account/reset")
        page = await browser.get(f"/account/reset?token={token}")
        assert '<label for="new_password">' in page.text
        done = await browser.post("/account/reset", data={
            "csrf": hidden(page.text, "csrf"), "token": token, "new_password": NEW_PASSWORD})
        assert done.status_code == 200 and "password is changed" in done.text
    await tokens_for(env, "hana", NEW_PASSWORD)


async def test_a_deactivated_account_cannot_sign_in_or_refresh(env: Env) -> None:
    user_id = await env.active_user("dan")
    tokens = await tokens_for(env, "dan")
    deactivate = """mutation($input: DeactivateAccountInput!) { deactivateAccount(input: $input) {
      ok userErrors { code } } }"""
    wrong = await env.gql(deactivate, {"input": {"password": "nope-nope-nope"}},
                          tokens["access_token"])
    assert wrong["data"]["deactivateAccount"]["ok"] is False
    anonymous = await env.gql(deactivate, {"input": {"password": STRONG}})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    done = await env.gql(deactivate, {"input": {"password": STRONG}}, tokens["access_token"])
    assert done["data"]["deactivateAccount"]["ok"] is True
    refreshed = await env.http.post("/token", data={
        "grant_type": "refresh_token", "client_id": "business-web",
        "refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 400
    async with env.new_client() as browser:
        refused = await sign_in(browser, "dan", STRONG)
    assert refused.status_code == 401  # reads like any wrong password
    # The access token is not expired, but identity refuses it at once.
    me = await env.gql(ME, token=tokens["access_token"])
    assert [e["extensions"]["code"] for e in me["errors"]] == ["UNAUTHENTICATED"]
    assert "closed" in me["errors"][0]["message"]
    profile = await env.gql("""mutation { updateProfile(input: {title: "Gone"}) {
      userErrors { code } } }""", token=tokens["access_token"])
    assert [e["extensions"]["code"] for e in profile["errors"]] == ["UNAUTHENTICATED"]

    from tests.identity.test_accounts import outbox

    subjects = [e["subject"] for e in await outbox(env) if e["aggregate_id"] == user_id]
    assert subjects[-1] == "identity.user.deactivated"
