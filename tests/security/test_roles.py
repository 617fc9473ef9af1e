"""Who may do what: every role against every operation, as docs/api.md's role table says.

``allowed`` means the role gets past the role check (any answer but 403 — an unknown id is a
404, which is fine: the check runs first); ``refused`` means 403 ``forbidden``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.conftest import make_settings, running_app
from wagate.dashboard.plugin import dashboard_plugin
from wagate.dispatch.campaigns import campaigns_plugin
from wagate.store.repos import tenants as tenant_repo
from wagate.webhooks.plugin import webhooks_plugin

ADMIN, OPERATOR, API = "admin", "operator", "api"
EVERYONE = {ADMIN, OPERATOR, API}
PEOPLE = {ADMIN, OPERATOR}
ADMINS = {ADMIN}
PHONE = "79001234567"
CSV = "phone,name\n79001234567,Ivan\n"

#: (method, path, json body, roles allowed) — one row per operation of the native API.
TABLE: list[tuple[str, str, Any, set[str]]] = [
    ("POST", "/v1/messages", {"to": PHONE, "text": "x"}, EVERYONE),
    ("GET", "/v1/messages", None, EVERYONE),
    ("GET", "/v1/messages/999999", None, EVERYONE),
    ("POST", "/v1/messages/999999/cancel", None, EVERYONE),
    ("POST", "/v1/messages/999999/read", None, EVERYONE),
    ("POST", "/v1/messages/999999/resolve", {"status": "sent"}, ADMINS),
    ("GET", f"/v1/phones/{PHONE}", None, EVERYONE),
    ("PUT", f"/v1/contacts/{PHONE}", {"name": "Ivan"}, EVERYONE),
    ("GET", f"/v1/contacts/{PHONE}", None, EVERYONE),
    ("GET", "/v1/contacts", None, EVERYONE),
    ("DELETE", f"/v1/contacts/{PHONE}", None, EVERYONE),
    ("GET", f"/v1/contacts/{PHONE}/window", None, EVERYONE),
    ("POST", "/v1/consents", {"phone": PHONE, "source": "web_form", "scopes": ["marketing"]}, EVERYONE),
    ("GET", "/v1/consents", None, EVERYONE),
    ("GET", f"/v1/consents/{PHONE}", None, EVERYONE),
    ("DELETE", f"/v1/consents/{PHONE}", None, EVERYONE),
    ("GET", "/v1/templates", None, EVERYONE),
    ("GET", "/v1/templates/999999", None, EVERYONE),
    ("POST", "/v1/templates", {"name": "t1", "language": "en", "category": "utility", "body": "Hi {{1}}"}, PEOPLE),
    ("PATCH", "/v1/templates/999999", {"body": "Hello {{1}}"}, PEOPLE),
    ("DELETE", "/v1/templates/999999", None, PEOPLE),
    ("POST", "/v1/templates/sync", None, ADMINS),
    ("GET", "/v1/channels", None, EVERYONE),
    ("GET", "/v1/channels/main", None, EVERYONE),
    ("GET", "/v1/channels/main/pacing", None, EVERYONE),
    ("POST", "/v1/channels", {"name": "other", "kind": "memory"}, ADMINS),
    ("PATCH", "/v1/channels/main", {"pacing": {"per_second": 5}}, ADMINS),
    ("GET", "/v1/policy", None, EVERYONE),
    ("PATCH", "/v1/policy", {"daily_cap": 100}, ADMINS),
    ("GET", "/v1/policy/refusals", None, EVERYONE),
    ("GET", "/v1/conversations", None, EVERYONE),
    ("GET", "/v1/conversations/999999", None, EVERYONE),
    ("POST", "/v1/conversations/999999/assign", {"assignee": None}, PEOPLE),
    ("POST", "/v1/conversations/999999/close", None, PEOPLE),
    ("POST", "/v1/conversations/999999/reopen", None, PEOPLE),
    ("POST", "/v1/conversations/999999/notes", {"text": "note"}, PEOPLE),
    ("GET", "/v1/analytics/operators", None, EVERYONE),
    ("GET", "/v1/analytics/settings", None, EVERYONE),
    ("PATCH", "/v1/analytics/settings", {"sla_minutes": 15}, ADMINS),
    ("GET", "/v1/campaigns", None, EVERYONE),
    ("GET", "/v1/campaigns/999999", None, EVERYONE),
    ("POST", "/v1/campaigns", {"name": "c", "template": "t1", "language": "en", "csv": CSV}, PEOPLE),
    ("POST", "/v1/campaigns/999999/start", None, PEOPLE),
    ("POST", "/v1/campaigns/999999/pause", None, PEOPLE),
    ("POST", "/v1/campaigns/999999/resume", None, PEOPLE),
    ("POST", "/v1/campaigns/999999/cancel", None, PEOPLE),
    ("DELETE", "/v1/campaigns/999999", None, PEOPLE),
    ("POST", "/v1/webhooks", {"url": "https://crm.example/h", "events": ["message.status"]}, ADMINS),
    ("GET", "/v1/webhooks", None, ADMINS),
    ("GET", "/v1/webhooks/999999", None, ADMINS),
    ("PATCH", "/v1/webhooks/999999", {"description": "x"}, ADMINS),
    ("DELETE", "/v1/webhooks/999999", None, ADMINS),
    ("GET", "/v1/webhooks/999999/deliveries", None, ADMINS),
    ("POST", "/v1/webhooks/999999/replay", {}, ADMINS),
    ("GET", "/v1/webhooks/callbacks", None, ADMINS),
    ("GET", "/v1/events", None, EVERYONE),
    ("POST", "/v1/tokens", {"name": "crm", "role": "api"}, ADMINS),
    ("POST", "/v1/users", {"login": "u-roles", "password": "long enough", "role": "operator"}, ADMINS),
    ("GET", f"/v1/links/click-to-chat?phone={PHONE}", None, EVERYONE),
]


async def test_every_role_may_do_exactly_what_the_documentation_says(sqlite_url: str, tmp_path: Path) -> None:
    settings = make_settings(sqlite_url, tmp_path, dispatcher=False, webhooks=False)
    plugins = [dashboard_plugin, campaigns_plugin(), webhooks_plugin]
    async with running_app(settings, plugins=plugins) as (app, rt, admin):
        assert (await admin.post("/v1/channels", json={"name": "main", "kind": "memory"})).status_code == 201
        tenant = app.state.bootstrap.tenant
        now = rt.clock.now()
        clients = {ADMIN: admin}
        for role in (OPERATOR, API):
            token = f"roles-{role}-token"
            await rt.db.write(
                lambda c, role=role, token=token: tenant_repo.store_token(c, tenant.id, role, role, token, now)
            )
            clients[role] = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://wagate.test",
                headers={"Authorization": f"Bearer {token}"},
            )
        wrong: list[str] = []
        try:
            for method, path, body, allowed in TABLE:
                for role in (API, OPERATOR, ADMIN):  # least privileged first: nothing it may not do has run yet
                    response = await clients[role].request(method, path, json=body)
                    refused = response.status_code == 403
                    if refused != (role not in allowed):
                        wrong.append(f"{role} {method} {path}: {response.status_code} {response.text[:120]}")
        finally:
            for role in (OPERATOR, API):
                await clients[role].aclose()
        assert wrong == [], "\n".join(wrong)
