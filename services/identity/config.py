"""identity's own settings, on top of common.settings. All from environment variables.

| variable | default | meaning |
|---|---|---|
| IDENTITY_SIGNING_KEY_FILE | $DATA_DIR/keys/signing.pem | current RS256 private key (PEM) |
| IDENTITY_PREVIOUS_SIGNING_KEY_FILE | $DATA_DIR/keys/signing.previous.pem | previous key |
| IDENTITY_LOCKOUT_MAX_FAILURES | 5 | wrong passwords within the window that lock an account |
| IDENTITY_LOCKOUT_WINDOW_SECONDS | 900 | the window |
| IDENTITY_LOCKOUT_SECONDS | 900 | how long the lock lasts |
| IDENTITY_ADDRESS_ATTEMPTS_PER_MINUTE | 30 | password attempts per client address per minute |
| IDENTITY_REGISTRATIONS_PER_HOUR | 30 | sign-ups (registerAccount) per client address per hour |
| IDENTITY_TRUSTED_PROXY_HOPS | 0 | proxies in front whose X-Forwarded-For entries are believed |
| IDENTITY_ARGON2_MEMORY_KIB | 65536 | argon2id memory cost of new password hashes |
| IDENTITY_ARGON2_TIME_COST | 3 | argon2id passes |
| IDENTITY_ARGON2_PARALLELISM | 4 | argon2id lanes |
| IDENTITY_SIGNING_KEY_MAX_AGE_DAYS | 90 | days after which a signing key is due for rotation |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

from common.settings import Settings
from services.identity.domain.lockout import LockoutPolicy
from services.identity.domain.passwords import HashCost
from services.identity.oauth.keys import KeyPaths

ENV_VARS: dict[str, str] = {
    "IDENTITY_SIGNING_KEY_FILE": "$DATA_DIR/keys/signing.pem",
    "IDENTITY_PREVIOUS_SIGNING_KEY_FILE": "$DATA_DIR/keys/signing.previous.pem",
    "IDENTITY_LOCKOUT_MAX_FAILURES": "5",
    "IDENTITY_LOCKOUT_WINDOW_SECONDS": "900",
    "IDENTITY_LOCKOUT_SECONDS": "900",
    "IDENTITY_ADDRESS_ATTEMPTS_PER_MINUTE": "30",
    "IDENTITY_REGISTRATIONS_PER_HOUR": "30",
    "IDENTITY_TRUSTED_PROXY_HOPS": "0",
    "IDENTITY_ARGON2_MEMORY_KIB": "65536",
    "IDENTITY_ARGON2_TIME_COST": "3",
    "IDENTITY_ARGON2_PARALLELISM": "4",
    "IDENTITY_SIGNING_KEY_MAX_AGE_DAYS": "90",
}


def _int(name: str) -> int:
    return int(os.environ.get(name) or ENV_VARS[name])


@dataclass(frozen=True)
class IdentityConfig:
    keys: KeyPaths
    lockout: LockoutPolicy
    address_attempts_per_minute: int
    registrations_per_hour: int
    trusted_proxy_hops: int
    hash_cost: HashCost
    signing_key_max_age: timedelta = timedelta(days=90)

    @classmethod
    def from_env(cls, settings: Settings) -> IdentityConfig:
        return cls(
            keys=KeyPaths.from_env(settings.data_dir),
            lockout=LockoutPolicy(
                max_failures=_int("IDENTITY_LOCKOUT_MAX_FAILURES"),
                window=timedelta(seconds=_int("IDENTITY_LOCKOUT_WINDOW_SECONDS")),
                lock_for=timedelta(seconds=_int("IDENTITY_LOCKOUT_SECONDS")),
            ),
            address_attempts_per_minute=_int("IDENTITY_ADDRESS_ATTEMPTS_PER_MINUTE"),
            registrations_per_hour=_int("IDENTITY_REGISTRATIONS_PER_HOUR"),
            trusted_proxy_hops=_int("IDENTITY_TRUSTED_PROXY_HOPS"),
            hash_cost=HashCost(
                memory_kib=_int("IDENTITY_ARGON2_MEMORY_KIB"),
                time_cost=_int("IDENTITY_ARGON2_TIME_COST"),
                parallelism=_int("IDENTITY_ARGON2_PARALLELISM"),
            ),
            signing_key_max_age=timedelta(days=_int("IDENTITY_SIGNING_KEY_MAX_AGE_DAYS")),
        )
