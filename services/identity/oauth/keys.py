"""Signing keys: the current key signs, the previous one (if any) is still published.

Keys are PEM files. Embedded runs generate the current key under ``DATA_DIR/keys/`` on first
start; production mounts them from a Secret and points ``IDENTITY_SIGNING_KEY_FILE`` (and
``IDENTITY_PREVIOUS_SIGNING_KEY_FILE`` during a rotation) at them. Files are re-read when they
change, so a rotation needs no restart.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc.jwk import KeySet, RSAKey

ALGORITHM = "RS256"


@dataclass(frozen=True)
class KeyPaths:
    current: Path
    previous: Path

    @classmethod
    def from_env(cls, data_dir: Path) -> KeyPaths:
        keys = data_dir / "keys"
        return cls(
            Path(os.environ.get("IDENTITY_SIGNING_KEY_FILE") or keys / "signing.pem"),
            Path(
                os.environ.get("IDENTITY_PREVIOUS_SIGNING_KEY_FILE")
                or keys / "signing.previous.pem"
            ),
        )


def _load(path: Path) -> RSAKey:
    key = RSAKey.import_key(path.read_bytes())
    key.ensure_kid()
    return key


def _write_private(path: Path, key: RSAKey) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.as_pem(private=True))
    tmp.replace(path)


def generate_key() -> RSAKey:
    return RSAKey.generate_key(2048, private=True)


class KeyStore:
    def __init__(self, paths: KeyPaths, *, create: bool) -> None:
        self.paths = paths
        self._lock = threading.Lock()
        self._stamp: tuple[float, float] | None = None
        self._current: RSAKey | None = None
        self._previous: RSAKey | None = None
        if not paths.current.exists():
            if not create:
                raise FileNotFoundError(
                    f"No signing key at {paths.current}; set IDENTITY_SIGNING_KEY_FILE to the "
                    "mounted private key (PEM), or run `python -m services.identity rotate-keys`"
                )
            _write_private(paths.current, generate_key())

    def _mtime(self, path: Path) -> float:
        try:
            return path.stat().st_mtime
        except FileNotFoundError:
            return 0.0

    def _refresh(self) -> None:
        stamp = (self._mtime(self.paths.current), self._mtime(self.paths.previous))
        if stamp == self._stamp:
            return
        with self._lock:
            self._current = _load(self.paths.current)
            self._previous = _load(self.paths.previous) if stamp[1] else None
            self._stamp = stamp

    @property
    def signing_key(self) -> RSAKey:
        self._refresh()
        assert self._current is not None
        return self._current

    def kids(self) -> dict[str, str | None]:
        """The key ids of the current and (during a rotation) the previous key."""
        self._refresh()
        assert self._current is not None
        return {"current": str(self._current.kid),
                "previous": str(self._previous.kid) if self._previous is not None else None}

    def public_jwks(self) -> dict[str, Any]:
        self._refresh()
        keys = [k for k in (self._current, self._previous) if k is not None]
        return {
            "keys": [
                {**k.as_dict(private=False), "use": "sig", "alg": ALGORITHM} for k in keys
            ]
        }

    def public_key_set(self) -> KeySet:
        return KeySet.import_key_set(self.public_jwks())  # type: ignore[arg-type]


def rotate(paths: KeyPaths) -> str:
    """Make the current key the previous one and generate a new current key; returns its kid."""
    if paths.current.exists():
        paths.previous.parent.mkdir(parents=True, exist_ok=True)
        _write_private(paths.previous, _load(paths.current))
    key = generate_key()
    _write_private(paths.current, key)
    key.ensure_kid()
    return str(key.kid)
