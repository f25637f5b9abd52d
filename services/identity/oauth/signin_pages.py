"""/authorize and the identifier-first sign-in steps (user name, Next; password, Next).

The authorization request travels between the steps as its query string in a hidden field,
and authlib validates it again before a code is issued, so a tampered field gains nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from authlib.oauth2.rfc6749.errors import OAuth2Error
from starlette.requests import Request
from starlette.responses import Response

from services.identity.domain.lockout import SignInOutcome, as_utc
from services.identity.metrics import IdentityMetrics
from services.identity.oauth import web
from services.identity.oauth.adapter import (
    FormRequest,
    OAuthResult,
    in_thread,
    oauth_request,
    query_request,
    to_response,
    with_params,
)
from services.identity.oauth.grants import parse_max_age
from services.identity.oauth.models import Client, SignedIn
from services.identity.oauth.server import IdentityServer
from services.identity.oauth.throttle import AddressThrottle, client_address
from services.identity.service_layer import signin
from services.identity.service_layer.deps import Deps

log = logging.getLogger(__name__)
INVALID = "The user name or password is not right."
MAX_QUERY = 4096


@dataclass
class Validated:
    request: FormRequest
    client: Client
    portal: str


class SignInPages:
    def __init__(
        self, deps: Deps, server: IdentityServer, throttle: AddressThrottle, trusted_hops: int,
        metrics: IdentityMetrics | None = None,
    ) -> None:
        self.deps = deps
        self.metrics = metrics
        self.server = server
        self.throttle = throttle
        self.trusted_hops = trusted_hops
        self.secure = deps.public_base_url.startswith("https://")
        self.issuer = deps.public_base_url.rstrip("/")

    def _redirect(self, result: OAuthResult) -> Response:
        """An authorization response (a code or an error) with RFC 9207's ``iss``, so a client
        talking to several providers can tell which one answered (mix-up attacks)."""
        status, body, headers = result
        headers = [
            (k, with_params(v, [("iss", self.issuer)]) if k.lower() == "location" else v)
            for k, v in headers
        ]
        return to_response((status, body, headers))

    async def _validate(
        self, request: Request, pairs: list[tuple[str, str]], end_user: SignedIn | None = None
    ) -> Validated | Response:
        base = await oauth_request(request, self.deps.public_base_url)
        req = query_request(base, pairs)

        def work() -> Any:
            try:
                # With end_user None, OIDC's prompt=none answers login_required to the client.
                return self.server.get_consent_grant(req, end_user=end_user)
            except OAuth2Error as error:
                return error

        outcome = await in_thread(self.deps, work)
        if isinstance(outcome, OAuth2Error):
            if outcome.redirect_uri:
                return self._redirect(self.server.handle_error_response(req, outcome))
            log.info("refused authorization request: %s", outcome.description or outcome.error)
            return web.message(
                request, portal="business", title="This sign-in link is not valid",
                lines=[
                    "The application that sent you here made a request we cannot accept:",
                    outcome.description or outcome.error,
                    "Go back to the application and try again.",
                ],
                status=400, secure=self.secure,
            )
        client: Client = outcome.request.client
        portal = client.spec.portal or req.payload.data.get("portal", "")
        if portal not in ("business", "regulator", "state"):
            return web.message(
                request, portal="business", title="Choose a portal",
                lines=["This application must say which portal to sign in to: "
                       "add portal=business or portal=regulator to the request."],
                status=400, secure=self.secure,
            )
        return Validated(req, client, portal)

    async def authorize(self, request: Request) -> Response:
        pairs = list(request.query_params.multi_items())
        current = await signin.current_session(self.deps, request.cookies.get(web.SESSION_COOKIE))
        params = dict(pairs)
        prompt = params.get("prompt", "").split()
        signed_in = None
        if current and "login" not in prompt:
            session_row, user = current
            auth_time = int(as_utc(session_row.created_at).timestamp())
            # OIDC Core §3.1.2.1: a sign-in older than max_age must be made again (and with
            # prompt=none that is login_required, which authlib answers for end_user None).
            max_age = parse_max_age(params.get("max_age"))
            now = self.deps.clock().timestamp()
            if max_age is None or now - auth_time <= max_age:
                signed_in = SignedIn(user, session_row.portal, session_row.id, auth_time)
        validated = await self._validate(request, pairs, signed_in)
        if not isinstance(validated, Validated):
            return validated
        if signed_in is not None and signed_in.portal == validated.portal:
            return await self._issue_code(validated.request, signed_in)
        return self._username_page(request, validated.portal, urlencode(pairs))

    def _username_page(
        self, request: Request, portal: str, q: str, username: str = "", error: str | None = None
    ) -> Response:
        return web.render(
            request, "signin_username.html", portal=portal, title="Sign in", q=q,
            username=username, error=error, status=400 if error else 200, secure=self.secure,
        )

    def _password_page(
        self, request: Request, portal: str, q: str, username: str, error: str | None = None,
        status: int = 200,
    ) -> Response:
        return web.render(
            request, "signin_password.html", portal=portal, title="Enter your password", q=q,
            username=username, error=error, status=status, secure=self.secure,
        )

    async def _form(self, request: Request) -> tuple[dict[str, str], Validated | Response]:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        q = form.get("q", "")[:MAX_QUERY]
        if not web.csrf_ok(request, form.get("csrf")):
            return form, web.message(
                request, portal="business", title="Please start again",
                lines=["This form expired or was opened in another browser. "
                       "Go back to the application and sign in again."],
                status=403, secure=self.secure,
            )
        return form, await self._validate(request, parse_qsl(q, keep_blank_values=True))

    async def username_step(self, request: Request) -> Response:
        form, validated = await self._form(request)
        if not isinstance(validated, Validated):
            return validated
        q = form.get("q", "")
        username = form.get("username", "").strip()
        if not username:
            return self._username_page(request, validated.portal, q, error="Enter your user name.")
        # Known or not, the next step looks the same.
        return self._password_page(request, validated.portal, q, username)

    async def password_step(self, request: Request) -> Response:
        form, validated = await self._form(request)
        if not isinstance(validated, Validated):
            return validated
        q, username = form.get("q", ""), form.get("username", "").strip()
        portal = validated.portal
        address = client_address(request, self.trusted_hops)
        wait = self.throttle.attempt(address)
        if wait is not None:
            log.warning("sign-in throttled for address %s", address)
            if self.metrics is not None:
                self.metrics.signin("throttled")
            response = self._password_page(
                request, portal, q, username, status=429,
                error="Too many sign-in attempts from your network. Wait a minute and try again.",
            )
            response.headers["retry-after"] = str(wait)
            return response
        result = await signin.check_credentials(
            self.deps, username, form.get("password", ""), portal
        )
        if self.metrics is not None:
            self.metrics.signin(result.outcome.value, locked_now=result.locked_now)
        if result.outcome is SignInOutcome.INVALID:
            return self._password_page(request, portal, q, username, error=INVALID, status=401)
        if result.outcome is SignInOutcome.LOCKED:
            assert result.locked_until is not None
            until = result.locked_until.strftime("%H:%M UTC on %d %B %Y")
            return web.message(
                request, portal=portal, title="Your account is locked", status=403,
                lines=[f"After too many wrong passwords your account is locked until {until}.",
                       "Try again then, or reset your password to unlock it now."],
                links=[(f"/account/forgot?portal={portal}", "Reset your password")],
                secure=self.secure,
            )
        if result.outcome is SignInOutcome.NOT_ACTIVATED:
            return web.message(
                request, portal=portal, title="Your account is not activated yet", status=403,
                lines=["Open the activation link we emailed you when you signed up.",
                       "The link is valid for 24 hours. You can ask for a new one."],
                links=[(f"/account/resend-activation?portal={portal}",
                        "Send me a new activation link")],
                secure=self.secure,
            )
        assert result.user is not None
        if result.outcome is SignInOutcome.WRONG_PORTAL:
            other = web.PORTALS[result.user.portal][0]
            return web.message(
                request, portal=portal, title="This account uses another portal", status=403,
                lines=[f"Your account belongs to the {other}. Sign in there instead."],
                secure=self.secure,
            )
        cookie = await signin.start_session(self.deps, result.user)
        current = await signin.current_session(self.deps, cookie)
        assert current is not None
        signed_in = SignedIn(result.user, portal, current[0].id,
                             int(as_utc(current[0].created_at).timestamp()))
        response = await self._issue_code(validated.request, signed_in)
        web.set_cookie(response, web.SESSION_COOKIE, cookie, secure=self.secure,
                       max_age=int(signin.SESSION_LIFETIME.total_seconds()))
        return response

    async def _issue_code(self, req: FormRequest, signed_in: SignedIn) -> Response:
        def work() -> Any:
            try:
                grant = self.server.get_consent_grant(req, end_user=signed_in)
            except OAuth2Error as error:
                return self.server.handle_error_response(req, error)
            return self.server.create_authorization_response(req, signed_in, grant)

        return self._redirect(await in_thread(self.deps, work))
