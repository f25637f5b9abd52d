from __future__ import annotations

import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from common.natsserver import NatsServerProcess
from tests.e2e import client
from tests.e2e.system import ROOT, RunningSystem, eventually

DEMO_BUSINESS = ("demo.business", "Demo-Business-2026!")
DEMO_REGULATOR = ("demo.plumas", "Demo-Plumas-2026!")
PASSWORD = "Lassen-Peak-Snowmelt-42"
# Tokens live 15 minutes; sign in again well before that.
TOKEN_AGE = 600.0
# A county with no agency in the demo data, for another county's regulator.
OTHER_COUNTY = "Sierra"

ME = "{ me { id username portal } }"
REGISTER = """mutation Register($input: RegisterAccountInput!) {
  registerAccount(input: $input) { message userErrors { field code message } }
}"""
CREATE_BUSINESS = """mutation CreateBusiness($input: CreateBusinessInput!) {
  createBusiness(input: $input) {
    organization { id name orgCode }
    facility { id cersId name county complianceStatus regulator { name } }
    userErrors { field code message }
  }
}"""


class Actors:
    """The people and clients of the journeys, signed in once and reused."""

    def __init__(self, system: RunningSystem) -> None:
        self.system = system
        self._tokens: dict[str, tuple[float, str]] = {}
        self.passwords = {DEMO_BUSINESS[0]: DEMO_BUSINESS[1], DEMO_REGULATOR[0]: DEMO_REGULATOR[1]}
        self.portals = {DEMO_BUSINESS[0]: "business", DEMO_REGULATOR[0]: "regulator"}
        self.names: dict[str, str] = {}
        # Names unique to this run, so a journey can run again on a system that is kept.
        self.suffix = secrets.token_hex(3)

    def username(self, name: str) -> str:
        """The account name of a journey's person in this run."""
        return self.names.get(name, name)

    def email(self, name: str) -> str:
        return f"{name}.{self.suffix}@example.com"

    def token(self, username: str) -> str:
        cached = self._tokens.get(username)
        name = self.username(username)
        if cached and time.monotonic() - cached[0] < TOKEN_AGE:
            return cached[1]
        if username == "state-demo":
            response = client.client_credentials(self.system, "state-demo", "state-demo-secret")
            assert response.status_code == 200, response.text
            token = str(response.json()["access_token"])
        else:
            token = client.sign_in(self.system, name, self.passwords[username],
                                   self.portals[username]).access_token
        self._tokens[username] = (time.monotonic(), token)
        return token

    def gql(self, username: str | None, query: str,
            variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.system.graphql(query, variables, self.token(username) if username else None)

    def register(self, username: str, portal: str = "business", first: str = "Sam",
                 last: str = "Tester") -> str:
        """A new account, activated through its emailed link on the hosted page."""
        self.names[username] = f"{username}.{self.suffix}"
        email = self.email(username)
        body = self.system.graphql(REGISTER, {"input": {
            "portal": portal.upper(), "username": self.username(username), "email": email,
            "password": PASSWORD, "firstName": first, "lastName": last, "title": "Owner",
            "phone": "(530) 555-0123",
        }})
        assert client.payload(body, "registerAccount")["userErrors"] == [], body
        activate(self.system, email)
        self.passwords[username] = PASSWORD
        self.portals[username] = portal
        # Sign-up answers without the account (it must not tell a taken address from a new
        # one); the account's owner learns its id by signing in.
        return str(client.data(self.gql(username, ME))["me"]["id"])

    def state_account(self, username: str, first: str = "Stacy", last: str = "State") -> None:
        """A STATE account, made the only way there is: an operator's command."""
        self.names[username] = f"{username}.{self.suffix}"
        run_operator_command(
            self.system, "-m", "services.identity", "create-state-account",
            "--username", self.username(username), "--email", self.email(username),
            "--first-name", first, "--last-name", last,
            env={"IDENTITY_NEW_PASSWORD": PASSWORD},
        )
        self.passwords[username] = PASSWORD
        self.portals[username] = "state"

    def business(self, username: str, name: str, county: str = "Plumas",
                 street: str | None = None, city: str | None = None) -> dict[str, Any]:
        """A new business (and its first facility) of an existing business account."""
        body = self.gql(username, CREATE_BUSINESS, {"input": {"name": name, "facility": {
            "name": f"{name} - Main Site", "county": county, "city": city,
            "siteAddress": {"street": street or f"{secrets.randbelow(90000) + 100} Main Street",
                            "city": city or county, "state": "CA", "zip": "95971"},
        }}})
        return client.payload(body, "createBusiness")


def activate(system: RunningSystem, email: str) -> None:
    """Follow the activation link: open the page, press Activate."""
    token = client.mailed_link(system, email, "/account/activate")
    with client.browser(system) as http:
        page = http.get(f"/account/activate?token={token}")
        assert page.status_code == 200, page.text
        done = client.submit_form(http, page, "/account/activate")
    assert done.status_code == 200 and "Your account is active" in done.text, done.text


def run_operator_command(system: RunningSystem, *args: str,
                         env: dict[str, str] | None = None) -> str:
    """An operator's CLI command against the running system's data, as `make run` sets it."""
    result = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**system.env, **(env or {})},
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@contextmanager
def own_nats(folder: Path) -> Iterator[str]:
    """A nats-server of one system's own.

    Systems sharing a server would share its streams and durable consumers, so one system's
    services would take (and acknowledge) events meant for another's.
    """
    server = NatsServerProcess(folder / "nats")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    """The whole system with its demo data, started once like `make run` starts it."""
    folder = tmp_path_factory.mktemp("e2e")
    with own_nats(folder) as nats_url:
        yield from _running(RunningSystem(folder / "var", nats_url, demo=True))


def _running(running: RunningSystem) -> Iterator[RunningSystem]:
    # Every journey signs in from 127.0.0.1; the per-address throttle is not what they test.
    running.env["IDENTITY_ADDRESS_ATTEMPTS_PER_MINUTE"] = "1000"
    running.start()
    try:
        yield running
    finally:
        assert running.stop() == 0, "".join(running.output[-80:])


@pytest.fixture(scope="session")
def actors(system: RunningSystem) -> Actors:
    actors = Actors(system)
    # The demo lead user's membership arrives by event once identity reports the account.
    eventually(lambda: _has_business(actors, DEMO_BUSINESS[0]), timeout=60)
    return actors


def _has_business(actors: Actors, username: str) -> bool:
    body = actors.gql(username, "{ myBusinesses { totalCount } }")
    return not body.get("errors") and body["data"]["myBusinesses"]["totalCount"] > 0


@pytest.fixture(scope="session")
def other_county_regulator(system: RunningSystem, actors: Actors) -> str:
    """The ADMIN of Sierra County's agency, made by the operator's command: not Plumas staff."""
    run_operator_command(
        system, "-m", "services.facility", "create-agency",
        "--name", f"{OTHER_COUNTY} County Environmental Health", "--county", OTHER_COUNTY,
        "--admin-email", actors.email("sierra.admin"),
    )
    actors.register("sierra.admin", "regulator", "Sid", "Sierra")
    eventually(lambda: _is_staff(actors, "sierra.admin"), timeout=30)
    return "sierra.admin"


def _is_staff(actors: Actors, username: str) -> bool:
    body = actors.gql(username, "query($county: String) { regulatorAgencies(county: $county) {"
                                " staff { role } } }", {"county": OTHER_COUNTY})
    agencies = body.get("data", {}).get("regulatorAgencies") or []
    return any(a["staff"] for a in agencies)


@pytest.fixture(scope="session")
def outsider(actors: Actors) -> str:
    """A business user with a business of their own in the same county."""
    actors.register("olive.outsider", first="Olive", last="Outsider")
    actors.business("olive.outsider", "Outsider Hardware", city="Quincy")
    return "olive.outsider"



@pytest.fixture(scope="session")
def live_business(actors: Actors) -> dict[str, Any]:
    """The live-update journeys' own business in Plumas (the demo regulator's county), so the
    demo facilities other journeys read stay as they are."""
    actors.register("liv.live", first="Liv", last="Live")
    created = actors.business("liv.live", f"Live Wire Supply {actors.suffix}", city="Quincy")
    return dict(created["facility"])
