"""openid-client (npm), an OpenID-certified relying party, as a Node process the tests drive.

``tests/identity/rp/`` holds its package.json and lock; ``npm ci`` installs it on first use.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

RP_DIR = Path(__file__).with_name("rp")


def node_available() -> bool:
    return shutil.which("node") is not None and shutil.which("npm") is not None


def ensure_node_modules() -> None:
    if not (RP_DIR / "node_modules" / "openid-client" / "package.json").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=RP_DIR, check=True,
                       capture_output=True, timeout=600)


class RpError(Exception):
    """openid-client refused or failed; ``details`` holds its error's fields."""

    def __init__(self, details: dict[str, Any]) -> None:
        super().__init__(json.dumps(details))
        self.details = details

    def __getattr__(self, name: str) -> Any:
        try:
            return self.details[name]
        except KeyError as exc:
            raise AttributeError(name) from exc


class RelyingParty:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.ids = itertools.count(1)
        self.lock = asyncio.Lock()

    @classmethod
    async def start(cls) -> RelyingParty:
        await asyncio.to_thread(ensure_node_modules)
        process = await asyncio.create_subprocess_exec(
            "node", str(RP_DIR / "rp.mjs"), cwd=RP_DIR, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def call(self, op: str, **args: Any) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        async with self.lock:
            request_id = next(self.ids)
            line = json.dumps({"id": request_id, "op": op, "args": args}) + "\n"
            self.process.stdin.write(line.encode())
            await self.process.stdin.drain()
            raw = await asyncio.wait_for(self.process.stdout.readline(), 60)
        if not raw:
            stderr = await self.process.stderr.read() if self.process.stderr else b""
            raise RuntimeError(f"the relying party exited: {stderr.decode()[-2000:]}")
        answer = json.loads(raw)
        assert answer["id"] == request_id
        if not answer["ok"]:
            raise RpError(answer["error"])
        return answer["result"]

    async def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
