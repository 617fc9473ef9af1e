"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from wagate.api.deps import RuntimeDep
from wagate.channels.cloud.readiness import version_warnings
from wagate.dispatch.redis_relay import RedisRelay
from wagate.runtime import Runtime
from wagate.store.repos import channels as channel_repo
from wagate.store.repos.messages import queue_depth

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database answers and the node is serving")
async def readyz(rt: RuntimeDep) -> Response:
    """Ready when the database answers. With ``redis_url`` set, ``redis`` says whether cross-node
    signals flow (``ok``/``down``), but never decides readiness: Redis only accelerates, a node
    without it still serves correctly (other nodes notice its work on their timers).
    ``warnings`` lists what an operator should act on soon (a cloud channel's Graph API
    version near its retirement), without making the node unready."""
    ok = await rt.db.ping()
    body: dict[str, object] = {"status": "ready" if ok else "not ready", "database": ok}
    relay = rt.components.find(RedisRelay)
    if relay is not None:
        body["redis"] = "ok" if relay.connected else "down"
    if ok:
        rows = await rt.db.read(channel_repo.list_channels)
        body["warnings"] = version_warnings(rows, rt.clock.now().date())
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"description": "Prometheus text format", "content": {CONTENT_TYPE_LATEST: {}}}},
)
async def metrics(rt: RuntimeDep) -> Response:
    await refresh_queue_depth(rt)
    return Response(generate_latest(rt.metrics.registry), media_type=CONTENT_TYPE_LATEST)


async def refresh_queue_depth(rt: Runtime) -> None:
    metrics = rt.metrics
    rows = await rt.db.read(queue_depth)
    metrics.queue_depth.clear()
    for channel, status, count in rows:
        metrics.queue_depth.labels(channel, status).set(count)
