"""The inventory CSV format: one material per row, columns named like the GraphQL fields.

Yes/no columns take Y/N (also yes/no, true/false, 1/0); enum columns take the GraphQL enum
value, any case; list columns separate values with ";"; up to five components use the
columns component1Name, component1Percent, component1CasNumber, component1Ehs ... component5*.
Errors name the row (the file's line number; the header is line 1) and the column.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from pydantic import ValidationError

from services.submittal.domain.hmi import HazardousMaterial, check_material
from services.submittal.domain.issues import Checker, Issue

SCALAR_COLUMNS = (
    "commonName", "chemicalName", "casNumber", "tradeSecret", "ehs", "hmType", "physicalState",
    "location", "locationConfidential", "mapNumber", "gridNumber", "largestContainer",
    "containerTypes", "storagePressure", "storageTemperature", "averageDailyAmount",
    "maximumDailyAmount", "units", "density", "densityUnits", "daysOnSite",
    "annualWasteAmount", "stateWasteCode",
    "fireCodeHazardClasses", "hazardCategories",
)
COMPONENT_FIELDS = ("Name", "Percent", "CasNumber", "Ehs")
COLUMNS = SCALAR_COLUMNS + tuple(
    f"component{i}{field}" for i in range(1, 6) for field in COMPONENT_FIELDS
)
BOOLEAN = {"tradeSecret", "ehs", "locationConfidential"}
NUMBER = {"largestContainer", "averageDailyAmount", "maximumDailyAmount", "annualWasteAmount",
          "density"}
INTEGER = {"daysOnSite"}
ENUM = {"hmType", "physicalState", "storagePressure", "storageTemperature", "units",
        "densityUnits"}
LISTS = {"containerTypes", "hazardCategories"}
YES = {"y", "yes", "true", "1"}
NO = {"n", "no", "false", "0"}

_EXAMPLE = {
    "commonName": "Diesel fuel", "casNumber": "68476-34-6", "tradeSecret": "N", "ehs": "N",
    "hmType": "MIXTURE", "physicalState": "LIQUID", "location": "Fuel island, north tank",
    "locationConfidential": "N", "mapNumber": "1", "gridNumber": "B2",
    "largestContainer": "10000", "containerTypes": "ABOVE_GROUND_TANK",
    "storagePressure": "AMBIENT", "storageTemperature": "AMBIENT", "averageDailyAmount": "6000",
    "maximumDailyAmount": "10000", "units": "GALLONS", "daysOnSite": "365",
    "fireCodeHazardClasses": "3", "hazardCategories": "FLAMMABLE;ACUTE_TOXICITY",
}


def _template() -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerow([_EXAMPLE.get(c, "") for c in COLUMNS])
    return out.getvalue()


TEMPLATE = _template()


class RowError(ValueError):
    pass


def _boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered in YES:
        return True
    if lowered in NO:
        return False
    raise RowError(f"'{value}' is not Y or N.")


def _number(value: str) -> float:
    try:
        return float(value.replace(",", ""))
    except ValueError:
        raise RowError(f"'{value}' is not a number.") from None


def _integer(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise RowError(f"'{value}' is not a whole number.") from None


def _cell(column: str, value: str) -> Any:
    if column in BOOLEAN or column.endswith("Ehs"):
        return _boolean(value)
    if column in NUMBER or column.endswith("Percent"):
        return _number(value)
    if column in INTEGER:
        return _integer(value)
    if column in ENUM:
        return value.upper().replace(" ", "_")
    if column in LISTS:
        return [v.strip().upper().replace(" ", "_") for v in value.split(";") if v.strip()]
    if column == "fireCodeHazardClasses":
        return [_integer(v.strip()) for v in value.split(";") if v.strip()]
    return value


def _row(line: int, raw: dict[str, str], issues: list[Issue]) -> HazardousMaterial | None:
    data: dict[str, Any] = {}
    components: dict[int, dict[str, Any]] = {}
    failed = False
    for column, value in raw.items():
        value = (value or "").strip()
        if not value:
            continue
        try:
            parsed = _cell(column, value)
        except RowError as error:
            issues.append(Issue(("rows", line, column), str(error)))
            failed = True
            continue
        if column.startswith("component"):
            index, field = int(column[9]), column[10:]
            key = field[0].lower() + field[1:]
            components.setdefault(index, {})[key] = parsed
        else:
            data[column] = parsed
    numbers = sorted(components)  # list position -> the N of its componentN columns
    if components:
        data["components"] = [components[i] for i in numbers]
    if failed:
        return None
    try:
        material = HazardousMaterial.model_validate(data)
    except ValidationError as error:
        for problem in error.errors():
            column = _column(problem["loc"], numbers)
            issues.append(Issue(("rows", line, column), f"{problem['msg']}."))
        return None
    check = Checker(("rows", line))
    check_material(check, material)
    for issue in check.issues:
        issues.append(Issue(("rows", line, _column(issue.path[2:], numbers)), issue.message,
                            issue.code, issue.severity))
    return material


def _column(loc: tuple[Any, ...], numbers: list[int]) -> str:
    """A model path back to its CSV column: ("components", 0, "name") -> component2Name
    when the row filled only the component2* columns."""
    if len(loc) >= 3 and loc[0] == "components" and isinstance(loc[1], int):
        field = str(loc[2])
        number = numbers[loc[1]] if loc[1] < len(numbers) else loc[1] + 1
        return f"component{number}{field[0].upper()}{field[1:]}"
    return str(loc[0]) if loc else "row"


def parse_csv(
    text: str, max_rows: int | None = None
) -> tuple[list[HazardousMaterial], list[Issue]]:
    """Every row as a material, and every finding; ERROR findings mean nothing may be saved.

    Past ``max_rows`` rows, reading stops with an ERROR finding. A file the csv module cannot
    read raises csv.Error.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = reader.fieldnames or []
    unknown = [c for c in header if c not in COLUMNS]
    if not header or unknown or "commonName" not in header:
        detail = f"unknown columns {', '.join(unknown)}" if unknown else "no commonName column"
        return [], [Issue(("header",), f"The header row is not the inventory template ({detail})"
                          "; download it from /documents/templates/hmi.csv.", "BAD_HEADER")]
    materials: list[HazardousMaterial] = []
    issues: list[Issue] = []
    for count, raw in enumerate(reader, start=1):
        line = reader.line_num
        if max_rows is not None and count > max_rows:
            issues.append(Issue(("rows", line, "row"), f"The file has more than {max_rows} "
                                "rows; import it in parts with mode APPEND.", "TOO_LARGE"))
            break
        if None in raw:
            issues.append(Issue(("rows", line, "row"), "This row has more cells than the header."))
            continue
        material = _row(line, raw, issues)
        if material is not None:
            materials.append(material)
    return materials, issues
