"""``python -m gateway`` serves the supergraph on settings.port("gateway")."""

from __future__ import annotations

from common.asgi import serve
from common.logs import configure_logging
from common.settings import load_settings
from common.tracing import configure_tracing
from gateway.app import create_app
from gateway.config import ws_compression


def main() -> None:
    settings = load_settings()
    configure_logging("gateway", settings.log_level, settings.log_format)
    configure_tracing("gateway")
    serve(
        create_app(settings),
        host=settings.bind_host,
        port=settings.port("gateway"),
        ops_port=settings.ops_port("gateway"),
        log_level=settings.log_level.lower(),
        access_log=False,
        # The address we pass on in X-Forwarded-For (to identity's per-client throttles) is the
        # peer we saw; uvicorn would otherwise take it from a loopback client's own header.
        proxy_headers=False,
        ws_per_message_deflate=ws_compression(),
    )


if __name__ == "__main__":
    main()
