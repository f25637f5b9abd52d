"""The serving process's memory settings (common/process_memory.py), in a fresh interpreter:
they only act before httpx is imported and threads start."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
from common.process_memory import lean_process, limit_malloc_arenas
lean_process()
import httpx
assert not {"rich", "pygments"} & set(sys.modules), sorted(sys.modules)
assert httpx.Client is not None and httpx.AsyncClient is not None
print(limit_malloc_arenas())
"""


def test_httpx_is_imported_without_its_command_line_client_and_arenas_are_limited() -> None:
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                         check=True, timeout=60)
    # glibc (the only libc the services run on) takes the limit.
    assert out.stdout.strip() == ("True" if sys.platform.startswith("linux") else "False")


def test_the_submittal_service_entry_point_applies_them_before_importing_its_app() -> None:
    check = ("import sys, services.submittal.__main__ as m\n"
             "assert 'httpx' not in sys.modules and 'services.submittal.app' not in sys.modules")
    subprocess.run([sys.executable, "-c", check], check=True, timeout=60)
