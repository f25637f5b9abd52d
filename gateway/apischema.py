"""Derives the client-facing API schema: drops join/link machinery and @inaccessible elements."""

from __future__ import annotations

from typing import Any

from graphql.language import (
    REMOVE,
    DirectiveDefinitionNode,
    DirectiveNode,
    DocumentNode,
    EnumValueDefinitionNode,
    FieldDefinitionNode,
    InputValueDefinitionNode,
    InterfaceTypeDefinitionNode,
    Node,
    ObjectTypeDefinitionNode,
    OperationTypeDefinitionNode,
    SchemaDefinitionNode,
    TypeDefinitionNode,
    UnionTypeDefinitionNode,
    Visitor,
    visit,
)


def _replace(node: Node, **changes: Any) -> Node:
    values = {k: getattr(node, k) for k in node.keys}
    values.update(changes)
    return type(node)(**values)


def _is_inaccessible(node: Node, inaccessible: str | None) -> bool:
    if inaccessible is None:
        return False
    return any(d.name.value == inaccessible for d in getattr(node, "directives", None) or ())


class _Strip(Visitor):
    def __init__(
        self,
        prefixes: set[str],
        directive_names: set[str],
        inaccessible: str | None,
        hidden_types: set[str],
    ) -> None:
        super().__init__()
        self.prefixes = tuple(prefixes)
        self.directive_names = directive_names
        self.inaccessible = inaccessible
        self.hidden_types = hidden_types

    def _spec(self, name: str) -> bool:
        return name in self.directive_names or name.startswith(self.prefixes)

    def enter(self, node: Node, *_: Any) -> Any:
        if isinstance(node, DirectiveNode):
            return REMOVE if self._spec(node.name.value) else None
        if isinstance(node, DirectiveDefinitionNode):
            return REMOVE if self._spec(node.name.value) else None
        if isinstance(node, TypeDefinitionNode) and node.name.value in self.hidden_types:
            return REMOVE
        if isinstance(
            node, FieldDefinitionNode | EnumValueDefinitionNode | InputValueDefinitionNode
        ) and _is_inaccessible(node, self.inaccessible):
            return REMOVE
        if isinstance(node, OperationTypeDefinitionNode):
            return REMOVE if node.type.name.value in self.hidden_types else None
        if isinstance(node, UnionTypeDefinitionNode):
            kept = tuple(t for t in node.types or () if t.name.value not in self.hidden_types)
            if len(kept) != len(node.types or ()):
                return _replace(node, types=kept)
        if isinstance(node, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
            kept_ifaces = tuple(
                t for t in node.interfaces or () if t.name.value not in self.hidden_types
            )
            if len(kept_ifaces) != len(node.interfaces or ()):
                return _replace(node, interfaces=kept_ifaces)
        return None


def build_api_document(
    doc: DocumentNode, prefixes: set[str], directive_names: set[str], inaccessible: str | None
) -> DocumentNode:
    """The supergraph document minus everything clients must not see."""
    hidden = {
        d.name.value
        for d in doc.definitions
        if isinstance(d, TypeDefinitionNode)
        and (d.name.value.startswith(tuple(prefixes)) or _is_inaccessible(d, inaccessible))
    }
    stripped = visit(doc, _Strip(prefixes, directive_names, inaccessible, hidden))
    definitions = [
        d
        for d in stripped.definitions
        if not (isinstance(d, SchemaDefinitionNode) and not d.operation_types)
    ]
    return DocumentNode(definitions=tuple(definitions))
