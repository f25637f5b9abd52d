"""docs/walkthrough.md runs as written: every operation, in order, gets its documented answer."""

from __future__ import annotations

import re
import time
from typing import Any

from tests.e2e import client
from tests.e2e.conftest import Actors
from tests.e2e.system import ROOT, RunningSystem
from tests.e2e.walkthrough import Example, mismatch, parse, substitute

DOC = ROOT / "docs" / "walkthrough.md"
# Eventual consistency: a query is asked again until it gets its documented answer, and a
# mutation refused with UNAVAILABLE or NOT_FOUND (a read model still catching up, so nothing
# was done) is sent again, as DESIGN §8 asks of clients.
PATIENCE = 30.0


def test_the_walkthrough_has_every_journey() -> None:
    text = DOC.read_text()
    for number in range(1, 9):
        assert re.search(rf"^## {number}\. ", text, re.M), f"journey {number} is missing"
    assert all(e.response is not None for e in parse(DOC))


def test_every_example_of_the_walkthrough_gets_its_documented_answer(
    system: RunningSystem, actors: Actors
) -> None:
    bound: dict[str, Any] = {}

    def mail(what: str) -> str:
        # "<token from the email to ADDRESS>" or "<token from the reset email to ADDRESS>"
        path = "/account/reset" if what.startswith("reset ") else "/account/activate"
        return client.mailed_link(system, what.rsplit(" ", 1)[-1], path)

    for example in parse(DOC):
        variables = substitute(example.variables, bound, mail)
        _remember_account(actors, example, variables)
        token = None if example.caller == "anonymous" else actors.token(example.caller)
        is_query = not example.operation.lstrip("# as:").split("\n", 1)[1].lstrip().startswith(
            "mutation")
        deadline = time.monotonic() + PATIENCE
        while True:
            answer = system.graphql(example.operation, variables, token)
            attempt = dict(bound)
            problem = mismatch(example.response, answer, attempt)
            if problem is None:
                bound = attempt
                break
            # A refused mutation changed nothing, and the refusing service's read model may not
            # have seen a grant yet (a role change reaches submittal as an event): wait for it.
            expects_data = example.response is not None and "errors" not in example.response
            lagging = ["FORBIDDEN"] if expects_data else []
            retry = is_query or client.errors(answer) in (["UNAVAILABLE"], ["NOT_FOUND"], lagging)
            assert retry and time.monotonic() < deadline, (
                f"docs/walkthrough.md:{example.line} ({example.caller}): {problem}\n"
                f"got: {answer}"
            )
            time.sleep(0.2)


def _remember_account(actors: Actors, example: Example, variables: dict[str, Any]) -> None:
    # Accounts the walkthrough registers sign in later with the password it chose.
    given = variables.get("input", {})
    if "registerAccount" in example.operation and "password" in given:
        actors.passwords[given["username"]] = given["password"]
        actors.portals[given["username"]] = given["portal"].lower()
    if "resetPassword" in example.operation:
        address = str(example.variables["input"]["token"]).rstrip(">").rsplit(" ", 1)[-1]
        actors.passwords[address.split("@")[0]] = given["newPassword"]
