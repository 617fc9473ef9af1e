"""Prometheus series. One registry per app, so several apps in one test process do not clash.

Route labels are the route *template* (``/api2/{method}/{token}/``), never the raw path,
so tokens in URLs never reach a label.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "wagate_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.http_latency = Histogram(
            "wagate_http_request_seconds",
            "HTTP latency",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )
        self.messages = Counter(
            "wagate_message_status_total", "Messages entering a status", ["channel", "status"], registry=self.registry
        )
        self.queue_depth = Gauge(
            "wagate_queue_depth", "Messages queued or sending", ["channel", "status"], registry=self.registry
        )
        self.policy_decisions = Counter(
            "wagate_policy_decisions_total",
            "Messages refused or let through with a warning by a policy rule",
            ["outcome", "code", "origin"],
            registry=self.registry,
        )
        self._more: dict[str, Counter] = {}

    def counter(self, name: str, documentation: str, labels: list[str]) -> Counter:
        """A feature's own counter in this node's registry, created on first use (once per name)."""
        found = self._more.get(name)
        if found is None:
            found = self._more[name] = Counter(name, documentation, labels, registry=self.registry)
        return found


class MetricsMiddleware:
    """Pure ASGI middleware (no per-request BaseHTTPMiddleware overhead)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.http_requests.labels(method, template, str(status)).inc()
            self.metrics.http_latency.labels(method, template).observe(time.perf_counter() - start)
