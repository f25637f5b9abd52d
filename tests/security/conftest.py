"""The whole system as `make run` starts it, attacked from outside.

The gateway runs as in production for callers (GATEWAY_INTROSPECTION=0: no introspection,
no "Did you mean" hints); everything else is the embedded run with its demo data.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import DEMO_BUSINESS, Actors, _has_business, _running, own_nats
from tests.e2e.system import RunningSystem, eventually


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    folder = tmp_path_factory.mktemp("security")
    with own_nats(folder) as nats_url:
        running = RunningSystem(folder / "var", nats_url, demo=True)
        running.env["GATEWAY_INTROSPECTION"] = "0"
        yield from _running(running)


@pytest.fixture(scope="session")
def actors(system: RunningSystem) -> Actors:
    actors = Actors(system)
    eventually(lambda: _has_business(actors, DEMO_BUSINESS[0]), timeout=60)
    return actors


@pytest.fixture(scope="session")
def facility_id(actors: Actors) -> str:
    """The demo business's first facility."""
    body = actors.gql(DEMO_BUSINESS[0], "{ myBusinesses { edges { node { facilities { edges {"
                                        " node { id } } } } } } }")
    return str(body["data"]["myBusinesses"]["edges"][0]["node"]["facilities"]["edges"][0]
               ["node"]["id"])
