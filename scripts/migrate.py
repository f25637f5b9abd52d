"""`make migrate`: bring every service's database to the latest Alembic revision."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

from common.settings import SERVICES


def main() -> int:
    failed = []
    for service in SERVICES:
        if importlib.util.find_spec(f"services.{service}.__main__") is None:
            print(f"migrate: services.{service} is not built yet; skipping it")
            continue
        print(f"migrate: {service}", flush=True)
        if subprocess.call([sys.executable, "-m", f"services.{service}", "migrate"]) != 0:
            failed.append(service)
    if failed:
        print(f"migrate: failed for {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
