"""``GET /v1/identity-conflicts`` (admin): merges wagate refused to apply on its own.

An event (a webhook, a WhatsApp Web mapping) said two records are one person, but they carry
different phone numbers. Nothing was merged; the admin sees what was asserted and by whom.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from wagate.api.deps import AdminDep, RuntimeDep
from wagate.api.v1.schemas import iso
from wagate.services import identities

router = APIRouter(prefix="/v1/identity-conflicts", tags=["contacts"])


@router.get("", summary="Identity merges refused for conflicting phone numbers (admin), newest first")
async def list_conflicts(
    principal: AdminDep, rt: RuntimeDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> dict[str, Any]:
    tenant_id = principal.tenant.id
    rows = await rt.db.read(lambda c: identities.list_conflicts(c, tenant_id, limit))
    return {
        "data": [
            {
                "id": r.id,
                "key": r.key,
                "other_key": r.other_key,
                "identities": r.identities,
                "reason": r.reason,
                "source": r.source,
                "created_at": iso(r.created_at),
            }
            for r in rows
        ]
    }
