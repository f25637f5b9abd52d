"""Configuration from environment variables, with embedded defaults.

Every variable a process reads is listed in ``ENV_VARS`` so the README table and the
Kubernetes manifests can be checked against it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
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


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class SettingsError(ValueError):
    """Environment variables hold values the processes cannot run with; every one is named."""


class EnvReader:
    """Reads variables with their defaults and collects every invalid value, so that a
    process refuses to start with one message naming each variable, its value and what it
    must be, instead of failing later (a timeout of 0 would dead-letter every event)."""

    def __init__(self, defaults: Mapping[str, str], meanings: Mapping[str, str]) -> None:
        self.defaults = defaults
        self.meanings = meanings
        self.problems: list[str] = []

    @classmethod
    def of(cls, table: Mapping[str, tuple[str, str]]) -> EnvReader:
        """A reader of a ``name -> (default, meaning)`` table such as ``ENV_VARS``."""
        return cls({name: default for name, (default, _) in table.items()},
                   {name: meaning for name, (_, meaning) in table.items()})

    def text(self, name: str) -> str:
        return os.environ.get(name, self.defaults[name])

    def _refuse(self, name: str, value: str, must: str) -> None:
        meaning = self.meanings.get(name)
        self.problems.append(f"{name}={value!r} must be {must}" + (
            f" ({meaning})" if meaning else ""))

    def number(self, name: str, *, minimum: float, maximum: float | None = None,
               above: bool = False) -> float:
        """A number >= minimum (> minimum when ``above``) and <= maximum when given."""
        value = self.text(name)
        bound = f"greater than {minimum:g}" if above else f"at least {minimum:g}"
        must = f"a number {bound}" + (f" and at most {maximum:g}" if maximum is not None else "")
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not (number > minimum if above else number >= minimum) or (
                maximum is not None and number > maximum):  # NaN fails both
            self._refuse(name, value, must)
            return float(self.defaults[name] or minimum)
        return number

    def integer(self, name: str, *, minimum: int, maximum: int | None = None) -> int:
        value = self.text(name)
        must = f"a whole number of at least {minimum}" + (
            f" and at most {maximum}" if maximum is not None else "")
        try:
            number = int(value.strip())
        except ValueError:
            self._refuse(name, value, must)
            return int(self.defaults[name] or minimum)
        if number < minimum or (maximum is not None and number > maximum):
            self._refuse(name, value, must)
        return number

    def port(self, name: str) -> int:
        return self.integer(name, minimum=1, maximum=65535)

    def flag(self, name: str) -> bool:
        value = self.text(name).strip().lower()
        if value not in _TRUE + _FALSE:
            self._refuse(name, value, "one of " + ", ".join(_TRUE + _FALSE))
        return value in _TRUE

    def choice(self, name: str, options: tuple[str, ...], *, upper: bool = False) -> str:
        value = self.text(name).strip()
        value = value.upper() if upper else value
        if value not in options:
            self._refuse(name, value, "one of " + ", ".join(options))
        return value

    def check(self) -> None:
        """Raise SettingsError naming every invalid variable read so far."""
        if self.problems:
            raise SettingsError("invalid configuration; fix these environment variables: "
                                + "; ".join(self.problems))


_LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


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
    """The settings, or SettingsError naming every variable with an invalid value."""
    env = EnvReader.of(ENV_VARS)
    data_dir = Path(env.text("DATA_DIR")).resolve()
    names = ("gateway", "identity", "facility", "submittal")
    ports = {name: env.port(f"{name.upper()}_PORT") for name in names}
    ops_ports = {name: env.port(f"{name.upper()}_OPS_PORT") for name in names}
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
    public_base_url = env.text("PUBLIC_BASE_URL").rstrip("/")
    embedded_nats_port = env.port("EMBEDDED_NATS_PORT")
    settings = Settings(
        data_dir=data_dir,
        database_urls=database_urls,
        nats_url=os.environ.get("NATS_URL") or f"nats://127.0.0.1:{embedded_nats_port}",
        # JetStream replicates a stream on at most five servers.
        nats_stream_replicas=env.integer("NATS_STREAM_REPLICAS", minimum=1, maximum=5),
        ports=ports,
        ops_ports=ops_ports,
        bind_host=env.text("BIND_HOST"),
        public_base_url=public_base_url,
        api_audience=env.text("API_AUDIENCE"),
        jwks_url=os.environ.get("JWKS_URL") or f"{service_urls['identity']}/jwks.json",
        service_urls=service_urls,
        auto_migrate=env.flag("AUTO_MIGRATE"),
        demo=env.flag("DEMO"),
        environment=env.choice("ENVIRONMENT", ("embedded", "production")),
        smtp_host=env.text("SMTP_HOST"),
        smtp_port=env.port("SMTP_PORT"),
        smtp_username=env.text("SMTP_USERNAME"),
        smtp_password=env.text("SMTP_PASSWORD"),
        smtp_starttls=env.flag("SMTP_STARTTLS"),
        mail_from=env.text("MAIL_FROM"),
        read_model_max_lag_seconds=env.number("READ_MODEL_MAX_LAG_SECONDS", minimum=0,
                                              above=True),
        outbox_poll_seconds=env.number("OUTBOX_POLL_SECONDS", minimum=0, above=True),
        max_deliveries=env.integer("MAX_DELIVERIES", minimum=1),
        event_ack_wait_seconds=env.number("EVENT_ACK_WAIT_SECONDS", minimum=0, above=True),
        event_stuck_after_seconds=env.number("EVENT_STUCK_AFTER_SECONDS", minimum=0,
                                             above=True),
        event_apply_timeout_seconds=env.number("EVENT_APPLY_TIMEOUT_SECONDS", minimum=0,
                                               above=True),
        embedded_nats_port=embedded_nats_port,
        log_level=env.choice("LOG_LEVEL", _LOG_LEVELS, upper=True),
        log_format=env.choice("LOG_FORMAT", ("json", "text")),
        explicit_service_urls=explicit_service_urls,
    )
    env.check()
    return settings
