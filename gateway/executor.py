"""Executes a plan: fetches in parallel per step, entity batches, partial results."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from opentelemetry.trace import SpanKind

from common import tracing
from gateway.client import SubgraphClient, SubgraphError
from gateway.metrics import GatewayMetrics
from gateway.plan import FetchNode, Plan, Target

log = logging.getLogger(__name__)
_tracer = tracing.tracer(__name__)


def _merge(dst: dict[str, Any], src: dict[str, Any]) -> None:
    for k, v in src.items():
        cur = dst.get(k)
        if isinstance(cur, dict) and isinstance(v, dict):
            _merge(cur, v)
        elif isinstance(cur, list) and isinstance(v, list) and len(cur) == len(v):
            for i, item in enumerate(v):
                if isinstance(cur[i], dict) and isinstance(item, dict):
                    _merge(cur[i], item)
                else:
                    cur[i] = item
        else:
            dst[k] = v


def _collect(
    node: Any, path: tuple[str, ...], i: int, at: tuple[Any, ...], out: list[Any]
) -> None:
    while True:
        if node is None:
            return
        if isinstance(node, list):
            for j, item in enumerate(node):
                _collect(item, path, i, at + (j,), out)
            return
        if i == len(path):
            out.append((node, at))
            return
        seg = path[i]
        if seg == "@":
            i += 1
            continue
        if not isinstance(node, dict):
            return
        node = node.get(seg)
        at = at + (seg,)
        i += 1


class Execution:
    def __init__(
        self,
        client: SubgraphClient,
        plan: Plan,
        variables: Mapping[str, Any],
        headers: Mapping[str, str],
        metrics: GatewayMetrics | None = None,
    ) -> None:
        self.metrics = metrics
        self.client = client
        self.plan = plan
        self.variables = variables
        self.headers = headers
        self.data: dict[str, Any] = {}
        self.errors: list[dict[str, Any]] = []

    async def run(self) -> None:
        for s, stage in enumerate(self.plan.stages):
            for n, step in enumerate(stage.steps):
                with _tracer.start_as_current_span("plan step", attributes={
                    "gateway.stage": s, "gateway.step": n, "gateway.fetches": len(step),
                }):
                    if len(step) == 1:
                        await self._fetch(step[0])
                    else:
                        await asyncio.gather(*(self._fetch(f) for f in step))

    def _vars(self, node: FetchNode) -> dict[str, Any]:
        return {n: self.variables[n] for n in node.variable_names if n in self.variables}

    async def _fetch(self, node: FetchNode) -> None:
        if node.entity:
            await self._entity_fetch(node)
            return
        body: dict[str, Any] = {"query": node.operation}
        variables = self._vars(node)
        if variables:
            body["variables"] = variables
        try:
            result = await self._post(node, body)
        except SubgraphError as exc:
            for key in node.root_keys:
                self._failure(node.service, exc, [key])
            return
        data = result.get("data")
        if isinstance(data, dict):
            if node.unalias is not None:
                node.unalias.apply(data)
            _merge(self.data, data)
        for err in result.get("errors") or ():
            path = err.get("path") if isinstance(err, dict) else None
            # An error of the whole subgraph request (say, its schema drifted from the
            # supergraph) still points at the fields it nulled.
            self._add_error(node.service, err, path or list(node.root_keys[:1]))

    async def _entity_fetch(self, node: FetchNode) -> None:
        reps: list[Any] = []
        index: dict[str, int] = {}
        abstract = self.plan.abstract_types
        # (target object, its path, representation index)
        slots: list[tuple[dict[str, Any], tuple[Any, ...], int]] = []
        for target in node.targets:
            for obj, at in self._objects(target):
                if not target.key.complete(obj):
                    # No key, no representation: this object's fields stay null; the rest of
                    # the batch goes ahead.
                    continue
                rep = target.projection.project(obj)
                rep["__typename"] = target.rep_typename or obj.get("__typename")
                text = json.dumps(rep, sort_keys=True, separators=(",", ":"))
                i = index.get(text)
                if i is None:
                    i = index[text] = len(reps)
                    reps.append(rep)
                slots.append((obj, at, i))
        if not reps:
            return
        variables = self._vars(node)
        variables[node.representations_variable] = reps
        body = {"query": node.operation, "variables": variables}
        try:
            result = await self._post(node, body)
        except SubgraphError as exc:
            # One error per object left without its fields, so each nulled path is reported
            # and the rest of the page is kept.
            log.warning("subgraph %s failed for %d objects: %s", node.service, len(slots), exc,
                        extra={"subgraph": node.service})
            seen: set[tuple[Any, ...]] = set()
            for _, at, _ in slots:
                if at not in seen:
                    seen.add(at)
                    self._failure(node.service, exc, list(at), logged=True)
            return
        data = result.get("data")
        entities = data.get("_entities") if isinstance(data, dict) else None
        if isinstance(entities, list):
            if node.unalias is not None:
                node.unalias.apply(entities)
            for obj, _, i in slots:
                if i < len(entities) and isinstance(entities[i], dict):
                    entity = entities[i]
                    typename = entity.get("__typename")
                    if typename in abstract and obj.get("__typename") not in (None, typename):
                        # An @interfaceObject answers with the interface's name; keep the
                        # concrete type we already know. An owner resolving an interface
                        # entity answers with the concrete type; that one is taken.
                        entity = {k: v for k, v in entity.items() if k != "__typename"}
                    _merge(obj, entity)
        errors = result.get("errors") or ()
        if errors:
            by_rep: dict[int, list[tuple[Any, ...]]] = {}
            for _, at, i in slots:
                by_rep.setdefault(i, []).append(at)
            for err in errors:
                path = err.get("path") if isinstance(err, dict) else None
                if isinstance(path, list) and len(path) >= 2 and path[0] == "_entities":
                    for at in by_rep.get(path[1], [()])[:1]:
                        self._add_error(node.service, err, [*at, *path[2:]])
                else:
                    self._add_error(node.service, err, list(slots[0][1]))

    async def _post(self, node: FetchNode, body: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        outcome = "failed"
        attributes: dict[str, str | bool] = {
            "graphql.subgraph.name": node.service, "gateway.entity_fetch": node.entity,
        }
        with _tracer.start_as_current_span(
            f"fetch {node.service}", kind=SpanKind.CLIENT, attributes=attributes
        ) as span:
            try:
                result = await self.client.post(
                    node.service, body, tracing.headers_with_context(self.headers),
                    deduplicate=self.plan.kind == "query",
                )
                outcome = "error" if result.get("errors") else "ok"
                return result
            except SubgraphError as exc:
                tracing.record_error(span, str(exc))
                raise
            finally:
                if span.is_recording():
                    span.set_attribute("cers.outcome", outcome)
                if self.metrics is not None:
                    self.metrics.subgraph_requests.labels(node.service, outcome).inc()
                    self.metrics.subgraph_latency.labels(node.service).observe(
                        time.perf_counter() - started, tracing.exemplar()
                    )

    def _objects(self, target: Target) -> list[tuple[dict[str, Any], tuple[Any, ...]]]:
        found: list[Any] = []
        _collect(self.data, target.path, 0, (), found)
        names = target.type_names
        return [(o, at) for o, at in found if o.get("__typename") in names]

    def _failure(
        self, service: str, exc: Exception, path: list[Any], logged: bool = False
    ) -> None:
        if not logged:
            log.warning("subgraph %s failed at %s: %s", service, path, exc,
                        extra={"subgraph": service})
        self.errors.append({
            "message": f"subgraph '{service}' failed: {exc}",
            "path": path,
            "extensions": {"code": "UNAVAILABLE", "serviceName": service},
        })

    def _add_error(self, service: str, err: Any, path: Any) -> None:
        if not isinstance(err, dict):
            err = {"message": str(err)}
        out: dict[str, Any] = {"message": str(err.get("message", "subgraph error"))}
        if path:
            out["path"] = path
        ext = dict(err.get("extensions") or {})
        ext["serviceName"] = service
        out["extensions"] = ext
        self.errors.append(out)
