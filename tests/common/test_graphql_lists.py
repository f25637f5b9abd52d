from __future__ import annotations

import enum
from typing import Any

import strawberry

from common.graphql_lists import FlatListsExecutionContext


@strawberry.enum
class State(enum.Enum):
    SOLID = "SOLID"
    GAS = "GAS"


@strawberry.type
class Material:
    name: str
    amount: float | None
    state: State | None
    hazards: list[State]
    cas: str

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


ROWS: list[Material] = []


@strawberry.type
class Query:
    @strawberry.field
    def materials(self) -> list[Material]:
        return ROWS


class Counting(FlatListsExecutionContext):
    built = 0

    def build_resolve_info(self, *args: Any, **kwargs: Any) -> Any:
        Counting.built += 1
        return super().build_resolve_info(*args, **kwargs)


ordinary = strawberry.Schema(query=Query)
flat = strawberry.Schema(query=Query, execution_context_class=Counting)

QUERIES = [
    "{ materials { name amount state hazards cas } }",
    "{ materials { n: name __typename ...F m: amount @include(if: true) "
    "cas @skip(if: true) } } fragment F on Material { state hazards }",
    "{ materials { name shout } }",  # a field with a resolver: the ordinary way
]


def rows(count: int) -> list[Material]:
    return [Material(name=f"m{i}", amount=i / 3 if i % 2 else None,
                     state=State.GAS if i % 3 else None, hazards=[State.SOLID, State.GAS][:i % 3],
                     cas=f"{i}-00-0") for i in range(count)]


def both(query: str) -> tuple[Any, Any]:
    a, b = ordinary.execute_sync(query), flat.execute_sync(query)
    return ((a.data, [(e.message, e.path) for e in a.errors or ()]),
            (b.data, [(e.message, e.path) for e in b.errors or ()]))


def test_a_list_of_plain_objects_completes_exactly_as_graphql_core_does() -> None:
    ROWS[:] = rows(50)
    for query in QUERIES:
        expected, got = both(query)
        assert got == expected
        assert got[0]["materials"][1]


def test_the_items_fields_are_completed_without_a_resolve_info_each() -> None:
    ROWS[:] = rows(200)
    Counting.built = 0
    assert not flat.execute_sync(QUERIES[0]).errors
    assert Counting.built <= 2  # the root field and the list; not 200 x 5 fields


def test_a_null_in_a_non_null_field_is_the_same_located_error() -> None:
    ROWS[:] = rows(5)
    ROWS[3].cas = None  # type: ignore[assignment]
    expected, got = both("{ materials { name cas } }")
    assert got == expected
    assert got[1] == [("Cannot return null for non-nullable field Material.cas.",
                       ["materials", 3, "cas"])]


def test_a_value_the_type_refuses_is_the_same_error() -> None:
    ROWS[:] = rows(3)
    ROWS[1].state = "LIQUID"  # type: ignore[assignment]
    expected, got = both("{ materials { name state } }")
    assert got == expected
    assert got[1] and got[1][0][1] == ["materials", 1, "state"]
