"""Keeps `make run`'s processes running: one that dies is restarted, with backoff.

A crash loop is slowed down (1 s, 2 s, 4 s … up to 30 s between restarts) and logged each
time, so the embedded system heals from a crashed service the way Kubernetes would restart a
pod, instead of one dead process stopping everything.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# A process up this long is healthy again: its next crash restarts it at once.
STABLE_SECONDS = 60.0
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0


@dataclass
class Supervised:
    name: str
    start: Callable[[], subprocess.Popen[bytes]]
    proc: subprocess.Popen[bytes]
    started_at: float = field(default_factory=time.monotonic)
    restarts: int = 0
    backoff: float = FIRST_BACKOFF_SECONDS
    restart_at: float | None = None


class Supervisor:
    def __init__(self, log: Callable[[str], None] | None = None) -> None:
        self.children: dict[str, Supervised] = {}
        self.log = log or (lambda line: print(f"run: {line}", file=sys.stderr, flush=True))

    def add(self, name: str, start: Callable[[], subprocess.Popen[bytes]]) -> None:
        self.children[name] = Supervised(name, start, start())

    def check(self) -> None:
        """Notice exits and restart what is due; call every fraction of a second."""
        now = time.monotonic()
        for child in self.children.values():
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.proc = child.start()
                    child.started_at, child.restart_at = now, None
                    child.restarts += 1
                    self.log(f"{child.name} restarted (restart #{child.restarts})")
                continue
            code = child.proc.poll()
            if code is None:
                continue
            if now - child.started_at >= STABLE_SECONDS:
                child.backoff = FIRST_BACKOFF_SECONDS
            child.restart_at = now + child.backoff
            self.log(
                f"{child.name} exited with code {code}; restarting it in {child.backoff:.0f}s "
                "(its log is above)"
            )
            child.backoff = min(child.backoff * 2, MAX_BACKOFF_SECONDS)

    def stop(self, timeout: float = 15.0) -> None:
        running = [c.proc for c in self.children.values() if c.proc.poll() is None]
        for proc in running:
            proc.terminate()
        deadline = time.monotonic() + timeout
        for proc in running:
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
