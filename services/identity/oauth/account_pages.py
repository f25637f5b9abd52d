"""The hosted account pages: forgot user name or password, activation, reset, email change.

Links in emails open a page with a button; the POST does the work, so a mail scanner that
fetches links cannot spend a token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from services.identity.oauth import web
from services.identity.service_layer import accounts, recovery
from services.identity.service_layer.deps import Deps

SENT = "If an account matches, we have sent an email to its address. It may take a few minutes."


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    type: str = "text"
    autocomplete: str = "off"


class AccountPages:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.secure = deps.public_base_url.startswith("https://")

    def _form_page(
        self, request: Request, portal: str, title: str, action: str, fields: list[Field],
        button: str, hidden: list[tuple[str, str]] | None = None, lines: list[str] | None = None,
        error: str | None = None, status: int = 200,
    ) -> Response:
        return web.render(
            request, "form.html", portal=portal, title=title, action=action, fields=fields,
            button=button, hidden=hidden or [], lines=lines or [], links=[], error=error,
            status=status, secure=self.secure,
        )

    async def _post(self, request: Request) -> tuple[dict[str, str], str, Response | None]:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        portal = web.portal_or_default(form.get("portal"))
        if not web.csrf_ok(request, form.get("csrf")):
            return form, portal, web.message(
                request, portal=portal, title="Please try again", status=403,
                lines=["This form expired or was opened in another browser. Reload the page."],
                secure=self.secure,
            )
        return form, portal, None

    def _sent(self, request: Request, portal: str) -> Response:
        return web.message(request, portal=portal, title="Check your email", lines=[SENT],
                           secure=self.secure)

    def _portal(self, request: Request) -> str:
        return web.portal_or_default(request.query_params.get("portal"))

    async def forgot(self, request: Request) -> Response:
        return web.render(request, "forgot.html", portal=self._portal(request),
                          title="Forgot your user name or password?", secure=self.secure)

    async def forgot_username(self, request: Request) -> Response:
        form, portal, refused = await self._post(request)
        if refused:
            return refused
        await recovery.recover_username(self.deps, form.get("email", ""))
        return self._sent(request, portal)

    async def forgot_password(self, request: Request) -> Response:
        form, portal, refused = await self._post(request)
        if refused:
            return refused
        await recovery.request_password_reset(self.deps, form.get("username_or_email", ""))
        return self._sent(request, portal)

    async def resend_activation(self, request: Request) -> Response:
        if request.method == "GET":
            return self._form_page(
                request, self._portal(request), "Send a new activation link",
                "/account/resend-activation", [Field("email", "Email address", "email", "email")],
                "Send",
            )
        form, portal, refused = await self._post(request)
        if refused:
            return refused
        await recovery.resend_activation(self.deps, form.get("email", ""))
        return self._sent(request, portal)

    async def activate(self, request: Request) -> Response:
        return await self._token_page(
            request, "/account/activate", "Activate your account", "Activate",
            lambda token, _: accounts.activate(self.deps, token),
            "Your account is active. You can now sign in.",
        )

    async def confirm_email(self, request: Request) -> Response:
        return await self._token_page(
            request, "/account/confirm-email", "Confirm your new email address", "Confirm",
            lambda token, _: accounts.activate(self.deps, token),
            "Your new email address is confirmed and now in use.",
        )

    async def reset(self, request: Request) -> Response:
        return await self._token_page(
            request, "/account/reset", "Choose a new password", "Save password",
            lambda token, form: recovery.reset_password(
                self.deps, token, form.get("new_password", "")
            ),
            "Your password is changed. Sign in with the new one.",
            fields=[Field("new_password", "New password (at least 12 characters)", "password",
                          "new-password")],
        )

    async def _token_page(
        self, request: Request, action: str, title: str, button: str, run: Any, done: str,
        fields: list[Field] | None = None,
    ) -> Response:
        if request.method == "GET":
            token = request.query_params.get("token", "")
            return self._form_page(request, self._portal(request), title, action, fields or [],
                                   button, hidden=[("token", token)])
        form, portal, refused = await self._post(request)
        if refused:
            return refused
        result: accounts.Result = await run(form.get("token", ""), form)
        if result.problems:
            return self._form_page(
                request, portal, title, action, fields or [], button,
                hidden=[("token", form.get("token", ""))],
                error=" ".join(p.message for p in result.problems), status=400,
            )
        return web.message(request, portal=portal, title=title, lines=[done],
                           secure=self.secure)
