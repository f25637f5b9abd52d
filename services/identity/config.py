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

from dataclasses import dataclass
from datetime import timedelta

from common.settings import EnvReader, Settings
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
        """Raises SettingsError naming every variable with an invalid value."""
        env = EnvReader(ENV_VARS, {})

        def count(name: str, minimum: int = 1) -> int:
            return env.integer(name, minimum=minimum)

        config = cls(
            keys=KeyPaths.from_env(settings.data_dir),
            lockout=LockoutPolicy(
                max_failures=count("IDENTITY_LOCKOUT_MAX_FAILURES"),
                window=timedelta(seconds=count("IDENTITY_LOCKOUT_WINDOW_SECONDS")),
                lock_for=timedelta(seconds=count("IDENTITY_LOCKOUT_SECONDS")),
            ),
            address_attempts_per_minute=count("IDENTITY_ADDRESS_ATTEMPTS_PER_MINUTE"),
            registrations_per_hour=count("IDENTITY_REGISTRATIONS_PER_HOUR"),
            trusted_proxy_hops=count("IDENTITY_TRUSTED_PROXY_HOPS", minimum=0),
            hash_cost=HashCost(
                # argon2's own floors: 8 KiB per lane, one pass, one lane.
                memory_kib=count("IDENTITY_ARGON2_MEMORY_KIB", minimum=8),
                time_cost=count("IDENTITY_ARGON2_TIME_COST"),
                parallelism=count("IDENTITY_ARGON2_PARALLELISM"),
            ),
            signing_key_max_age=timedelta(days=count("IDENTITY_SIGNING_KEY_MAX_AGE_DAYS")),
        )
        env.check()
        return config
