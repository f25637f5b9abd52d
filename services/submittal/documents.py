"""POST /documents (upload) and GET /documents/{id} (download), plus the CSV template.

Uploads: ``POST /documents?facilityId=<id>&filename=<name>`` with a raw body and its
Content-Type, or multipart/form-data with a ``file`` part (and ``facilityId`` field).
At most 25 MB; the content is sniffed and must match the declared type. The answer is
``{"id", "sha256", "contentType", "size"}``; attach the id with the ``attachDocument`` mutation.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from common.auth import AuthError, JWKSVerifier, Principal, bearer_token
from common.closed_accounts import refuse_if_closed
from services.submittal.adapters.tables import (
    CLOSED_ACCOUNTS,
    Document,
    FacilityView,
    new_id,
    now,
)
from services.submittal.domain.hmi_csv import TEMPLATE
from services.submittal.domain.sniff import check_declared
from services.submittal.service_layer.access import Caller, load_caller
from services.submittal.service_layer.deps import Deps

log = logging.getLogger(__name__)

MAX_BYTES = 25 * 1024 * 1024


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


class TooLarge(Exception):
    pass


async def _read_limited(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BYTES:
        raise TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BYTES:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def _caller(deps: Deps, verifier: JWKSVerifier, request: Request, session: AsyncSession
                  ) -> tuple[Principal | None, Caller]:
    token = bearer_token(request.headers.get("authorization"))
    principal = await verifier.verify(token) if token else None
    if principal is not None:
        await refuse_if_closed(session, CLOSED_ACCOUNTS, principal)
    return principal, await load_caller(session, principal, fresh=deps.fresh)


def document_routes(deps: Deps, verifier: JWKSVerifier) -> list[Route]:
    async def upload(request: Request) -> Response:
        # Who is asking comes first: an anonymous caller's body is never read.
        try:
            token = bearer_token(request.headers.get("authorization"))
            principal = await verifier.verify(token) if token else None
        except AuthError as error:
            return _error(401, error.code, error.message)
        if principal is None:
            return _error(401, "UNAUTHENTICATED", "Sign in first: send a Bearer token.")
        try:
            async with deps.db.read() as session:
                await refuse_if_closed(session, CLOSED_ACCOUNTS, principal)
        except AuthError as error:
            return _error(401, error.code, error.message)
        try:
            filename, declared, content, facility_id = await _upload_parts(request)
        except TooLarge:
            return _error(413, "BAD_USER_INPUT", "Documents are at most 25 MB.")
        except (MultiPartException, HTTPException) as error:
            # Starlette reports an unreadable multipart body as either, depending on where
            # it is parsed.
            detail = getattr(error, "message", None) or getattr(error, "detail", "")
            return _error(400, "BAD_USER_INPUT", f"The multipart body cannot be read: {detail}")
        except ValueError as error:
            return _error(400, "BAD_USER_INPUT", str(error))
        if not facility_id:
            return _error(400, "BAD_USER_INPUT", "Name the facility: ?facilityId=<id>.")
        content_type, problem = check_declared(declared, content[:512])
        if problem or content_type is None:
            return _error(415, "BAD_USER_INPUT", problem or "Unknown file type.")
        if not deps.fresh():
            return _error(503, "UNAVAILABLE", "Permissions are being brought up to date; retry.")
        async with deps.db.read() as session:
            caller = await load_caller(session, principal, fresh=deps.fresh)
            facility = await session.get(FacilityView, facility_id)
        if facility is not None and not caller.in_step(facility):
            return _error(503, "UNAVAILABLE", f"Facility {facility_id} is being brought up to "
                          "date; retry shortly.")
        if facility is None or not caller.sees_submissions(facility):
            return _error(404, "NOT_FOUND", f"Facility {facility_id} was not found.")
        if not caller.is_member(facility, "EDITOR"):
            return _error(403, "FORBIDDEN", "Uploading needs EDITOR or above in the business.")
        document_id = new_id()
        digest = await deps.storage.put(document_id, content)
        try:
            async with deps.db.transaction() as session:
                session.add(Document(
                    id=document_id, facility_id=facility_id, filename=filename[:254],
                    content_type=content_type, size=len(content), sha256=digest,
                    storage_key=document_id, uploaded_by=principal.user_id, uploaded_at=now()))
        except Exception:
            # No row, no file: a failed upload leaves nothing behind.
            await deps.storage.delete(document_id)
            raise
        log.info("document %s uploaded for facility %s (%d bytes, %s)", document_id,
                 facility_id, len(content), content_type)
        return JSONResponse({"id": document_id, "sha256": digest, "contentType": content_type,
                             "size": len(content), "filename": filename}, status_code=201)

    async def download(request: Request) -> Response:
        document_id = request.path_params["document_id"]
        if not deps.fresh():
            return _error(503, "UNAVAILABLE", "Permissions are being brought up to date; retry.")
        try:
            async with deps.db.read() as session:
                principal, caller = await _caller(deps, verifier, request, session)
                document = await session.get(Document, document_id)
                facility = (await session.get(FacilityView, document.facility_id)
                            if document else None)
        except AuthError as error:
            return _error(401, error.code, error.message)
        if principal is None:
            return _error(401, "UNAUTHENTICATED", "Sign in first: send a Bearer token.")
        allowed = document is not None and facility is not None and (
            caller.is_member(facility) or (document.submitted and caller.sees_submissions(facility))
        )
        if not allowed or document is None:
            return _error(404, "NOT_FOUND", f"Document {document_id} was not found.")
        try:
            content = await deps.storage.get(document.storage_key)
        except FileNotFoundError:
            log.error("document %s has a row but no file under key %s; restore it from backup",
                      document_id, document.storage_key)
            return _error(404, "NOT_FOUND", f"Document {document_id} is missing from storage.")
        return Response(content, media_type=document.content_type, headers={
            "content-disposition": f'attachment; filename="{_safe(document.filename)}"',
            "x-content-type-options": "nosniff", "x-checksum-sha256": document.sha256,
        })

    async def template(_: Request) -> Response:
        return PlainTextResponse(TEMPLATE, media_type="text/csv", headers={
            "content-disposition": 'attachment; filename="hmi.csv"'})

    return [
        Route("/documents", upload, methods=["POST"]),
        Route("/documents/templates/hmi.csv", template, methods=["GET"]),
        Route("/documents/{document_id}", download, methods=["GET"]),
    ]


def _safe(name: str) -> str:
    return "".join(c for c in name if c.isalnum() or c in "._- ") or "document"


async def _upload_parts(request: Request) -> tuple[str, str | None, bytes, str | None]:
    facility_id = request.query_params.get("facilityId")
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_BYTES + 65536:
            raise TooLarge
        form = await request.form(max_files=1, max_part_size=MAX_BYTES + 1)
        upload: Any = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ValueError("Send the document in a multipart field named 'file'.")
        content = await upload.read(MAX_BYTES + 1)
        if len(content) > MAX_BYTES:
            raise TooLarge
        field = form.get("facilityId")
        facility_id = facility_id or (field if isinstance(field, str) else None)
        return upload.filename or "document", upload.content_type, content, facility_id
    filename = request.query_params.get("filename") or "document"
    return filename, content_type or None, await _read_limited(request), facility_id
