"""Hostile requests, and the tools to send them as an attacker would."""

from __future__ import annotations

import http.client
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e.system import RunningSystem

TIMEOUT = 60.0  # an answer later than this counts as a hang


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)

    def coded(self) -> bool:
        """A JSON body whose every error carries a code (GraphQL's extensions.code, or the
        document routes' error.code), and a refusal has at least one."""
        try:
            body = self.json()
        except ValueError:
            return False
        items = body if isinstance(body, list) else [body]
        if any(not isinstance(item, dict) for item in items):
            return False
        errors = [e for item in items for e in (item.get("errors") or [])]
        plain = [item["error"] for item in items if isinstance(item.get("error"), dict)]
        if self.status >= 400 and not errors and not plain:
            return False
        return all(isinstance(e.get("extensions"), dict) and e["extensions"].get("code")
                   for e in errors) and all(e.get("code") for e in plain)

    def codes(self) -> list[str]:
        body = self.json()
        items = body if isinstance(body, list) else [body]
        return [e["extensions"]["code"] for item in items for e in item.get("errors") or []]

    def limit(self) -> str | None:
        errors = self.json().get("errors") or [{}]
        return (errors[0].get("extensions") or {}).get("limit")


def send(base: str, method: str, path: str, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> Answer:
    """One request with the path exactly as given: no client normalizes it on the way."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Answer(response.status, response.read(),
                      {k.lower(): v for k, v in response.getheaders()})
    finally:
        connection.close()


def post_json(base: str, payload: Any, token: str | None = None, path: str = "/graphql",
              raw: bytes | None = None) -> Answer:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    body = raw if raw is not None else json.dumps(payload).encode()
    return send(base, "POST", path, body, headers)


def fan_out(levels: int, type_name: str = "User", root: str = "me", leaf: str = "id") -> str:
    """``root { ...F0 }`` where each fragment spreads the next ten times."""
    parts = [f"query {{ {root} {{ ...F0 }} }}"]
    for i in range(levels):
        parts.append(f"fragment F{i} on {type_name} {{ " + " ".join([f"...F{i + 1}"] * 10)
                     + " }")
    parts.append(f"fragment F{levels} on {type_name} {{ {leaf} }}")
    return "\n".join(parts)


def nested_lists(facility_id: str, levels: int) -> str:
    inner = "id"
    for _ in range(levels):
        inner = f"submittalElements {{ facility {{ {inner} }} }}"
    return f'{{ facility(id: "{facility_id}") {{ {inner} }} }}'


def gateway_corpus(facility_id: str) -> dict[str, Any]:
    """name -> JSON payload (or raw bytes) sent to the gateway's /graphql."""
    deep = "id"
    for _ in range(20):
        deep = f"organization {{ facilities {{ edges {{ node {{ {deep} }} }} }} }}"
    return {
        "fragment fan-out, 9 levels": {"query": fan_out(9)},
        "fragment fan-out, 40 levels": {"query": fan_out(40)},
        "alias bomb": {"query": "{ " + " ".join(f"a{i}: __typename" for i in range(500)) + " }"},
        "aliases hidden in fragments": {"query": "query { me { ...A } } fragment A on User { "
                                        + " ".join(f"a{i}: id" for i in range(10))
                                        + " ...B ...B ...B ...B } fragment B on User { "
                                        + " ".join(f"b{i}: id" for i in range(10)) + " }"},
        "directive bomb": {"query": "{ me { id " + "@include(if: true) " * 300 + "} }"},
        "unknown directive bomb": {"query": "{ me { id " + "@x " * 3000 + "} }"},
        "deep nesting": {"query": f'{{ facility(id: "{facility_id}") {{ {deep} }} }}'},
        "braces 5000 deep": {"query": "{ me " * 5000 + "}" * 5000},
        "unpaginated list nesting": {"query": nested_lists(facility_id, 4)},
        "one field 5000 times": {"query": "{ me { " + "id " * 5000 + "} }"},
        "conflicting fields": {"query": "{ " + " ".join(
            f'facility(id: "{i}") {{ id }}' for i in range(1000)) + " }"},
        "many fragments": {"query": "{ " + " ".join(f"...F{i}" for i in range(500)) + " } "
                           + " ".join(f"fragment F{i} on Query {{ me {{ id }} }}"
                                      for i in range(500))},
        "token bomb": {"query": "{ " + "__typename " * 60_000 + "}"},
        "huge page": {"query": "{ facilities(first: 100000) { edges { node { id } } } }"},
        "huge page through a variable": {
            "query": "query($n: Int!) { facilities(first: $n) { edges { node { id history "
                     "{ id } } } } }", "variables": {"n": 5000}},
        "huge unused variables": {"query": "{ __typename }", "variables": {"x": "y" * 900_000}},
        "deeply nested variables": raw(
            b'{"query": "query($f: FacilityFilter) { facilities(filter: $f) { totalCount } }",'
            b' "variables": {"f": ' + b"[" * 5000 + b"]" * 5000 + b"}}"),
        "body over the limit": raw(b'{"query": "' + b" " * 2_000_000 + b'{ __typename }"}'),
        "nested JSON body": raw(b"[" * 100_000 + b"]" * 100_000),
        "not JSON": raw(b"{nope"),
        "not an object": [1, 2, 3],
        "empty batch": [],
        "batch of 11": [{"query": "{ __typename }"}] * 11,
        "batch of bombs": [{"query": fan_out(9)}] * 10,
        "query not a string": {"query": {"a": 1}},
        "subscription": {"query": "subscription { me { id } }"},
        "two anonymous operations": {"query": "{ me { id } } { __typename }"},
    }


@dataclass
class Raw:
    body: bytes


def raw(body: bytes) -> Raw:
    return Raw(body)


def send_payload(base: str, payload: Any, token: str | None = None) -> Answer:
    if isinstance(payload, Raw):
        return post_json(base, None, token, raw=payload.body)
    return post_json(base, payload, token)


# Big but legitimate: answered with data where introspection is on (the embedded run).
SERVICE_ANSWERS = {"deep introspection", "entities without representations"}


def service_corpus() -> dict[str, Any]:
    """Hostile requests any subgraph schema accepts the shape of (``_service``, ``__typename``,
    introspection), for each service's own /graphql."""
    deep = "name"
    for _ in range(25):
        deep = f"ofType {{ {deep} }}"
    return {
        "fragment fan-out, 12 levels": {"query": fan_out(12, "_Service", "_service", "sdl")},
        "alias bomb": {"query": "{ " + " ".join(f"a{i}: __typename" for i in range(1000))
                       + " }"},
        "directive bomb": {"query": "{ __typename " + "@include(if: true) " * 1000 + "}"},
        "deep introspection": {"query": f"{{ __schema {{ types {{ fields {{ type {{ {deep} }} }}"
                               " } } }"},
        "introspection list nesting": {"query": "{ __schema { types { fields { type { fields { "
                                       "type { fields { type { fields { name } } } } } } } } }"
                                       " }"},
        "braces 5000 deep": {"query": "{ _service " * 5000 + "}" * 5000},
        "one field 5000 times": {"query": "{ " + "__typename " * 5000 + "}"},
        "token bomb": {"query": "{ " + "__typename " * 120_000 + "}"},
        "entities without representations": {
            "query": "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
            "variables": {"r": [{"__typename": "Nope", "id": str(i)} for i in range(20_000)]}},
        "body over the limit": raw(b'{"query": "' + b" " * 7_000_000 + b'{ __typename }"}'),
        "not JSON": raw(b"{nope"),
        "batch": [{"query": "{ __typename }"}] * 3,
        "query not a string": {"query": 42},
        "variables not an object": {"query": "{ __typename }", "variables": [1]},
    }


# Every proxied route (DESIGN §4), and spellings of a step out of it.
PROXIED = ["/.well-known/openid-configuration", "/jwks.json", "/authorize", "/token",
           "/userinfo", "/revoke", "/logout", "/account", "/account/signin/username",
           "/documents", "/documents/templates/hmi.csv"]
ESCAPES = ["/..%2fgraphql", "/..%2f..%2fgraphql", "/%2e%2e/graphql", "/%2e%2e/%2e%2e/readyz",
           "/..%2f..%2fmetrics", "/.%2e/graphql", "/%2E%2E%2Fgraphql", "/..%5cgraphql",
           "/../graphql", "/./../metrics", "//..//graphql", "/%252e%252e/graphql",
           "/..%252fgraphql", "/..;/graphql", "/%2e%2e;/readyz", "/..%00/graphql"]


def traversals() -> list[str]:
    return [route + escape for route in PROXIED for escape in ESCAPES]


def gateway_pid(system: RunningSystem) -> int:
    """The gateway process among `make run`'s children."""
    assert system.process is not None
    root = system.process.pid
    children = Path(f"/proc/{root}/task/{root}/children").read_text().split()
    for pid in children:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if b"gateway" in cmdline:
            return int(pid)
    raise AssertionError(f"no gateway among the children {children} of {root}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Siege:
    attacks: list[Answer]
    ordinary: dict[str, Any]
    ordinary_before_the_attack_ended: bool


def under_attack(attack: Callable[[], Answer], ordinary: Callable[[], dict[str, Any]],
                 attackers: int = 3, most: int = 300) -> Siege:
    """Attackers repeat ``attack`` until the ordinary request has answered (at most ``most``
    attacks each); the ordinary request is sent once the attack is under way."""
    answered = threading.Event()
    started = threading.Event()
    attacks: list[Answer] = []
    lock = threading.Lock()

    def attacker() -> None:
        for _ in range(most):
            answer = attack()
            with lock:
                attacks.append(answer)
            started.set()
            if answered.is_set():
                return

    threads = [threading.Thread(target=attacker, daemon=True) for _ in range(attackers)]
    for thread in threads:
        thread.start()
    started.wait(TIMEOUT)
    result = ordinary()
    answered.set()
    still_running = any(thread.is_alive() for thread in threads)
    for thread in threads:
        thread.join(TIMEOUT * 2)
    return Siege(attacks, result, still_running)
