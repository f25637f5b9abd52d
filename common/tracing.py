"""OpenTelemetry tracing, switched on by ``OTEL_EXPORTER_OTLP_ENDPOINT``.

Without an endpoint nothing is installed: every span below comes from the API's no-op tracer,
which costs a function call, and no instrumentation wraps the app, the database or httpx.
With one, each process installs the SDK once (:func:`configure_tracing`), exports over
OTLP/HTTP in batches (a bounded queue: spans past it are dropped, never buffered without end),
samples parent-based by ratio (``OTEL_TRACES_SAMPLER``, ``OTEL_TRACES_SAMPLER_ARG``), and
instruments the ASGI app (:func:`asgi_middleware`), each database engine
(:func:`instrument_engine`) and httpx.

Only W3C ``traceparent``/``tracestate`` cross process boundaries: HTTP headers, the outbox row
(``event_outbox.trace_context``) and NATS message headers. Baggage is not propagated: a
client's baggage would travel into every service.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import uuid
from collections.abc import Mapping, MutableMapping
from typing import Any, TypeVar

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import sampling
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import Link, Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from common.settings import ENV_VARS

log = logging.getLogger(__name__)

SAMPLERS = (
    "parentbased_traceidratio", "traceidratio", "parentbased_always_on", "always_on",
    "parentbased_always_off", "always_off",
)
# Kubelet probes on the public port would each make a trace of their own.
EXCLUDED_URLS = r"/healthz$"
# The W3C headers; a process that deduplicates calls must ignore them (each call has its own).
TRACE_HEADERS = frozenset({"traceparent", "tracestate"})
_PROPAGATOR = TraceContextTextMapPropagator()
_URL_ATTRIBUTES = ("http.url", "http.target", "url.full")
_MAX_STORED_CONTEXT = 512

_provider: Any = None  # the SDK TracerProvider once installed

E = TypeVar("E")


class TracingConfigError(ValueError):
    """An OTEL_* variable has a value this system cannot use."""


def _env(name: str) -> str:
    return os.environ.get(name, ENV_VARS[name][0])


def enabled() -> bool:
    """True once an SDK provider is installed (an endpoint is set, or a test installed one)."""
    return _provider is not None


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


def sampler_from_env() -> Sampler:
    """The sampler ``OTEL_TRACES_SAMPLER`` and ``OTEL_TRACES_SAMPLER_ARG`` describe."""
    name = _env("OTEL_TRACES_SAMPLER").strip().lower()
    if name not in SAMPLERS:
        raise TracingConfigError(
            f"OTEL_TRACES_SAMPLER={name!r} is not one of {', '.join(SAMPLERS)}"
        )
    raw = _env("OTEL_TRACES_SAMPLER_ARG").strip()
    try:
        ratio = float(raw)
    except ValueError:
        ratio = -1.0
    if not 0.0 <= ratio <= 1.0:
        raise TracingConfigError(
            f"OTEL_TRACES_SAMPLER_ARG={raw!r} must be a ratio from 0 to 1 (0.01 keeps 1 trace "
            "in 100)"
        )
    root: Sampler = {
        "traceidratio": sampling.TraceIdRatioBased(ratio),
        "always_on": sampling.ALWAYS_ON,
        "always_off": sampling.ALWAYS_OFF,
    }[name.removeprefix("parentbased_")]
    inner = sampling.ParentBased(root) if name.startswith("parentbased_") else root
    return NoOrphanClientSpans(inner)


class NoOrphanClientSpans(Sampler):
    """Drops a database or HTTP client span that has no parent: the relay's polls, lease
    renewals, readiness probes and metrics refreshes would each make a one-span trace."""

    def __init__(self, inner: Sampler) -> None:
        self.inner = inner

    def should_sample(
        self, parent_context: Context | None, trace_id: int, name: str,
        kind: SpanKind | None = None, attributes: Any = None, links: Any = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        if kind is SpanKind.CLIENT and not links:
            parent = trace.get_current_span(parent_context).get_span_context()
            if not parent.is_valid:
                return SamplingResult(Decision.DROP)
        return self.inner.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"NoOrphanClientSpans{{{self.inner.get_description()}}}"


def configure_tracing(service: str) -> bool:
    """Install the SDK for ``service`` when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set; True if so.

    Exits the process, saying why, on a sampler setting that makes no sense.
    """
    endpoint = _env("OTEL_EXPORTER_OTLP_ENDPOINT").strip()
    if not endpoint:
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    try:
        sampler = sampler_from_env()
    except TracingConfigError as exc:
        raise SystemExit(f"{service}: {exc}") from None
    provider = TracerProvider(
        sampler=sampler,
        resource=Resource.create({
            "service.name": service,
            "service.namespace": "cers",
            "service.instance.id": uuid.uuid4().hex,
            "host.name": socket.gethostname(),
        }),
    )
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces"))
    )
    install(provider)
    log.info("tracing: %s exports spans to %s (sampler %s)", service, endpoint,
             sampler.get_description())
    return True


def install(provider: Any) -> None:
    """Make ``provider`` (an SDK TracerProvider) the process's; once per process."""
    global _provider
    if _provider is not None:
        raise RuntimeError("tracing is installed already in this process")
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    propagate.set_global_textmap(_PROPAGATOR)
    trace.set_tracer_provider(provider)

    async def without_query_async(span: Span, _: Any) -> None:
        without_query(span)

    HTTPXClientInstrumentor().instrument(
        tracer_provider=provider, request_hook=lambda span, _: without_query(span),
        async_request_hook=without_query_async,
    )
    _provider = provider


def asgi_middleware(app: Any) -> Any:
    """``app`` with a server span per request (the W3C context of the caller continued)."""
    if not enabled():
        return app
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    return OpenTelemetryMiddleware(
        app, excluded_urls=EXCLUDED_URLS, exclude_spans=["receive", "send"],
        tracer_provider=_provider, server_request_hook=lambda span, _: without_query(span),
    )


def without_query(span: Span) -> None:
    """Drop the query string from a span's URL attributes: activation and reset links, OAuth
    codes and states travel there, and none of them belongs in a tracing backend."""
    if not span.is_recording():
        return
    attributes = getattr(span, "attributes", None) or {}
    for key in _URL_ATTRIBUTES:
        value = attributes.get(key)
        if isinstance(value, str) and "?" in value:
            span.set_attribute(key, value.split("?", 1)[0])
    if attributes.get("url.query"):
        span.set_attribute("url.query", "")


def instrument_engine(engine: E) -> E:
    """``engine`` (SQLAlchemy, async or not), with a span per statement once tracing is on."""
    if not enabled():
        return engine
    from opentelemetry.instrumentation.sqlalchemy import __name__ as scope
    from opentelemetry.instrumentation.sqlalchemy.version import __version__
    from opentelemetry.metrics import get_meter

    usage = get_meter(scope, __version__).create_up_down_counter(
        "db.client.connections.usage", unit="connections"
    )
    _statement_tracer()(
        trace.get_tracer(scope, __version__, _provider), getattr(engine, "sync_engine", engine),
        usage,
    )
    return engine


def _statement_tracer() -> Any:
    """The official instrumentation's listener, per engine (its instrumentor instruments once
    per process, and lists SQLAlchemy < 2.1 as tested: it only uses Core events, which 2.1
    keeps; tests/common/test_tracing.py checks the spans), skipping the statements of an
    unsampled trace before it works out their attributes: under parent-based sampling they
    could never be sampled, and most requests are not."""
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

    class SampledStatements(EngineTracer):
        def _before_cur_exec(self, conn: Any, cursor: Any, statement: Any, params: Any,
                             context: Any, executemany: Any) -> Any:
            if not trace.get_current_span().is_recording():
                return statement, params
            return super()._before_cur_exec(  # type: ignore[no-untyped-call]
                conn, cursor, statement, params, context, executemany
            )

    return SampledStatements


def headers_with_context(headers: Mapping[str, str]) -> Mapping[str, str]:
    """``headers`` plus the current span's ``traceparent`` (the same mapping when there is
    no span to continue, so an untraced call costs nothing)."""
    if not trace.get_current_span().get_span_context().is_valid:
        return headers
    out = dict(headers)
    _PROPAGATOR.inject(out)
    return out


def inject(carrier: MutableMapping[str, str], span: Span | None = None) -> None:
    """Write the context of ``span`` (default: the current span) into ``carrier``."""
    _PROPAGATOR.inject(carrier, trace.set_span_in_context(span) if span is not None else None)


def extract(carrier: Mapping[str, str] | None) -> Context | None:
    """The remote context in ``carrier``, or None when it carries no valid one."""
    if not carrier or "traceparent" not in carrier:
        return None
    context = _PROPAGATOR.extract(carrier)
    return context if trace.get_current_span(context).get_span_context().is_valid else None


def stored_context() -> str | None:
    """The current span's context as a short JSON text for a database column, or None."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    if not carrier:
        return None
    text = json.dumps(carrier, separators=(",", ":"))
    return text if len(text) <= _MAX_STORED_CONTEXT else None


def context_from_stored(text: str | None) -> Context | None:
    """The context :func:`stored_context` wrote; None for NULL or anything unreadable."""
    if not text:
        return None
    try:
        carrier = json.loads(text)
    except ValueError:
        return None
    if not isinstance(carrier, dict):
        return None
    return extract({str(k): str(v) for k, v in carrier.items()})


def span_context_of(context: Context | None) -> trace.SpanContext | None:
    if context is None:
        return None
    return trace.get_current_span(context).get_span_context()


def link_to(context: Context | None) -> list[Link]:
    span_context = span_context_of(context)
    return [Link(span_context)] if span_context is not None else []


def current_ids() -> tuple[str, str] | None:
    """The current trace and span ids in hex (for log lines), or None outside a span."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return f"{span_context.trace_id:032x}", f"{span_context.span_id:016x}"


def exemplar() -> dict[str, str] | None:
    """The current sampled trace as a Prometheus exemplar, or None."""
    span_context = trace.get_current_span().get_span_context()
    if not (span_context.is_valid and span_context.trace_flags.sampled):
        return None
    return {"trace_id": f"{span_context.trace_id:032x}"}


def record_error(span: Span, message: str) -> None:
    if span.is_recording():
        span.set_status(trace.Status(trace.StatusCode.ERROR, message[:300]))
