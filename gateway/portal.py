"""The web portal's static files at `/`, with single-page-app deep links answered by index.html."""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope


class PortalFiles(StaticFiles):
    def __init__(self, directory: Path) -> None:
        # The portal may be built after the gateway starts: look for it on each request.
        super().__init__(directory=directory, html=True, check_dir=False)
        self.root = directory

    async def check_config(self) -> None:
        if self.root.is_dir():
            await super().check_config()

    async def get_response(self, path: str, scope: Scope) -> Response:
        if not self.root.is_dir():
            return Response(
                "The web portal is not built. With Node.js installed: cd web && npm ci && "
                "npm run build. The API is at /graphql.",
                status_code=404, media_type="text/plain",
            )
        try:
            return await super().get_response(path, scope)
        except HTTPException as exc:
            last = path.rsplit("/", 1)[-1]
            if exc.status_code != 404 or scope["method"] not in ("GET", "HEAD") or "." in last:
                raise
            # A deep link such as /facilities/123 is a route of the app, not a file.
            return await super().get_response("index.html", scope)
