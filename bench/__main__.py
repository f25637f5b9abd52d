"""``make bench``: runs every benchmark module in bench/ in turn.

A benchmark is any ``bench/<name>.py`` with a ``main()``; helpers (like gateway_load) have
none. ``python -m bench NAME ...`` runs only the named ones; a tool that sets
``BENCHMARK = False`` (``python -m bench dataset``) runs only when named.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    # ``python -m bench NAME [--option ...]``: options after the names go to those modules.
    args = sys.argv[1:]
    split = next((i for i, a in enumerate(args) if a.startswith("-")), len(args))
    wanted, passed = set(args[:split]), args[split:]
    failed = []
    for module in sorted(m.name for m in pkgutil.iter_modules([str(HERE)])):
        if module.startswith("_") or (wanted and module not in wanted):
            continue
        loaded = importlib.import_module(f"bench.{module}")
        entry = getattr(loaded, "main", None)
        if not callable(entry) or (not wanted and not getattr(loaded, "BENCHMARK", True)):
            continue
        print(f"== bench.{module}", flush=True)
        try:
            sys.argv = [f"bench.{module}", *passed]
            result = entry()
        except SystemExit as exc:
            result = exc.code
        except Exception as exc:  # noqa: BLE001 - one failing benchmark must not hide the rest
            print(f"bench.{module} failed: {type(exc).__name__}: {exc}", flush=True)
            result = 1
        if result not in (None, 0):
            failed.append(module)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
