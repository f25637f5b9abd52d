"""CAS Registry Numbers: NNNNNNN-NN-N with a check digit."""

from __future__ import annotations

import re

_CAS = re.compile(r"^(\d{2,7})-(\d{2})-(\d)$")


def cas_problem(value: str) -> str | None:
    """Why ``value`` is not a valid CAS number, or None when it is."""
    match = _CAS.match(value.strip())
    if not match:
        return (
            f"'{value}' is not a CAS number; the form is 2-7 digits, 2 digits and a check digit"
            " (for example 7732-18-5)."
        )
    digits = (match.group(1) + match.group(2))[::-1]
    expected = sum(i * int(d) for i, d in enumerate(digits, start=1)) % 10
    if expected != int(match.group(3)):
        return f"CAS number '{value}' has a wrong check digit (expected {expected})."
    return None
