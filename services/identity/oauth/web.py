"""Rendering the hosted pages: portal colours, CSRF double-submit cookie, safe headers.

The pages work without JavaScript: plain forms, labels on every input, server-side steps.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

CSRF_COOKIE = "cers_csrf"
SESSION_COOKIE = "cers_sid"
PORTALS = {
    "business": ("Business Portal", "#1b6e3a"),  # green
    "regulator": ("Regulator Portal", "#1f4e99"),  # blue
    "state": ("State Portal", "#4a4a4a"),
}
SECURITY_HEADERS = {
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'",
}

templates = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(["html"]),
)


def portal_or_default(value: str | None) -> str:
    return value if value in PORTALS else "business"


def csrf_token(request: Request) -> str:
    token = request.cookies.get(CSRF_COOKIE, "")
    if len(token) < 20:
        token = request.scope.setdefault("state", {}).setdefault(
            "csrf", secrets.token_urlsafe(24)
        )
    return token


def csrf_ok(request: Request, submitted: str | None) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return bool(cookie) and bool(submitted) and hmac.compare_digest(cookie, submitted or "")


def render(
    request: Request, template: str, *, portal: str, title: str, status: int = 200,
    secure: bool = False, **context: Any,
) -> HTMLResponse:
    name, accent = PORTALS[portal_or_default(portal)]
    csrf = csrf_token(request)
    body = templates.get_template(template).render(
        portal=portal_or_default(portal), portal_name=name, accent=accent, title=title,
        csrf=csrf, **context,
    )
    response = HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)
    set_cookie(response, CSRF_COOKIE, csrf, secure=secure)
    return response


def set_cookie(
    response: Any, name: str, value: str, *, secure: bool, max_age: int | None = None
) -> None:
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, secure=secure, samesite="lax", path="/"
    )


def message(
    request: Request, *, portal: str, title: str, lines: list[str],
    links: list[tuple[str, str]] | None = None, status: int = 200, error: str | None = None,
    secure: bool = False,
) -> HTMLResponse:
    return render(
        request, "message.html", portal=portal, title=title, lines=lines, links=links or [],
        status=status, error=error, secure=secure,
    )
