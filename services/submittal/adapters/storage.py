"""Where uploaded documents' bytes live: a small interface and a folder under DATA_DIR."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path
from typing import Protocol


class DocumentStorage(Protocol):
    async def put(self, key: str, content: bytes) -> str:
        """Store ``content`` under ``key``; return its sha256 hex digest."""

    async def get(self, key: str) -> bytes:
        """The stored bytes; raises FileNotFoundError for an unknown key."""

    async def delete(self, key: str) -> None: ...


class FolderStorage:
    """Files under ``root``, two levels of fan-out, written atomically (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not key.replace("-", "").isalnum():
            raise ValueError(f"storage key {key!r} must be alphanumeric (a document id)")
        return self.root / key[:2] / key

    async def put(self, key: str, content: bytes) -> str:
        return await asyncio.to_thread(self._put, key, content)

    def _put(self, key: str, content: bytes) -> str:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_suffix(".part")
        temp.write_bytes(content)
        os.replace(temp, path)
        return hashlib.sha256(content).hexdigest()

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._path(key).read_bytes)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, True)
