"""Converting reported amounts between pounds, tons, gallons and cubic feet.

Mass and volume convert into each other only through the material's density, when the business
reported one. Gallons and cubic feet are both volumes, but a gas is reported in cubic feet at
STP and a liquefied gas in gallons of liquid, so for a GAS they do not convert without a
density for each state: that conversion is refused rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.submittal.domain.hmi import DensityUnits, PhysicalState, Units

GALLONS_PER_CUBIC_FOOT = 7.480519480519481  # 231 cubic inches to the gallon
POUNDS_PER_TON = 2000.0
MASS = (Units.POUNDS, Units.TONS)
VOLUME = (Units.GALLONS, Units.CUBIC_FEET)


@dataclass(frozen=True)
class Conversion:
    """An amount in the unit asked for, or why it cannot be given."""

    value: float | None
    problem: str | None = None


def _pounds_per(unit: Units, density: float, density_units: DensityUnits) -> float:
    """Pounds in one ``unit`` of volume, from the density."""
    per_gallon = (density if density_units is DensityUnits.POUNDS_PER_GALLON
                  else density / GALLONS_PER_CUBIC_FOOT)
    return per_gallon if unit is Units.GALLONS else per_gallon * GALLONS_PER_CUBIC_FOOT


def convert(amount: float, unit: Units, to: Units, *, state: PhysicalState | None = None,
            density: float | None = None,
            density_units: DensityUnits | None = None) -> Conversion:
    if unit is to:
        return Conversion(amount)
    if unit in MASS and to in MASS:
        pounds = amount * POUNDS_PER_TON if unit is Units.TONS else amount
        return Conversion(pounds / POUNDS_PER_TON if to is Units.TONS else pounds)
    if unit in VOLUME and to in VOLUME:
        if state is PhysicalState.GAS:
            return Conversion(None, "a gas in gallons (liquefied) and in cubic feet (at STP) "
                                    "do not convert into each other")
        gallons = amount if unit is Units.GALLONS else amount * GALLONS_PER_CUBIC_FOOT
        return Conversion(gallons if to is Units.GALLONS else gallons / GALLONS_PER_CUBIC_FOOT)
    if density is None or density_units is None or density <= 0:
        return Conversion(None, f"{unit.value.lower().replace('_', ' ')} do not convert to "
                                f"{to.value.lower().replace('_', ' ')} without the material's "
                                "density, which was not reported")
    if unit in VOLUME:  # volume -> mass
        pounds = amount * _pounds_per(unit, density, density_units)
        return Conversion(pounds / POUNDS_PER_TON if to is Units.TONS else pounds)
    pounds = amount * POUNDS_PER_TON if unit is Units.TONS else amount  # mass -> volume
    return Conversion(pounds / _pounds_per(to, density, density_units))
