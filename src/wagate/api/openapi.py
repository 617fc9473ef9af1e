"""The published API description (``/openapi.json``) and the offline documentation (``/docs``).

FastAPI writes the document from the routes and their pydantic models; this module adds what
the routes cannot say each for itself, in one place:

* the security schemes (an API token, a device token, the Devino-style ``Key`` header, the
  simulator's Graph token) and which doors use which;
* the native error body, ``{"error": {"code", "message", "field"}}``, on every 4xx a native
  operation can answer (FastAPI's own ``{"detail": …}`` 422 is never sent, so it is replaced);
* stable ``operationId``s: ``<tag>_<function name>``, which a generated client turns into
  method names.

``/docs`` is Swagger UI served from the ``swagger-ui-bundle-v2`` package (Apache-2.0): no
request leaves the machine, so it works without internet.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

#: Swagger UI's static files, from the PyPI package ``swagger-ui-bundle-v2``.
import swagger_ui_bundle
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

SWAGGER_UI = Path(swagger_ui_bundle.swagger_ui_path)
DOCS_ASSETS = "/docs/assets"


class ErrorDetail(BaseModel):
    code: str = Field(description="A stable machine identifier (`invalid`, `not_found`, `too_deep` …)")
    message: str = Field(description="For a human; may change between versions")
    field: str | None = Field(
        default=None, description="The input at fault: a body path (`messages[2].to`), a query or header name"
    )


class Error(BaseModel):
    """The native error body of every 4xx (and the rare 5xx)."""

    error: ErrorDetail

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"error": {"code": "invalid", "message": "to: not a phone", "field": "to"}}]}
    )


ERROR_REF = {"$ref": "#/components/schemas/Error"}

#: Models that hand-written schemas (``openapi_extra``, ``responses``) refer to by name.
_DOCUMENTED: dict[str, type[BaseModel]] = {}


def document(*models: type[BaseModel]) -> None:
    """Put ``models`` in ``components/schemas`` so a hand-written ``$ref`` to them resolves."""
    for model in models:
        _DOCUMENTED[model.__name__] = model


#: The error bodies of the other doors, each in its own dialect (documented as they are).
DIALECT_SCHEMAS: dict[str, dict[str, Any]] = {
    "GraphError": {
        "type": "object",
        "description": "The Cloud API's error body, as Meta sends it",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                    "code": {"type": "integer"},
                    "error_subcode": {"type": "integer"},
                    "error_data": {"type": "object"},
                    "fbtrace_id": {"type": "string"},
                },
                "required": ["message", "code"],
            }
        },
        "required": ["error"],
    },
    "DevinoResult": {
        "type": "object",
        "description": "Devino-style answer: one result per message, `OK` or `REJECTED` with its reasons",
        "properties": {
            "result": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string", "enum": ["OK", "REJECTED"]},
                        "messageId": {"type": "string"},
                        "reasons": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {"key": {"type": "string"}, "ref": {"type": "string"}},
                                "required": ["key"],
                            },
                        },
                        "description": {"type": "string"},
                    },
                    "required": ["code"],
                },
            }
        },
        "required": ["result"],
    },
    "WammAnswer": {
        "type": "object",
        "description": 'WAMM-style answer: `{"err": 0, …}` on success, `{"err": "…"}` with the error text otherwise',
        "properties": {"err": {"anyOf": [{"type": "integer"}, {"type": "string"}]}},
        "required": ["err"],
        "additionalProperties": True,
    },
}

#: Per door: the error body and the 4xx/5xx it answers with.
DOOR_ERRORS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("/sandbox/graph/", "GraphError", ("400", "401", "404")),
    ("/whatsapp/", "DevinoResult", ("400", "401", "403", "503")),
    ("/api2/", "WammAnswer", ("404",)),
)

ERROR_STATUSES: dict[str, str] = {
    "400": "Malformed JSON, or a request the API cannot read",
    "401": "Missing or invalid token",
    "403": "The token's role may not do this",
    "404": "No such resource (an id out of range names none)",
    "409": "Conflicts with the current state (a duplicate name, an idempotency key reused with another body)",
    "413": "The body is over the size limit",
    "415": "The body is not JSON",
    "422": "Invalid input; `field` names it (unknown fields too)",
    "429": "A limit was reached (the tenant's daily cap, a rate limit)",
}

SECURITY_SCHEMES: dict[str, Any] = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token (`wagate token create`), as `Authorization: Bearer TOKEN`",
    },
    "deviceToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "A device token, shown once by `POST /v1/channels/{name}/devices`",
    },
    "devinoKey": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "Devino-style: `Authorization: Key TOKEN` (an API token)",
    },
    "graphToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "The simulator's Cloud API access token (`sandbox-token` by default)",
    },
}

#: Native paths without authentication (operations, docs, the sandbox's controls).
PUBLIC_PATHS = ("/healthz", "/readyz", "/metrics", "/sandbox/")


def json_body(model: type[BaseModel] | None = None, description: str = "A JSON object") -> dict[str, Any]:
    """``openapi_extra`` for a route that reads its JSON body by hand: documents it as ``model``
    (registered in ``components``), or as a free-form object when there is no model."""
    if model is not None:
        document(model)
        schema: dict[str, Any] = {"$ref": f"#/components/schemas/{model.__name__}"}
    else:
        schema = {"type": "object", "additionalProperties": True}
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": schema}},
        }
    }


def _reads_json_object(route: APIRoute) -> bool:
    """Whether a route takes its body through the ``JsonObject`` dependency (a free-form object)."""
    from wagate.api.deps import json_object

    stack = list(route.dependant.dependencies)
    while stack:
        dependant = stack.pop()
        if dependant.call is json_object:
            return True
        stack.extend(dependant.dependencies)
    return False


def security_of(path: str) -> list[dict[str, list[str]]] | None:
    """Which scheme an operation on ``path`` uses, or ``None`` when it takes no credentials."""
    if path.startswith("/device/v1/"):
        return [{"deviceToken": []}]
    if path.startswith("/v1/"):
        return [{"bearer": []}]
    if path.startswith("/whatsapp/"):
        return [{"devinoKey": []}]
    if path.startswith("/sandbox/graph/"):
        return [{"graphToken": []}]
    return None


def is_native(path: str) -> bool:
    """Operations that answer in the native error format."""
    return path.startswith(("/v1/", "/device/v1/", "/sandbox/", "/webhooks/")) and not path.startswith(
        "/sandbox/graph/"
    )


def operation_id(route: APIRoute) -> str:
    tag = str(route.tags[0]) if route.tags else "default"
    return f"{re.sub(r'[^a-z0-9]+', '_', tag.lower()).strip('_')}_{route.name}"


def build_schema(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Error"] = Error.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas["ErrorDetail"] = schemas["Error"].pop("$defs")["ErrorDetail"]
    schemas.update(DIALECT_SCHEMAS)
    for name, model in _DOCUMENTED.items():
        if name not in schemas:
            schemas[name] = model.model_json_schema(ref_template="#/components/schemas/{model}")
    _hoist_defs(schema.get("paths", {}), schemas)
    for name in list(schemas):
        _hoist_defs(schemas[name], schemas)
    components["securitySchemes"] = SECURITY_SCHEMES
    free_form = {
        operation_id(context.original_route)
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute) and _reads_json_object(context.original_route)
    }
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if operation.get("operationId") in free_form and "requestBody" not in operation:
                operation["requestBody"] = json_body(description="A JSON object; see the summary and docs/api.md")[
                    "requestBody"
                ]
            security = security_of(path)
            if security is not None:
                operation["security"] = security
            else:
                operation.pop("security", None)
            if is_native(path):
                _native_errors(operation, method, secured=security is not None or path.startswith("/webhooks/"))
            else:
                _dialect_errors(operation, path, method)
    for name in ("HTTPValidationError", "ValidationError"):
        if name in schemas and not _referenced(schema, f"#/components/schemas/{name}"):
            del schemas[name]
    return schema


def _native_errors(operation: dict[str, Any], method: str, *, secured: bool) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    wanted = ["400", "404", "422"]
    if secured:
        wanted += ["401", "403", "429"]
    if method in ("post", "put", "patch"):
        wanted += ["409", "413", "415"]
    for status in sorted(wanted):
        entry = responses.get(status)
        if entry is None or _is_fastapi_422(entry):
            responses[status] = {
                "description": ERROR_STATUSES[status],
                "content": {"application/json": {"schema": ERROR_REF}},
            }


def _dialect_errors(operation: dict[str, Any], path: str, method: str) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for prefix, name, statuses in DOOR_ERRORS:
        if path.startswith(prefix):
            for status in statuses:
                responses[status] = {
                    "description": f"An error, in the {name} dialect",
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
                }
            if "422" in responses and _is_fastapi_422(responses["422"]):
                del responses["422"]
    if method in ("post", "put", "patch"):  # the one body-size limit answers natively, whatever the door
        responses["413"] = {
            "description": ERROR_STATUSES["413"],
            "content": {"application/json": {"schema": ERROR_REF}},
        }


def _hoist_defs(node: Any, schemas: dict[str, Any]) -> None:
    """Move ``$defs`` that hand-written request schemas carry into ``components/schemas``."""
    if isinstance(node, dict):
        defs = node.pop("$defs", None)
        if isinstance(defs, dict):
            for name, definition in defs.items():
                schemas.setdefault(name, definition)
                _hoist_defs(definition, schemas)
        for value in node.values():
            _hoist_defs(value, schemas)
    elif isinstance(node, list):
        for value in node:
            _hoist_defs(value, schemas)


def _is_fastapi_422(entry: dict[str, Any]) -> bool:
    content = entry.get("content", {}).get("application/json", {})
    return bool(content.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"))


def _referenced(node: Any, ref: str) -> bool:
    if isinstance(node, dict):
        return node.get("$ref") == ref or any(_referenced(v, ref) for v in node.values())
    if isinstance(node, list):
        return any(_referenced(v, ref) for v in node)
    return False


DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>wagate API</title>
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/docs-init.js"></script>
</body>
</html>
"""

#: Everything from the gateway itself; Swagger UI sets inline styles and data: icons.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'"
)

DOCS_INIT = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  displayOperationId: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout"
});
"""


def install_openapi(app: FastAPI) -> None:
    """Replace FastAPI's document and CDN-backed docs with the ones above.

    The document is rebuilt after routers are added at start-up (feature plug-ins add theirs
    in the lifespan), so ``/openapi.json`` always describes every mounted operation.
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None or app.state.__dict__.get("openapi_routes") != len(app.routes):
            app.openapi_schema = build_schema(app)
            app.state.openapi_routes = len(app.routes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(DOCS_PAGE.format(assets=DOCS_ASSETS), headers={"Content-Security-Policy": DOCS_CSP})

    @app.get(f"{DOCS_ASSETS}/docs-init.js", include_in_schema=False)
    async def docs_init() -> HTMLResponse:
        return HTMLResponse(DOCS_INIT, media_type="text/javascript")

    app.mount(DOCS_ASSETS, StaticFiles(directory=SWAGGER_UI), name="docs-assets")
