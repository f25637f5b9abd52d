"""Verification of RFC 9068 access tokens against identity's JWKS.

Every subgraph and the gateway verify the token themselves: signature, ``typ``, algorithm
allow-list, ``iss``, ``aud``, ``exp``, ``iat`` and ``nbf``. No claim is trusted before that.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import httpx
from joserfc import jws, jwt
from joserfc.errors import ClaimError, ExpiredTokenError, JoseError, MissingClaimError
from joserfc.jwk import KeySet

from common.settings import Settings

log = logging.getLogger(__name__)

Portal = Literal["business", "regulator", "state"]
PORTALS: frozenset[str] = frozenset({"business", "regulator", "state"})
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
# Asymmetric only: "none" and HS* would let anyone holding the public key mint tokens.
DEFAULT_ALGORITHMS = ("RS256", "ES256")
_FORBIDDEN_ALGORITHMS = frozenset({"none", "HS256", "HS384", "HS512"})
_REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "sub", "client_id", "jti")
_MAX_TOKEN_LENGTH = 16_384
VERIFIED_CACHE_SIZE = 4096


class AuthError(Exception):
    """The caller's credentials are missing, malformed or invalid (``UNAUTHENTICATED``)."""

    code = "UNAUTHENTICATED"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class KeysUnavailableError(AuthError):
    """The JWKS could not be fetched, so no token can be checked (``UNAVAILABLE``, not the
    caller's fault: clients should retry rather than drop their token)."""

    code = "UNAVAILABLE"


@dataclass(frozen=True)
class Principal:
    """Who is calling, as proven by a verified access token.

    ``user_id`` is the ``sub`` of a person's token. A client-credentials token has no
    ``portal`` claim, or its ``sub`` equals its ``client_id`` (RFC 9068 §2.2); it then has no
    user, and ``user_id`` is None.
    """

    sub: str
    portal: Portal | None
    scopes: frozenset[str]
    client_id: str | None
    token_id: str | None
    claims: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_statewide(self) -> bool:
        return self.portal == "state" or "statewide:read" in self.scopes

    @property
    def user_id(self) -> str | None:
        if self.portal is None or self.sub == self.client_id:
            return None
        return self.sub

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Principal:
        portal = claims.get("portal")
        if portal is not None and portal not in PORTALS:
            raise AuthError(f"Access token has an unknown portal {portal!r}")
        scope = claims.get("scope", "")
        scopes = scope.split() if isinstance(scope, str) else [str(s) for s in scope]
        client_id = claims.get("client_id")
        token_id = claims.get("jti")
        return cls(
            sub=str(claims["sub"]),
            portal=cast("Portal | None", portal),
            scopes=frozenset(scopes),
            client_id=str(client_id) if client_id is not None else None,
            token_id=str(token_id) if token_id is not None else None,
            claims=dict(claims),
        )


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header; None when there is no header.

    Raises AuthError for any other scheme or a malformed value.
    """
    if authorization is None or not authorization.strip():
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer":
        raise AuthError("Authorization header must use the Bearer scheme")
    if not token or " " in token or len(token) > _MAX_TOKEN_LENGTH:
        raise AuthError("Authorization header must be 'Bearer <access token>'")
    return token


class JWKSVerifier:
    """Verifies access tokens with keys fetched from ``jwks_url`` and cached.

    An unknown ``kid`` triggers one refresh (keys rotate), but never more often than every
    ``min_refresh_seconds``, so a flood of made-up key ids cannot hammer identity. When a
    refresh fails, the keys already cached keep working.
    """

    def __init__(
        self,
        jwks_url: str,
        *,
        issuer: str,
        audience: str,
        algorithms: Collection[str] = DEFAULT_ALGORITHMS,
        client: httpx.AsyncClient | None = None,
        cache_seconds: float = 300,
        min_refresh_seconds: float = 5,
        leeway_seconds: int = 30,
        verified_cache_size: int = VERIFIED_CACHE_SIZE,
    ) -> None:
        bad = _FORBIDDEN_ALGORITHMS.intersection(algorithms)
        if bad or not algorithms:
            raise ValueError(f"algorithms must be asymmetric signature algorithms, not {bad}")
        self.jwks_url = jwks_url
        self.issuer = issuer
        self.audience = audience
        self.algorithms = tuple(algorithms)
        self.cache_seconds = cache_seconds
        self.min_refresh_seconds = min_refresh_seconds
        self.leeway_seconds = leeway_seconds
        self._client = client
        self._owns_client = client is None
        self._keys: KeySet | None = None
        self._fetched_at = 0.0
        self._attempted_at = float("-inf")
        self._last_error: str | None = None
        self._lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.fetch_count = 0
        # Tokens already verified, until they expire: a client sends the same token with each
        # request for its 15 minutes, and a signature check costs more than a simple read.
        # Bounded (least recently used first out) and emptied whenever the keys change.
        self.verified_cache_size = verified_cache_size
        self._verified: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self.verified_hits = 0

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> JWKSVerifier:
        """The verifier every process uses: JWKS_URL, issuer PUBLIC_BASE_URL, API_AUDIENCE."""
        return cls(
            settings.jwks_url,
            issuer=settings.public_base_url,
            audience=settings.api_audience,
            **options,
        )

    async def aclose(self) -> None:
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    async def verify(self, token: str) -> Principal:
        """Return the Principal of a valid access token, else raise AuthError."""
        cached = self._verified.get(token)
        if cached is not None:
            expires, principal = cached
            if time.time() < expires:
                self._verified.move_to_end(token)
                self.verified_hits += 1
                return principal
            del self._verified[token]
        principal = await self._verify(token)
        exp = principal.claims.get("exp")
        if isinstance(exp, int | float) and self.verified_cache_size > 0:
            self._verified[token] = (float(exp), principal)
            while len(self._verified) > self.verified_cache_size:
                self._verified.popitem(last=False)
        return principal

    async def _verify(self, token: str) -> Principal:
        header = _unverified_header(token)
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES:
            raise AuthError(f"Not an access token (typ {typ!r}; expected 'at+jwt')")
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise AuthError(f"Token algorithm {alg!r} is not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("Token header has no key id (kid)")
        key = await self._key(kid)
        try:
            decoded = jwt.decode(token, key, algorithms=[alg])
        except JoseError as exc:
            raise AuthError(f"Token signature is invalid ({exc.error})") from exc
        self._check_claims(decoded.claims)
        return Principal.from_claims(decoded.claims)

    def _check_claims(self, claims: dict[str, Any]) -> None:
        options: dict[str, jwt.ClaimsOption] = {n: {"essential": True} for n in _REQUIRED_CLAIMS}
        options["iss"] = {"essential": True, "value": self.issuer}
        options["aud"] = {"essential": True, "value": self.audience}
        registry = jwt.JWTClaimsRegistry(None, self.leeway_seconds, **options)
        try:
            registry.validate(claims)
        except ExpiredTokenError as exc:
            raise AuthError("Token has expired") from exc
        except MissingClaimError as exc:
            raise AuthError(f"Token lacks required claim(s) {exc.claim}") from exc
        except ClaimError as exc:
            raise AuthError(f"Token claim {exc.claim!r} is invalid: {exc.description}") from exc

    async def _key(self, kid: str) -> Any:
        keys = await self._current_keys()
        if not _has_kid(keys, kid) and self._may_refresh(self.min_refresh_seconds):
            keys = await self._refresh(since=self._attempted_at)
        if not _has_kid(keys, kid):
            raise AuthError(f"Token is signed with an unknown key (kid {kid!r})")
        return keys.get_by_kid(kid)

    def _may_refresh(self, interval: float) -> bool:
        return time.monotonic() - self._attempted_at >= interval

    async def _current_keys(self) -> KeySet:
        self._bind_to_running_loop()
        if self._keys is None and self._lock.locked():
            # The first fetch is under way: share its answer instead of failing the burst.
            async with self._lock:
                pass
            if self._keys is not None:
                return self._keys
            raise self._unavailable()
        if self._keys is None:
            # Identity may still be starting: retry soon, but not once per request.
            if not self._may_refresh(min(1.0, self.min_refresh_seconds)):
                raise self._unavailable()
        elif time.monotonic() - self._fetched_at < self.cache_seconds or not self._may_refresh(
            self.min_refresh_seconds
        ):
            return self._keys
        return await self._refresh(since=self._attempted_at)

    def _bind_to_running_loop(self) -> None:
        # An app object may outlive its event loop (tests, reloads); a lock or connection
        # pool bound to a closed loop would fail, so start afresh in a new loop.
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop = loop
            self._lock = asyncio.Lock()
            if self._owns_client:
                self._client = None

    async def _refresh(self, *, since: float) -> KeySet:
        self._bind_to_running_loop()
        async with self._lock:
            # Whoever held the lock before us has just tried: share their answer.
            if self._attempted_at <= since:
                self._attempted_at = time.monotonic()
                try:
                    keys = await self._fetch()
                    if self._keys is None or _kids(keys) != _kids(self._keys):
                        self._verified.clear()  # a withdrawn key takes its tokens with it
                    self._keys = keys
                    self._fetched_at = self._attempted_at
                    self._last_error = None
                except (httpx.HTTPError, ValueError, JoseError) as exc:
                    self._last_error = f"{type(exc).__name__}: {exc}"
                    log.warning(
                        "cannot fetch signing keys from %s (%s); %s",
                        self.jwks_url,
                        self._last_error,
                        "keeping the cached keys" if self._keys else "no tokens can be verified",
                    )
            if self._keys is None:
                raise self._unavailable()
            return self._keys

    def _unavailable(self) -> KeysUnavailableError:
        return KeysUnavailableError(
            f"Cannot verify tokens: signing keys from {self.jwks_url} are unavailable "
            f"({self._last_error or 'not fetched yet'}); retry shortly"
        )

    async def _fetch(self) -> KeySet:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=5.0)
        self.fetch_count += 1
        response = await self._client.get(self.jwks_url, headers={"accept": "application/json"})
        response.raise_for_status()
        data = response.json()
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise ValueError("JWKS document has no 'keys' list")
        # Only public signature keys: a stray symmetric key must never verify anything.
        public = [k for k in data["keys"] if isinstance(k, dict) and k.get("kty") in ("RSA", "EC")]
        if not public:
            raise ValueError("JWKS document has no RSA or EC keys")
        return KeySet.import_key_set({"keys": public})


def _kids(keys: KeySet) -> frozenset[str | None]:
    return frozenset(key.kid for key in keys)


def _has_kid(keys: KeySet, kid: str) -> bool:
    return any(key.kid == kid for key in keys)


def _unverified_header(token: str) -> dict[str, Any]:
    if not token or len(token) > _MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise AuthError("Token is not a compact JWS (header.payload.signature)")
    try:
        obj = jws.extract_compact(token.encode("ascii"))
    except (JoseError, ValueError, UnicodeError) as exc:
        raise AuthError("Token is malformed") from exc
    return dict(obj.headers())
