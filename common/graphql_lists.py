"""Completing long lists of plain objects without graphql-core's per-field machinery.

graphql-core completes every field of every list item on its own: a resolve info, a path, a
resolver call and a completion per field. For a search page of 650 materials of five to
fourteen leaf fields each, that bookkeeping costs more than the search. When every selected
field of a list's items is a plain attribute (a Strawberry field without resolver,
arguments, extensions or sub-selection) holding a scalar, an enum or a list of them, this
execution context reads the attributes and coerces the values in one loop, with the same
output coercion and the same result. Anything else, and any value that would be an error
(a null in a non-null field, a value the type refuses), goes the ordinary way, which then
reports it exactly as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from graphql import (
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    Undefined,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import AwaitableOrValue, Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF


class _Slot(NamedTuple):
    key: str  # the response key (alias or field name)
    attribute: str | None  # None: __typename
    leaf: GraphQLLeafType | None
    non_null: bool
    is_list: bool
    item_non_null: bool


class _Refused(Exception):
    """A value the fast path does not complete: the ordinary path will."""


class _Plan(NamedTuple):
    typename: str
    item_non_null: bool
    slots: tuple[_Slot, ...]


def _slot(object_type: GraphQLObjectType, key: str, details: FieldDetailsList
          ) -> _Slot | None:
    node = details[0].node
    name = node.name.value
    if name == "__typename":
        return _Slot(key, None, None, True, False, False)
    field = object_type.fields.get(name)
    if field is None or field.args or node.selection_set is not None or any(
            d.node.arguments for d in details):
        return None
    definition = (field.extensions or {}).get(BACKREF)
    if (not getattr(field.resolve, "_is_default", False) or definition is None
            or not definition.is_basic_field or definition.default_resolver is not getattr):
        return None
    field_type: Any = field.type
    non_null = is_non_null_type(field_type)
    if non_null:
        field_type = field_type.of_type
    is_list = item_non_null = False
    if is_list_type(field_type):
        is_list, field_type = True, field_type.of_type
        item_non_null = is_non_null_type(field_type)
        if item_non_null:
            field_type = field_type.of_type
    if not is_leaf_type(field_type):
        return None
    return _Slot(key, definition.python_name, field_type, non_null, is_list, item_non_null)


def _leaf(leaf: GraphQLLeafType, value: Any) -> Any:
    coerced = leaf.coerce_output_value(value)
    if coerced is None or coerced is Undefined:
        raise _Refused
    return coerced


def _complete(plan: _Plan, items: Iterable[Any]) -> list[Any]:
    completed: list[Any] = []
    append = completed.append
    slots = plan.slots
    for item in items:
        if item is None:
            if plan.item_non_null:
                raise _Refused
            append(None)
            continue
        out: dict[str, Any] = {}
        for key, attribute, leaf, non_null, is_list, item_non_null in slots:
            if attribute is None:
                out[key] = plan.typename
                continue
            value = getattr(item, attribute)
            if value is None:
                if non_null:
                    raise _Refused
                out[key] = None
            elif is_list:
                if isinstance(value, str | bytes | dict) or not isinstance(value, Iterable):
                    raise _Refused
                values: list[Any] = []
                for element in value:
                    if element is None:
                        if item_non_null:
                            raise _Refused
                        values.append(None)
                    else:
                        values.append(_leaf(leaf, element))  # type: ignore[arg-type]
                out[key] = values
            else:
                out[key] = _leaf(leaf, value)  # type: ignore[arg-type]
        append(out)
    return completed


class FlatListsExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, completing lists of plain leaf-field objects in one
    loop (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Keyed like graphql-core's own memo, on the identity of the field group, which is
        # kept alive with its plan so that the identity cannot be reused during execution.
        self._flat_plans: dict[tuple[int, int], tuple[FieldDetailsList, _Plan | None]] = {}

    def _plan(self, item_type: GraphQLOutputType, details: FieldDetailsList) -> _Plan | None:
        key = (id(item_type), id(details))
        cached = self._flat_plans.get(key)
        if cached is not None:
            return cached[1]
        plan = self._build_plan(item_type, details)
        self._flat_plans[key] = (details, plan)
        return plan

    def _build_plan(self, item_type: GraphQLOutputType, details: FieldDetailsList
                    ) -> _Plan | None:
        item_non_null = is_non_null_type(item_type)
        object_type: Any = item_type
        if item_non_null:
            object_type = object_type.of_type
        if not is_object_type(object_type) or object_type.is_type_of is not None:
            return None
        if any(d.node.directives for d in details):  # @stream and the like
            return None
        grouped, new_defers, _forbidden = self.collect_subfields(object_type, details)
        if new_defers or not grouped:
            return None
        slots = []
        for key, field_details in grouped.items():
            slot = _slot(object_type, key, field_details)
            if slot is None:
                return None
            slots.append(slot)
        return _Plan(object_type.name, item_non_null, tuple(slots))

    def complete_iterable_value(
        self,
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        items: Iterable[Any],
        position_context: Any,
    ) -> AwaitableOrValue[list[Any]]:
        if isinstance(items, list | tuple):
            plan = self._plan(item_type, field_details_list)
            if plan is not None:
                try:
                    return _complete(plan, items)
                except Exception:  # noqa: BLE001 - the ordinary path reports it, located
                    pass
        return super().complete_iterable_value(
            item_type, field_details_list, info, path, items, position_context)
