"""Configuration from environment variables, with embedded defaults.

Every variable a process reads is listed in ``ENV_VARS`` so the README table and the
Kubernetes manifests can be checked against it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

SERVICES = ("identity", "facility", "submittal")

# name -> (embedded default, meaning). Defaults of "" mean "derived" or "unset".
ENV_VARS: dict[str, tuple[str, str]] = {
    "DATA_DIR": ("var/", "Where SQLite files, keys, mail drops and the bundled NATS store live"),
    "IDENTITY_DATABASE_URL": ("sqlite+aiosqlite:///$DATA_DIR/identity.db", "identity database"),
    "FACILITY_DATABASE_URL": ("sqlite+aiosqlite:///$DATA_DIR/facility.db", "facility database"),
    "SUBMITTAL_DATABASE_URL": ("sqlite+aiosqlite:///$DATA_DIR/submittal.db", "submittal database"),
    "NATS_URL": ("nats://127.0.0.1:$EMBEDDED_NATS_PORT", "NATS server(s), comma-separated"),
    "EMBEDDED_NATS_PORT": ("4223", "port of the nats-server `make run` bundles without NATS_URL"),
    "NATS_STREAM_REPLICAS": ("1", "JetStream stream replication factor"),
    "GATEWAY_PORT": ("8000", "gateway HTTP port"),
    "IDENTITY_PORT": ("8001", "identity HTTP port"),
    "FACILITY_PORT": ("8002", "facility HTTP port"),
    "SUBMITTAL_PORT": ("8003", "submittal HTTP port"),
    "GATEWAY_OPS_PORT": ("8100", "gateway's internal port: /readyz, /metrics, /graphql/plan"),
    "IDENTITY_OPS_PORT": ("8101", "identity's internal port: /readyz, /metrics"),
    "FACILITY_OPS_PORT": ("8102", "facility's internal port: /readyz, /metrics"),
    "SUBMITTAL_OPS_PORT": ("8103", "submittal's internal port: /readyz, /metrics"),
    "BIND_HOST": ("127.0.0.1", "address the HTTP servers listen on"),
    "PUBLIC_BASE_URL": ("http://127.0.0.1:8000", "the one origin clients see; also the issuer"),
    "API_AUDIENCE": ("cers-api", "the `aud` of access tokens"),
    "JWKS_URL": ("http://127.0.0.1:$IDENTITY_PORT/jwks.json", "where verifiers fetch keys"),
    # The gateway reaches a subgraph at $<NAME>_URL/graphql instead of the supergraph's url only
    # when the variable is set; the defaults serve the proxy and JWKS_URL.
    "IDENTITY_URL": ("http://127.0.0.1:$IDENTITY_PORT", "identity's internal base URL"),
    "FACILITY_URL": ("http://127.0.0.1:$FACILITY_PORT", "facility's internal base URL"),
    "SUBMITTAL_URL": ("http://127.0.0.1:$SUBMITTAL_PORT", "submittal's internal base URL"),
    "AUTO_MIGRATE": ("1", "run Alembic migrations when a service starts (embedded mode)"),
    "DEMO": ("1", "seed demo data on an empty database (never in production)"),
    "ENVIRONMENT": ("embedded", "`embedded` or `production`; production never seeds demo data"),
    "SMTP_HOST": ("", "SMTP server; unset means .eml files under DATA_DIR/mail/"),
    "SMTP_PORT": ("587", "SMTP port"),
    "SMTP_USERNAME": ("", "SMTP user"),
    "SMTP_PASSWORD": ("", "SMTP password"),
    "SMTP_STARTTLS": ("1", "use STARTTLS"),
    "MAIL_FROM": ("CERS <no-reply@cers.local>", "sender address of every email"),
    "READ_MODEL_MAX_LAG_SECONDS": (
        "30", "past this, operations on the read model answer UNAVAILABLE"
    ),
    "OUTBOX_POLL_SECONDS": ("0.2", "how often the outbox relay looks for new rows"),
    "MAX_DELIVERIES": ("5", "deliveries before a message goes to the DEADLETTER stream"),
    "EVENT_ACK_WAIT_SECONDS": (
        "5", "how soon JetStream redelivers an event a crashed consumer held unacknowledged"
    ),
    "EVENT_STUCK_AFTER_SECONDS": (
        "180", "an aggregate waiting this long for a missing event is reported stuck"
    ),
    "EVENT_APPLY_TIMEOUT_SECONDS": (
        "30", "an event's apply still running after this is rolled back and counted as a "
        "failed attempt"
    ),
    "LOG_LEVEL": ("INFO", "log level"),
    "LOG_FORMAT": ("json", "`json` or `text`"),
    # Read by common/tracing.py (and, for the resource attributes, by the OpenTelemetry SDK).
    "OTEL_EXPORTER_OTLP_ENDPOINT": (
        "", "OTLP/HTTP collector base URL; unset means no tracing beyond the no-op API"
    ),
    "OTEL_TRACES_SAMPLER": ("parentbased_traceidratio", "how traces are sampled"),
    "OTEL_TRACES_SAMPLER_ARG": ("1.0", "the sampler's ratio of new traces kept, 0 to 1"),
    "OTEL_RESOURCE_ATTRIBUTES": ("", "extra `key=value,...` attributes on every span"),
}


def _env(name: str) -> str:
    return os.environ.get(name, ENV_VARS[name][0])


def _flag(name: str) -> bool:
    return _env(name).strip().lower() in ("1", "true", "yes", "on")


def default_database_url(data_dir: Path, service: str) -> str:
    return f"sqlite+aiosqlite:///{data_dir / f'{service}.db'}"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_urls: dict[str, str]
    nats_url: str
    nats_stream_replicas: int
    ports: dict[str, int]
    ops_ports: dict[str, int]
    bind_host: str
    public_base_url: str
    api_audience: str
    jwks_url: str
    service_urls: dict[str, str]
    auto_migrate: bool
    demo: bool
    environment: str
    smtp_host: str
    smtp_port: int
    smtp_username: str
    smtp_password: str
    smtp_starttls: bool
    mail_from: str
    read_model_max_lag_seconds: float
    outbox_poll_seconds: float
    max_deliveries: int
    event_ack_wait_seconds: float
    event_stuck_after_seconds: float
    event_apply_timeout_seconds: float
    embedded_nats_port: int
    log_level: str
    log_format: str
    extra: dict[str, str] = field(default_factory=dict)
    # Only the service URLs set explicitly in the environment (a subset of service_urls).
    explicit_service_urls: dict[str, str] = field(default_factory=dict)

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def seed_demo(self) -> bool:
        return self.demo and not self.production

    def database_url(self, service: str) -> str:
        return self.database_urls[service]

    def port(self, name: str) -> int:
        return self.ports[name]

    def ops_port(self, name: str) -> int:
        """The process's internal operations port (readiness, metrics), never public."""
        return self.ops_ports[name]

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"


def load_settings() -> Settings:
    data_dir = Path(_env("DATA_DIR")).resolve()
    ports = {
        name: int(_env(f"{name.upper()}_PORT"))
        for name in ("gateway", "identity", "facility", "submittal")
    }
    ops_ports = {
        name: int(_env(f"{name.upper()}_OPS_PORT"))
        for name in ("gateway", "identity", "facility", "submittal")
    }
    database_urls = {
        service: os.environ.get(f"{service.upper()}_DATABASE_URL")
        or default_database_url(data_dir, service)
        for service in SERVICES
    }
    explicit_service_urls = {
        service: url.rstrip("/")
        for service in SERVICES
        if (url := os.environ.get(f"{service.upper()}_URL"))
    }
    service_urls = {
        service: explicit_service_urls.get(service) or f"http://127.0.0.1:{ports[service]}"
        for service in SERVICES
    }
    public_base_url = _env("PUBLIC_BASE_URL").rstrip("/")
    embedded_nats_port = int(_env("EMBEDDED_NATS_PORT"))
    return Settings(
        data_dir=data_dir,
        database_urls=database_urls,
        nats_url=os.environ.get("NATS_URL") or f"nats://127.0.0.1:{embedded_nats_port}",
        nats_stream_replicas=int(_env("NATS_STREAM_REPLICAS")),
        ports=ports,
        ops_ports=ops_ports,
        bind_host=_env("BIND_HOST"),
        public_base_url=public_base_url,
        api_audience=_env("API_AUDIENCE"),
        jwks_url=os.environ.get("JWKS_URL") or f"{service_urls['identity']}/jwks.json",
        service_urls=service_urls,
        auto_migrate=_flag("AUTO_MIGRATE"),
        demo=_flag("DEMO"),
        environment=_env("ENVIRONMENT"),
        smtp_host=_env("SMTP_HOST"),
        smtp_port=int(_env("SMTP_PORT")),
        smtp_username=_env("SMTP_USERNAME"),
        smtp_password=_env("SMTP_PASSWORD"),
        smtp_starttls=_flag("SMTP_STARTTLS"),
        mail_from=_env("MAIL_FROM"),
        read_model_max_lag_seconds=float(_env("READ_MODEL_MAX_LAG_SECONDS")),
        outbox_poll_seconds=float(_env("OUTBOX_POLL_SECONDS")),
        max_deliveries=int(_env("MAX_DELIVERIES")),
        event_ack_wait_seconds=float(_env("EVENT_ACK_WAIT_SECONDS")),
        event_stuck_after_seconds=float(_env("EVENT_STUCK_AFTER_SECONDS")),
        event_apply_timeout_seconds=float(_env("EVENT_APPLY_TIMEOUT_SECONDS")),
        embedded_nats_port=embedded_nats_port,
        log_level=_env("LOG_LEVEL"),
        log_format=_env("LOG_FORMAT"),
        explicit_service_urls=explicit_service_urls,
    )
