"""Reads docs/walkthrough.md into examples and checks an answer against a documented one.

An example is a ```graphql block whose first line says who sends it (`# as: demo.business`,
`# as: anonymous`), then a ```json variables block (optional) and a ```json response block.
In a response, `"<name>"` stands for a value that varies from run to run: the first time a
name appears it takes the value found there, and afterwards it must be that same value. In
variables, `"<name>"` is replaced by the value it took. A few names are computed: `<today>`,
`<yesterday>`, `<in 30 days>`, `<a year after yesterday>`, `<in a year>`, and
`<token from the email to ADDRESS>` (an activation link)
and `<token from the reset email to ADDRESS>`. Objects in a response may hold more keys than shown.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

BLOCK = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```", re.S | re.M)
PLACEHOLDER = re.compile(r"^<([^<>]+)>$")


@dataclass
class Example:
    caller: str
    operation: str
    line: int
    variables: dict[str, Any] = field(default_factory=dict)
    response: dict[str, Any] | None = None


def parse(path: Path) -> list[Example]:
    text = path.read_text()
    examples: list[Example] = []
    for match in BLOCK.finditer(text):
        kind, info, body = match.group(1), match.group(2).strip(), match.group(3)
        line = text.count("\n", 0, match.start()) + 1
        if kind == "graphql":
            first = body.splitlines()[0]
            caller = re.match(r"#\s*as:\s*(\S+)", first)
            assert caller, f"{path}:{line}: an example starts with '# as: <caller>'"
            examples.append(Example(caller.group(1), body, line))
        elif kind == "json" and examples:
            target = examples[-1]
            if info == "variables":
                target.variables = json.loads(body)
            elif info == "response":
                target.response = json.loads(body)
    return examples


def computed(name: str) -> Any:
    today = date.today()
    yesterday = today - timedelta(days=1)
    known = {
        "today": today, "yesterday": yesterday, "in 30 days": today + timedelta(days=30),
        "a year after yesterday": yesterday.replace(year=yesterday.year + 1),
        "in a year": today.replace(year=today.year + 1),
    }
    return known[name].isoformat() if name in known else None


def substitute(value: Any, bound: dict[str, Any], mail: Any) -> Any:
    if isinstance(value, dict):
        return {k: substitute(v, bound, mail) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, bound, mail) for v in value]
    if isinstance(value, str) and (found := PLACEHOLDER.match(value)):
        name = found.group(1)
        if name.startswith("token from the "):
            return mail(name.removeprefix("token from the ").replace("email to ", ""))
        if computed(name) is not None:
            return computed(name)
        assert name in bound, f"{value} is used before an answer gave it a value"
        return bound[name]
    return value


def mismatch(expected: Any, actual: Any, bound: dict[str, Any], where: str = "") -> str | None:
    """Where `actual` differs from the documented `expected` (binding placeholders), or None."""
    if isinstance(expected, str) and (found := PLACEHOLDER.match(expected)):
        name = found.group(1)
        wanted = computed(name)
        if wanted is None and name not in bound:
            bound[name] = actual
            return None
        wanted = bound.get(name, wanted)
        return None if actual == wanted else f"{where}: {actual!r} is not {expected} ({wanted!r})"
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{where}: expected an object, got {actual!r}"
        for key, value in expected.items():
            if key not in actual:
                return f"{where}.{key}: missing in {actual!r}"
            problem = mismatch(value, actual[key], bound, f"{where}.{key}")
            if problem:
                return problem
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return f"{where}: expected {len(expected)} items, got {actual!r}"
        for i, (want, got) in enumerate(zip(expected, actual, strict=True)):
            problem = mismatch(want, got, bound, f"{where}[{i}]")
            if problem:
                return problem
        return None
    return None if expected == actual else f"{where}: {actual!r} is not {expected!r}"
