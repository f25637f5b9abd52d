"""OAuth client rules: redirect URI matching (exact, plus RFC 8252 loopback) and scopes."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

PEOPLE_SCOPES = ("openid", "profile", "email", "offline_access")
STATEWIDE_SCOPE = "statewide:read"
ALL_SCOPES = (*PEOPLE_SCOPES, STATEWIDE_SCOPE)
LOOPBACK_HOSTS = ("127.0.0.1", "[::1]")


@dataclass(frozen=True)
class ClientSpec:
    client_id: str
    name: str
    redirect_uris: tuple[str, ...] = ()
    # None: the client chooses per request with portal=business|regulator.
    portal: str | None = None
    scopes: tuple[str, ...] = PEOPLE_SCOPES
    grant_types: tuple[str, ...] = ("authorization_code", "refresh_token")
    secret_hash: str | None = None
    # Where RP-initiated logout may return to; none registered means the redirect URIs and
    # the portal's root (what clients registered before this setting existed rely on).
    post_logout_redirect_uris: tuple[str, ...] = ()
    # Browser origins allowed to call /token, /userinfo and /revoke for this client (CORS).
    web_origins: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_public(self) -> bool:
        return self.secret_hash is None


def redirect_uri_matches(registered: tuple[str, ...], candidate: str) -> bool:
    """Exact match, except that a registered loopback URI accepts any port (RFC 8252 §7.3)."""
    if candidate in registered:
        return True
    try:
        cand = urlsplit(candidate)
        cand_port = cand.port
    except ValueError:
        return False
    if cand.scheme != "http" or cand.hostname is None or cand.fragment:
        return False
    cand_host = cand.netloc.rsplit(":", 1)[0] if cand_port else cand.netloc
    if cand_host not in LOOPBACK_HOSTS:
        return False
    for uri in registered:
        reg = urlsplit(uri)
        reg_host = reg.netloc.rsplit(":", 1)[0] if reg.port else reg.netloc
        if (
            reg.scheme == "http"
            and reg_host == cand_host
            and reg.path == cand.path
            and reg.query == cand.query
        ):
            return True
    return False


def normalize_origin(value: str) -> str | None:
    """``scheme://host[:port]`` in lower case, or None when ``value`` is not such an origin.

    A web origin is compared with the browser's ``Origin`` header, which never has a path,
    a query, user info or a default port spelled out.
    """
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def unknown_scopes(client_scopes: tuple[str, ...], requested: str | None) -> list[str]:
    """The requested scopes this client may not have, in request order."""
    return [s for s in dict.fromkeys((requested or "").split()) if s not in client_scopes]


def allowed_scope(client_scopes: tuple[str, ...], requested: str | None) -> str:
    """The requested scopes the client may have, in request order (all of them if none asked)."""
    if not requested:
        return " ".join(client_scopes)
    return " ".join(s for s in dict.fromkeys(requested.split()) if s in client_scopes)
