"""Importing 10,000 inventory rows from CSV: rows per second, against a baseline.

Three measurements in one run, on a temporary SQLite database:
- baseline: reading the CSV with the standard csv module only (no typing, no rules);
- parse: our parse_csv (typing, enum checks, every validation rule per row);
- import: the whole use case (parse, authorization from the read model, one transaction
  saving the draft), as importHazardousMaterials runs it.

``python -m bench submittal_import [rows]``
"""

from __future__ import annotations

import asyncio
import csv
import io
import sys
import tempfile
import time
from pathlib import Path

from common.auth import Principal
from common.db import Database
from services.submittal.adapters.storage import FolderStorage
from services.submittal.adapters.tables import Element, FacilityView, MembershipView, now
from services.submittal.domain.hmi_csv import COLUMNS, parse_csv
from services.submittal.migrate import migrate
from services.submittal.seed import MATERIALS
from services.submittal.service_layer.deps import Deps
from services.submittal.service_layer.imports import import_csv


def make_csv(rows: int) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for i in range(rows):
        name, cas, ehs, hm_type, state, peak, avg, units, where, container, fire = (
            MATERIALS[i % len(MATERIALS)])
        writer.writerow({
            "commonName": f"{name} #{i}", "casNumber": cas or "", "ehs": "Y" if ehs else "N",
            "hmType": hm_type, "physicalState": state, "maximumDailyAmount": peak,
            "averageDailyAmount": avg, "units": units, "location": f"{where}, bay {i}",
            "containerTypes": container, "fireCodeHazardClasses": fire, "daysOnSite": 365,
            "annualWasteAmount": 100 if hm_type == "WASTE" else "",
            "stateWasteCode": "221" if hm_type == "WASTE" else "",
            "component1Name": name, "component1Percent": 90,
        })
    return out.getvalue()


def timed(label: str, rows: int, work: object) -> float:
    started = time.perf_counter()
    result = work() if callable(work) else None
    elapsed = time.perf_counter() - started
    del result
    print(f"{label:<10} {rows / elapsed:>12,.0f} rows/s  ({elapsed:.3f} s)", flush=True)
    return elapsed


async def full_import(text: str, rows: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await migrate(url)
        db = Database(url)
        deps = Deps(db=db, fresh=lambda: True, storage=FolderStorage(Path(tmp)))
        stamp = now()
        async with db.transaction() as session:
            session.add(FacilityView(id="f1", organization_id="o1", name="Bench",
                                     updated_at=stamp))
            session.add(MembershipView(organization_id="o1", user_id="u1", role="EDITOR"))
            session.add(Element(id="d1", facility_id="f1",
                                element_type="HAZARDOUS_MATERIALS_INVENTORY", status="DRAFT",
                                created_at=stamp, updated_at=stamp))
        principal = Principal(sub="u1", portal="business", scopes=frozenset(), client_id="c",
                              token_id="t")
        started = time.perf_counter()
        _, count, _ = await import_csv(deps, principal, "d1", text, "REPLACE")
        elapsed = time.perf_counter() - started
        await db.dispose()
    assert count == rows, count
    print(f"{'import':<10} {rows / elapsed:>12,.0f} rows/s  ({elapsed:.3f} s)", flush=True)
    return elapsed


def main() -> int:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    text = make_csv(rows)
    print(f"{rows:,} CSV rows, {len(text) / 1e6:.1f} MB")
    baseline = timed("baseline", rows, lambda: list(csv.DictReader(io.StringIO(text))))
    parse = timed("parse", rows, lambda: parse_csv(text))
    materials, issues = parse_csv(text)
    errors = [i for i in issues if i.is_error]
    assert len(materials) == rows and not errors, errors[:3]
    whole = asyncio.run(full_import(text, rows))
    print(f"parse is {parse / baseline:.1f}x the baseline; the whole import "
          f"{whole / baseline:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
