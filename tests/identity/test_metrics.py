"""identity's metrics on its operations port: sign-in outcomes, lockouts, signing key age."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from prometheus_client.parser import text_string_to_metric_families

from services.identity.oauth.keys import rotate
from tests.identity.conftest import STRONG, Env, sign_in


async def scrape(env: Env) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=env.app.state.ops),
                                 base_url="http://ops") as ops:
        text = (await ops.get("/metrics")).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text) for sample in family.samples
    }


def attempts(samples: dict, outcome: str) -> float:
    return samples.get(("identity_signin_attempts_total", (("outcome", outcome),)), 0.0)


async def test_sign_in_outcomes_and_lockouts_are_counted(env: Env) -> None:
    await env.active_user("alice")
    async with env.new_client() as browser:
        assert (await sign_in(browser, "alice", STRONG)).status_code == 302
    async with env.new_client() as browser:
        for _ in range(5):  # IDENTITY_LOCKOUT_MAX_FAILURES
            assert (await sign_in(browser, "alice", "wrong-password-1")).status_code == 401
        assert (await sign_in(browser, "alice", STRONG)).status_code == 403
        assert (await sign_in(browser, "nobody", STRONG)).status_code == 401
    samples = await scrape(env)
    assert attempts(samples, "ok") == 1
    assert attempts(samples, "invalid") == 6
    assert attempts(samples, "locked") == 1
    assert samples[("identity_account_lockouts_total", ())] == 1


async def test_the_signing_keys_age_counts_from_when_identity_first_loaded_it(env: Env) -> None:
    before = datetime.now(UTC).timestamp()
    samples = await scrape(env)
    [(current, age)] = [(labels, v) for (name, labels), v in samples.items()
                        if name == "identity_signing_key_age_seconds"]
    assert dict(current)["key"] == "current" and 0 <= age < 60
    [expiry] = [v for (name, _), v in samples.items()
                if name == "identity_signing_key_expiry_timestamp_seconds"]
    assert abs(expiry - (before + 90 * 86400)) < 60  # IDENTITY_SIGNING_KEY_MAX_AGE_DAYS
    first_kid = dict(current)["kid"]

    rotate(env.identity.config.keys)
    samples = await scrape(env)
    keys = {dict(labels)["key"]: dict(labels)["kid"] for (name, labels), _ in samples.items()
            if name == "identity_signing_key_age_seconds"}
    assert keys["previous"] == first_kid and keys["current"] != first_kid
    # The previous key keeps the date it was first seen: a second scrape changes nothing.
    again = await scrape(env)
    assert again[("identity_signing_key_expiry_timestamp_seconds",
                  (("key", "previous"), ("kid", first_kid)))] == expiry
