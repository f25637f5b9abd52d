"""The planner sends the same _entities request once even when its groups sit in different
steps: a group nothing waits for joins the later step's identical request."""

from __future__ import annotations

from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

from bench.real_system import facility_page_query
from gateway.plan import FetchNode
from gateway.planner import Planner
from gateway.supergraph import load_supergraph
from tests.e2e.system import ROOT


def _fetches(query: str) -> list[list[FetchNode]]:
    supergraph = load_supergraph((ROOT / "gateway" / "supergraph.graphql").read_text())
    document = parse(query)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    plan = Planner(supergraph, operation, fragments, {}).plan()
    return [step for stage in plan.stages for step in stage.steps]


def test_the_facility_pages_users_come_from_identity_in_one_request() -> None:
    steps = _fetches(facility_page_query())
    users = [(n, f) for n, step in enumerate(steps) for f in step
             if f.service == "identity" and f.entity]
    assert len(users) == 1, [f.operation for _, f in users]
    step, fetch = users[0]
    assert step == len(steps) - 1
    assert {t.path for t in fetch.targets} == {
        ("facility", "permits", "@", "issuedBy"),
        ("facility", "history", "@", "actor"),
        ("facility", "submittalElements", "@", "submittedBy"),
        ("facility", "submittalElements", "@", "review", "reviewer"),
    }
    assert sum(len(step) for step in steps) == 5


def test_a_group_that_a_later_one_needs_stays_in_its_step() -> None:
    # The facility's submittal elements are needed by the reviewers' fetch: they stay before it.
    steps = _fetches(facility_page_query())
    submittal = [n for n, step in enumerate(steps) for f in step if f.service == "submittal"]
    identity = [n for n, step in enumerate(steps) for f in step
                if f.service == "identity" and f.entity]
    assert submittal and identity and max(submittal) < min(identity)
