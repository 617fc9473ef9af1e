"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from wagate.api.deps import RuntimeDep
from wagate.observability.metrics import refresh_queue_depth

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database answers and the node is serving")
async def readyz(rt: RuntimeDep) -> Response:
    ok = await rt.db.ping()
    return JSONResponse({"status": "ready" if ok else "not ready", "database": ok}, status_code=200 if ok else 503)


@router.get("/metrics", summary="Prometheus metrics")
async def metrics(rt: RuntimeDep) -> Response:
    await refresh_queue_depth(rt)
    return Response(generate_latest(rt.extras["metrics_registry"]), media_type=CONTENT_TYPE_LATEST)
