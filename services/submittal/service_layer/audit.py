"""The audit of searches, exports and feed reads: who asked, for what, and how much came back.

Each is also logged as one JSON line (logger ``submittal.audit``) for log shipping.
"""

from __future__ import annotations

import logging
from typing import Any

from common.auth import Principal
from common.db import Database
from services.submittal.adapters.search_tables import SearchAudit
from services.submittal.adapters.tables import now

log = logging.getLogger("submittal.audit")


async def record(db: Database, principal: Principal | None, action: str,
                 filter: dict[str, Any], result_count: int | None,
                 request_id: str | None = None) -> None:
    row = SearchAudit(
        at=now(), actor=principal.user_id if principal else None,
        client_id=principal.client_id if principal else None,
        portal=principal.portal if principal else None,
        statewide=bool(principal and principal.is_statewide), action=action, filter=filter,
        result_count=result_count, request_id=request_id)
    async with db.transaction() as session:
        session.add(row)
    log.info("%s by %s: %s results", action, row.actor or row.client_id or "anonymous",
             result_count, extra={"audit": {
                 "action": action, "actor": row.actor, "client_id": row.client_id,
                 "statewide": row.statewide, "filter": filter, "result_count": result_count,
                 "request_id": request_id}})
