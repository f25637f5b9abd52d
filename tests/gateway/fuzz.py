"""Random valid operations over a schema, for fuzzing the planner.

Built from the API schema with graphql-core: random fields (with literal arguments), aliases
drawn from a small pool so they often collide with field names the gateway itself needs,
inline fragments on every kind of type condition, named fragments, and @include/@skip on
variables. Operations that graphql-core finds invalid (a random alias clash) are discarded
by the caller.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_composite_type,
    is_required_argument,
)

# Names a client might well use as aliases, several of them the gateway's own key fields.
ALIASES = ("id", "name", "title", "price", "a", "b", "node", "x")
SCALARS = {
    "String": '"s1"', "ID": '"1"', "Int": "2", "Float": "1.5", "Boolean": "true",
    "Date": '"2026-01-31"', "DateTime": '"2026-01-31T12:00:00Z"', "JSON": '{a: 1}',
}


@dataclass
class Generator:
    schema: GraphQLSchema
    rng: random.Random
    max_depth: int = 4
    fragments: list[str] = field(default_factory=list)
    variables: set[str] = field(default_factory=set)

    def operation(self) -> str:
        self.fragments = []
        self.variables = set()
        roots = [("query", self.schema.query_type)]
        if self.schema.mutation_type is not None and self.rng.random() < 0.15:
            roots = [("mutation", self.schema.mutation_type)]
        kind, root = roots[0]
        assert root is not None
        body = self.selection(root, 0)
        defs = "".join(f"${v}: Boolean! " for v in sorted(self.variables))
        head = f"{kind} Fuzz({defs.strip()})" if defs else f"{kind} Fuzz"
        return " ".join([f"{head} {body}", *self.fragments])

    def value(self, t: GraphQLInputType, depth: int = 0) -> str:
        if isinstance(t, GraphQLNonNull):
            return self.value(t.of_type, depth)
        if isinstance(t, GraphQLList):
            return f"[{self.value(t.of_type, depth)}]"
        if isinstance(t, GraphQLEnumType):
            return self.rng.choice(list(t.values))
        if isinstance(t, GraphQLInputObjectType):
            parts = [
                f"{n}: {self.value(f.type, depth + 1)}"
                for n, f in t.fields.items()
                if isinstance(f.type, GraphQLNonNull) or (depth < 2 and self.rng.random() < 0.3)
            ]
            return "{" + ", ".join(parts) + "}"
        assert isinstance(t, GraphQLScalarType)
        return SCALARS.get(t.name, '"s1"')

    def call(self, name: str, f: GraphQLField) -> str:
        args = [
            f"{a}: {self.value(arg.type)}"
            for a, arg in f.args.items()
            if is_required_argument(arg) or self.rng.random() < 0.3
        ]
        alias = f"{self.rng.choice(ALIASES)}: " if self.rng.random() < 0.2 else ""
        directive = ""
        if self.rng.random() < 0.1:
            var = f"v{self.rng.randint(0, 2)}"
            self.variables.add(var)
            directive = f" @{self.rng.choice(('include', 'skip'))}(if: ${var})"
        return f"{alias}{name}" + (f"({', '.join(args)})" if args else "") + directive

    def fields_of(self, t: GraphQLObjectType | GraphQLInterfaceType, depth: int) -> list[str]:
        names = list(t.fields)
        picked = self.rng.sample(names, k=min(len(names), self.rng.randint(1, 4)))
        out = []
        for name in picked:
            f = t.fields[name]
            inner = get_named_type(f.type)
            if is_composite_type(inner):
                if depth >= self.max_depth:
                    continue
                out.append(f"{self.call(name, f)} {self.selection(inner, depth + 1)}")
            else:
                out.append(self.call(name, f))
        return out

    def selection(self, t: GraphQLNamedType, depth: int) -> str:
        parts: list[str] = []
        if self.rng.random() < 0.3:
            parts.append("__typename")
        if isinstance(t, GraphQLObjectType | GraphQLInterfaceType):
            parts += self.fields_of(t, depth)
        if isinstance(t, GraphQLInterfaceType | GraphQLUnionType):
            possible = list(self.schema.get_possible_types(t))
            for obj in self.rng.sample(possible, k=min(len(possible), self.rng.randint(1, 3))):
                parts.append(self.fragment(obj, depth))
        elif isinstance(t, GraphQLObjectType) and self.rng.random() < 0.2:
            # A fragment on one of the object's interfaces, or on itself.
            conditions = [t, *t.interfaces]
            parts.append(self.fragment(self.rng.choice(conditions), depth))
        if not parts:
            parts.append("__typename")
        return "{ " + " ".join(parts) + " }"

    def fragment(self, t: GraphQLObjectType | GraphQLInterfaceType, depth: int) -> str:
        inner = self.selection(t, depth)
        if self.rng.random() < 0.25:
            name = f"F{len(self.fragments)}"
            self.fragments.append(f"fragment {name} on {t.name} {inner}")
            return f"...{name}"
        return f"... on {t.name} {inner}"
