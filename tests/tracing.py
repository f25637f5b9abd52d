"""Tracing inside the test process: the real SDK, switched on for one test at a time.

OpenTelemetry lets a process set its tracer provider once, and tracers made before then keep
the first one. So the session gets one provider whose tracers are the SDK's while a test holds
the ``spans`` fixture and the API's no-op tracer otherwise: every other test runs exactly as
production does without an endpoint.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased
from opentelemetry.trace import SpanKind

from common import tracing


class _Switch:
    armed = False


class _SwitchingTracer(trace.Tracer):
    def __init__(self, switch: _Switch, real: trace.Tracer) -> None:
        self.switch = switch
        self.real = real
        self.noop = trace.NoOpTracer()

    def _tracer(self) -> trace.Tracer:
        return self.real if self.switch.armed else self.noop

    def start_span(self, *args: Any, **kwargs: Any) -> trace.Span:
        return self._tracer().start_span(*args, **kwargs)

    @contextlib.contextmanager  # type: ignore[override]
    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Iterator[trace.Span]:
        with self._tracer().start_as_current_span(*args, **kwargs) as span:
            yield span


class _SwitchingProvider(trace.TracerProvider):
    def __init__(self, switch: _Switch, sdk: TracerProvider) -> None:
        self.switch = switch
        self.sdk = sdk

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        return _SwitchingTracer(self.switch, self.sdk.get_tracer(*args, **kwargs))


@dataclass
class _Session:
    switch: _Switch
    sdk: TracerProvider
    exporter: InMemorySpanExporter


_session: _Session | None = None


def _session_provider() -> _Session:
    global _session
    if _session is None:
        switch = _Switch()
        # The sampler production uses, at 100%.
        sdk = TracerProvider(sampler=tracing.NoOrphanClientSpans(ParentBased(ALWAYS_ON)))
        exporter = InMemorySpanExporter()
        sdk.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(_SwitchingProvider(switch, sdk))
        _session = _Session(switch, sdk, exporter)
    return _session


class Spans:
    """The finished spans of the test, and questions about their relations."""

    def __init__(self, exporter: InMemorySpanExporter) -> None:
        self.exporter = exporter

    def all(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.all() if s.name == name]

    def one(self, name: str) -> ReadableSpan:
        found = self.named(name)
        assert len(found) == 1, (name, [s.name for s in self.all()])
        return found[0]

    def children(self, parent: ReadableSpan) -> list[ReadableSpan]:
        assert parent.context is not None
        return [s for s in self.all()
                if s.parent is not None and s.parent.span_id == parent.context.span_id]

    def in_trace(self, trace_id: int) -> list[ReadableSpan]:
        return [s for s in self.all() if s.context is not None and s.context.trace_id == trace_id]

    def clear(self) -> None:
        self.exporter.clear()

    def server_spans(self, count: int = 1, within: float = 10.0) -> list[ReadableSpan]:
        """The SERVER spans, once ``count`` have ended: a server ends its span only after it
        sent the response the test is already reading."""
        deadline = time.monotonic() + within
        while True:
            found = [s for s in self.all() if s.kind is SpanKind.SERVER]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.01)


def is_child(child: ReadableSpan, parent: ReadableSpan) -> bool:
    assert parent.context is not None and child.context is not None
    return (child.parent is not None and child.parent.span_id == parent.context.span_id
            and child.context.trace_id == parent.context.trace_id)


def links_to(span: ReadableSpan, others: Sequence[ReadableSpan]) -> bool:
    targets = {o.context.span_id for o in others if o.context is not None}
    return any(link.context.span_id in targets for link in span.links)


@contextlib.contextmanager
def recording() -> Iterator[Spans]:
    """Tracing on, as ``configure_tracing`` turns it on, for the duration; except that httpx
    is not instrumented: the test's own client would send an unsampled context (its span has
    no parent) that the servers under test would follow."""
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

    session = _session_provider()
    session.exporter.clear()
    session.switch.armed = True
    tracing._provider = session.sdk
    try:
        yield Spans(session.exporter)
    finally:
        session.switch.armed = False
        tracing._provider = None
        EngineTracer.remove_all_event_listeners()  # type: ignore[no-untyped-call]
        session.exporter.clear()
