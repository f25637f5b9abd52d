"""`python -m services.facility create-agency`, run as an operator runs it."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from sqlalchemy import func, select

from common.db import Database
from services.facility.adapters.tables import Base

ROOT = Path(__file__).resolve().parents[2]


async def facility_cli(data_dir: Path, database_url: str, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "DATA_DIR": str(data_dir), "FACILITY_DATABASE_URL": database_url,
           "LOG_LEVEL": "WARNING", "SMTP_HOST": ""}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.facility", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def row_counts(database_url: str) -> dict[str, int]:
    db = Database(database_url)
    try:
        async with db.read() as session:
            counts = {}
            for table in Base.metadata.sorted_tables:
                count = select(func.count()).select_from(table)
                counts[table.name] = (await session.execute(count)).scalar_one()
            return counts
    finally:
        await db.dispose()


async def test_create_agency_refuses_a_taken_county_or_name_in_one_line_and_writes_nothing(
    database_url: str, tmp_path: Path,
) -> None:
    code, out, err = await facility_cli(
        tmp_path, database_url, "create-agency", "--name", "Plumas County Environmental Health",
        "--county", "Plumas", "--admin-email", "cupa.admin@example.com",
    )
    assert code == 0, err
    assert "created agency" in out
    agency_id = out.split()[2]
    before = await row_counts(database_url)
    assert before["agencies"] == 1

    code, out, err = await facility_cli(
        tmp_path, database_url, "create-agency", "--name", "Plumas Hazmat Program",
        "--county", "Plumas", "--admin-email", "other.admin@example.com",
    )
    assert code == 1
    assert "Traceback" not in err and "IntegrityError" not in err
    line = err.strip().splitlines()[-1]
    assert line.startswith("create-agency: Plumas County is already the jurisdiction of "
                           "'Plumas County Environmental Health'")
    assert f"set-jurisdiction --agency-id {agency_id}" in line
    assert line.endswith("Nothing was changed.")
    assert await row_counts(database_url) == before

    code, out, err = await facility_cli(
        tmp_path, database_url, "create-agency", "--name", "Plumas County Environmental Health",
        "--county", "Sierra", "--admin-email", "other.admin@example.com",
    )
    assert code == 1
    line = err.strip().splitlines()[-1]
    assert line.startswith("create-agency: an agency named 'Plumas County Environmental Health' "
                           f"already exists (id {agency_id}); pick another --name")
    assert await row_counts(database_url) == before

    code, out, err = await facility_cli(
        tmp_path, database_url, "create-agency", "--name", "Sierra CUPA", "--county", "Sierra",
        "--county", "sierra", "--admin-email", "other.admin@example.com",
    )
    assert code == 1
    assert err.strip().splitlines()[-1] == (
        "create-agency: Sierra County is given twice; list each county or city once. "
        "Nothing was changed."
    )
    assert await row_counts(database_url) == before

    # Following the advice works: a city inside the county is a place of its own.
    code, out, err = await facility_cli(
        tmp_path, database_url, "create-agency", "--name", "Quincy Fire Hazmat", "--kind", "PA",
        "--city", "Plumas:Quincy", "--admin-email", "quincy.admin@example.com",
    )
    assert code == 0, err
    quincy_id = out.split()[2]
    after = await row_counts(database_url)
    assert after["agencies"] == 2

    # set-jurisdiction checks the same rule: Quincy's agency may not take the whole county.
    code, out, err = await facility_cli(
        tmp_path, database_url, "set-jurisdiction", "--agency-id", quincy_id, "--county", "Plumas",
    )
    assert code == 1
    assert "Traceback" not in err
    line = err.strip().splitlines()[-1]
    assert line.startswith("set-jurisdiction: Plumas County is already the jurisdiction of "
                           "'Plumas County Environmental Health'")
    assert await row_counts(database_url) == after


async def test_create_agency_names_an_unknown_county_without_a_traceback(
    database_url: str, tmp_path: Path,
) -> None:
    code, out, err = await facility_cli(
        tmp_path, database_url, "create-agency", "--name", "Nowhere CUPA", "--county", "Plumaz",
        "--admin-email", "x@example.com",
    )
    assert code == 1
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == (
        "create-agency: 'Plumaz' is not a California county. Nothing was changed."
    )
    assert (await row_counts(database_url))["agencies"] == 0
