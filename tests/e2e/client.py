"""A client of the running system as a real one would be: hosted sign-in pages, tokens, GraphQL.

Everything goes through the gateway's one origin (PUBLIC_BASE_URL), as a browser or an app
would see it; the mail drop stands in for the user's inbox.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from common.mail import read_mail_drop
from tests.e2e.system import RunningSystem, eventually

SCOPES = "openid profile email offline_access"
CLIENTS = {"business": "business-web", "regulator": "regulator-web", "state": "state-web"}


@dataclass
class Tokens:
    access_token: str
    refresh_token: str | None
    portal: str


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"the page has no hidden field {name}:\n{html[:2000]}"
    return found.group(1).replace("&amp;", "&")


def browser(system: RunningSystem) -> httpx.Client:
    """A fresh browser: its own cookie jar, no redirects followed for it."""
    return httpx.Client(base_url=system.base_url, timeout=30, follow_redirects=False)


def callback(system: RunningSystem) -> str:
    return f"{system.base_url}/auth/callback"


def fill_sign_in(
    system: RunningSystem, http: httpx.Client, username: str, password: str, portal: str,
    challenge: str, state: str,
) -> httpx.Response:
    """/authorize, user name, Next, password, Next; returns the last answer."""
    page = http.get("/authorize?" + urlencode({
        "response_type": "code", "client_id": CLIENTS[portal], "redirect_uri": callback(system),
        "scope": SCOPES, "state": state, "code_challenge": challenge,
        "code_challenge_method": "S256",
    }))
    assert page.status_code == 200, page.text
    step2 = http.post("/account/signin/username", data={
        "csrf": hidden(page.text, "csrf"), "q": hidden(page.text, "q"), "username": username,
    })
    assert step2.status_code == 200, step2.text
    return http.post("/account/signin/password", data={
        "csrf": hidden(step2.text, "csrf"), "q": hidden(step2.text, "q"),
        "username": username, "password": password,
    })


def sign_in(system: RunningSystem, username: str, password: str,
            portal: str = "business") -> Tokens:
    """Sign in like the portal does, and exchange the code for tokens."""
    verifier, challenge = pkce()
    state = secrets.token_urlsafe(8)
    with browser(system) as http:
        answer = fill_sign_in(system, http, username, password, portal, challenge, state)
        assert answer.status_code in (302, 303), f"{username} was not signed in:\n{answer.text}"
        location = answer.headers["location"]
        assert location.startswith(callback(system)), location
        query = parse_qs(urlsplit(location).query)
        assert query["state"] == [state]
        token = http.post("/token", data={
            "grant_type": "authorization_code", "code": query["code"][0],
            "redirect_uri": callback(system), "client_id": CLIENTS[portal],
            "code_verifier": verifier,
        })
    assert token.status_code == 200, token.text
    body = token.json()
    return Tokens(body["access_token"], body.get("refresh_token"), portal)


def client_credentials(system: RunningSystem, client_id: str, secret: str,
                       scope: str = "statewide:read") -> httpx.Response:
    return httpx.post(f"{system.base_url}/token", data={
        "grant_type": "client_credentials", "scope": scope,
    }, auth=(client_id, secret), timeout=30)


def mails_to(system: RunningSystem, address: str) -> list[Any]:
    return [m for m in read_mail_drop(system.data_dir / "mail") if address in str(m["To"])]


def mailed_link(system: RunningSystem, address: str, path: str, after: int = 0) -> str:
    """The token of the newest `path?token=` link mailed to `address` (awaited, bounded)."""
    pattern = re.compile(rf"{re.escape(system.base_url)}{re.escape(path)}\?token=([\w.~-]+)")

    def probe() -> str | None:
        for message in reversed(mails_to(system, address)[after:]):
            found = pattern.search(message.get_content())
            if found:
                return found.group(1)
        return None

    return eventually(probe, timeout=20)


def mail_with(system: RunningSystem, address: str, words: str, after: int = 0) -> Any:
    """The first message to `address` (after the first `after`) whose text has `words`."""
    def probe() -> Any:
        for message in mails_to(system, address)[after:]:
            if words in message.get_content():
                return message
        return None

    return eventually(probe, timeout=20)


def submit_form(http: httpx.Client, page: httpx.Response, action: str,
                **fields: str) -> httpx.Response:
    """Post a hosted page's form with its CSRF token and hidden fields, as a browser would."""
    data = {"csrf": hidden(page.text, "csrf")}
    for name in ("portal", "token", "q"):
        if f'name="{name}"' in page.text:
            data[name] = hidden(page.text, name)
    return http.post(action, data={**data, **fields})


def errors(body: dict[str, Any]) -> list[str]:
    """The codes of a GraphQL answer's errors (extensions.code)."""
    return [e.get("extensions", {}).get("code", "?") for e in body.get("errors") or []]


def denied(body: dict[str, Any]) -> bool:
    """Refused with nothing done: FORBIDDEN, or NOT_FOUND for a caller who may not see it."""
    return errors(body) in (["FORBIDDEN"], ["NOT_FOUND"]) and not any(
        (body.get("data") or {}).values()
    )


def data(body: dict[str, Any]) -> dict[str, Any]:
    """The data of an answer that must have no errors."""
    assert not body.get("errors"), body
    result: dict[str, Any] = body["data"]
    return result


def payload(body: dict[str, Any], field: str) -> dict[str, Any]:
    """A mutation's payload, asserting it has neither errors nor userErrors."""
    result: dict[str, Any] = data(body)[field]
    assert result["userErrors"] == [], result["userErrors"]
    return result
