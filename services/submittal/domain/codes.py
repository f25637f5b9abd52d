"""CERS code lists as enums: our readable name on the wire, the CERS code and label alongside.

A member is declared as ``NAME = "code", "label"``. Its value (what JSON data and GraphQL
carry) is its name, so data reads as words; ``code`` is the CERS code (DATA-DICTIONARY-ELEMENTS)
for exports and ``label`` the official wording shown in forms. The CERS code is also accepted
on input (``TankUse("1a")`` is ``TankUse.MOTOR_VEHICLE_FUELING``), which keeps imports of CERS
data simple; it is never stored.
"""

from __future__ import annotations

from enum import Enum
from typing import Any


class CodeList(Enum):
    code: str
    label: str

    def __new__(cls, code: str, label: str) -> CodeList:
        member = object.__new__(cls)
        member._value_ = code
        return member

    def __init__(self, code: str, label: str) -> None:
        self.code = code
        self.label = label
        # The name becomes the value after Enum registered the code as a lookup key.
        self._value_ = self._name_

    @classmethod
    def _missing_(cls, value: object) -> Any:
        return cls.__members__.get(value) if isinstance(value, str) else None

    @classmethod
    def from_code(cls, code: object) -> Any:
        """The member whose CERS code is ``code`` (``5`` and ``"5"`` alike), else None."""
        text = str(code).strip()
        return next((m for m in cls if m.code == text), None)


class WasteQuantityUnit(CodeList):
    """Units of a waste quantity (612, 728; the same codes read for the report's 523)."""

    POUNDS = "a", "Pounds"
    GALLONS = "b", "Gallons"
