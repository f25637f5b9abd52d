"""A serving process's resident memory: two settings made once, at start, before any thread.

- **Two malloc arenas** (glibc's ``M_ARENA_MAX``). glibc gives each thread that allocates an
  arena of its own, up to eight per core; a service's SQLite connections each run on a thread
  of their own (aiosqlite), and every arena keeps the memory its thread freed. Measured on the
  submittal service under the real-system bench (SQLite, Facility page at c=16): 146 -> 140 MB
  after the load, CPU per request unchanged.
- **No httpx command-line client.** ``import httpx`` loads its CLI when its optional
  dependencies are installed (rich, pygments, click: ~6 MB resident), and a service only uses
  httpx as a library. Marking ``httpx._main`` absent before the first import makes httpx take
  its own fallback (``httpx.main`` then explains that the CLI is unavailable).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_ARENA_MAX = -8  # from glibc's malloc.h
ARENAS = 2


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """True when glibc took the limit (False elsewhere, e.g. musl or macOS)."""
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, arenas))


def skip_httpx_cli() -> None:
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def lean_process() -> None:
    """Call first thing in a serving process's entry point."""
    limit_malloc_arenas()
    skip_httpx_cli()
