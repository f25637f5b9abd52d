"""Who made a change: a person (their account's id), or a named part of the system.

Audit entries name a person only by a real account id, which identity can resolve. Everything
else that changes facilities says what it is: an operator's command, the embedded demo
dataset, or another service acting on an event no person caused.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class SystemActorKind(enum.Enum):
    OPERATOR_COMMAND = "OPERATOR_COMMAND"
    DEMO_SEED = "DEMO_SEED"
    SERVICE = "SERVICE"


@dataclass(frozen=True)
class Actor:
    """Exactly one of ``user_id`` and ``system_kind`` is set; a system actor has a name."""

    user_id: str | None = None
    system_kind: SystemActorKind | None = None
    system_name: str | None = None

    def __post_init__(self) -> None:
        if (self.user_id is None) == (self.system_kind is None):
            raise ValueError("an actor is either a person or a system actor")
        if self.system_kind is not None and not self.system_name:
            raise ValueError("a system actor needs a name")

    @classmethod
    def person(cls, user_id: str) -> Actor:
        return cls(user_id=user_id)

    @classmethod
    def operator(cls, command: str) -> Actor:
        """``python -m services.facility <command>``, run by an operator."""
        return cls(system_kind=SystemActorKind.OPERATOR_COMMAND, system_name=command)

    @classmethod
    def demo_seed(cls) -> Actor:
        return cls(system_kind=SystemActorKind.DEMO_SEED, system_name="demo-seed")

    @classmethod
    def service(cls, name: str) -> Actor:
        return cls(system_kind=SystemActorKind.SERVICE, system_name=name)

    @classmethod
    def of_event(cls, user_id: str | None, service: str) -> Actor:
        """The person an event names, else the service that published it."""
        return cls.person(user_id) if user_id else cls.service(service)
