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


#: The verbs a label may carry; any other method a client invents is counted as ``other``, so a
#: client cannot create series at will.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_label(scope: Scope) -> str:
    """The template of the route that answered, with the prefix it was mounted under.

    FastAPI hands the middleware the router's own route, whose template lacks the prefix given
    to ``include_router`` (``/sandbox/graph`` …). The prefix is the request path's leading
    segments that the template does not account for: prefixes are literal, so counting
    segments recovers it without ever copying a parameter's value into a label.
    """
    route = scope.get("route")
    template = getattr(route, "path", None)
    if not template:
        return "unmatched"
    if ":path}" in template:
        return str(template)
    segments = str(scope.get("path", "")).rstrip("/").split("/")
    own = template.rstrip("/").split("/")
    extra = len(segments) - len(own)
    if extra <= 0:
        return str(template)
    return "/".join(segments[: extra + 1]) + str(template)


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
            template = route_label(scope)
            method = scope.get("method", "")
            if method not in KNOWN_METHODS:
                method = "other"
            self.metrics.http_requests.labels(method, template, str(status)).inc()
            self.metrics.http_latency.labels(method, template).observe(time.perf_counter() - start)
