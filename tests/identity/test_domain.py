from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.requests import Request

from services.identity.domain.accounts import check_password, check_username
from services.identity.domain.clients import allowed_scope, redirect_uri_matches
from services.identity.domain.lockout import FailureState, LockoutPolicy
from services.identity.domain.passwords import (
    HashCost,
    configure,
    hash_password,
    verify_password,
)
from services.identity.oauth.throttle import AddressThrottle, client_address

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MOBILE = ("http://127.0.0.1/callback", "http://[::1]/callback", "gov.example.cers:/callback")


def test_five_failures_within_fifteen_minutes_lock_for_fifteen_minutes() -> None:
    policy, state = LockoutPolicy(), FailureState()
    for minute in range(4):
        state = state.after_failure(policy, NOW + timedelta(minutes=minute))
    assert not state.is_locked(NOW + timedelta(minutes=4))
    state = state.after_failure(policy, NOW + timedelta(minutes=4))
    assert state.is_locked(NOW + timedelta(minutes=18))
    assert not state.is_locked(NOW + timedelta(minutes=19, seconds=1))


def test_failures_spread_beyond_the_window_do_not_lock() -> None:
    policy, state = LockoutPolicy(), FailureState()
    for step in range(10):
        state = state.after_failure(policy, NOW + timedelta(minutes=4 * step))
        assert not state.is_locked(NOW + timedelta(minutes=4 * step))


def test_the_lockout_policy_is_configurable() -> None:
    policy = LockoutPolicy(max_failures=2, lock_for=timedelta(minutes=1))
    state = FailureState().after_failure(policy, NOW).after_failure(policy, NOW)
    assert state.is_locked(NOW + timedelta(seconds=59))
    assert not state.is_locked(NOW + timedelta(seconds=61))


def test_user_names_allow_only_the_documented_characters() -> None:
    assert check_username("jane.doe@acme-1_x") == []
    for bad in ("ab", "a" * 65, "jane doe", "jané", "x/y"):
        assert check_username(bad)[0].code == "INVALID_USERNAME"


def test_passwords_are_long_uncommon_and_impersonal() -> None:
    assert check_password("Orchid-Tundra-Piano-5", username="kim", email="kim@x.org") == []
    assert check_password("Password2024!")[0].code == "PASSWORD_TOO_COMMON"
    assert check_password("xx-KIMBERLY-xx-99", username="kimberly")[0].code == (
        "PASSWORD_CONTAINS_PERSONAL_DATA"
    )


def test_passwords_are_stored_as_argon2id_at_the_configured_cost() -> None:
    configure(HashCost())
    stored = hash_password("Orchid-Tundra-Piano-5")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_password(stored, "Orchid-Tundra-Piano-5")
    assert not verify_password(stored, "orchid-tundra-piano-5")
    assert not verify_password(None, "anything")
    configure(HashCost(memory_kib=19456, time_cost=2, parallelism=1))
    try:
        cheaper = hash_password("Orchid-Tundra-Piano-5")
        assert cheaper.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert verify_password(stored, "Orchid-Tundra-Piano-5")  # old hashes keep working
    finally:
        configure(HashCost())


def test_redirect_uris_match_exactly_except_the_loopback_port() -> None:
    web = ("https://cers.example/auth/callback",)
    assert redirect_uri_matches(web, "https://cers.example/auth/callback")
    assert not redirect_uri_matches(web, "https://cers.example/auth/callback/")
    assert not redirect_uri_matches(web, "https://cers.example:444/auth/callback")
    assert redirect_uri_matches(MOBILE, "http://127.0.0.1:61234/callback")
    assert redirect_uri_matches(MOBILE, "http://[::1]:8080/callback")
    assert redirect_uri_matches(MOBILE, "gov.example.cers:/callback")
    assert not redirect_uri_matches(MOBILE, "http://127.0.0.1:61234/other")
    assert not redirect_uri_matches(MOBILE, "http://localhost:61234/callback")
    assert not redirect_uri_matches(MOBILE, "https://127.0.0.1:61234/callback")
    assert not redirect_uri_matches(MOBILE, "http://127.0.0.1.evil.example:80/callback")


def test_clients_get_only_the_scopes_they_are_allowed() -> None:
    people = ("openid", "profile", "email", "offline_access")
    assert allowed_scope(people, "openid statewide:read email") == "openid email"
    assert allowed_scope(("statewide:read",), None) == "statewide:read"


def _request(peer: str, forwarded: str | None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "headers": headers, "client": (peer, 1234)})


def test_only_trusted_proxy_hops_are_believed() -> None:
    spoofed = "6.6.6.6, 203.0.113.9"
    assert client_address(_request("10.0.0.5", spoofed), 0) == "10.0.0.5"
    assert client_address(_request("10.0.0.5", spoofed), 1) == "203.0.113.9"
    assert client_address(_request("10.0.0.5", spoofed), 2) == "6.6.6.6"


def test_the_address_throttle_refuses_past_its_limit_and_recovers() -> None:
    now = [0.0]
    throttle = AddressThrottle(3, 60, clock=lambda: now[0])
    assert [throttle.allow("a") for _ in range(4)] == [True, True, True, False]
    assert throttle.allow("b")
    now[0] = 61
    assert throttle.allow("a")
