"""``GET/POST /optin/{tenant}``: the public opt-in page.

CSRF: the form carries a token encrypted and authenticated with the node's secret key
(``rt.secret_box``, Fernet) holding the tenant, a random nonce and the time it was issued;
the nonce is also set as a ``SameSite=Strict``, ``HttpOnly`` cookie. A POST is accepted only
when the token decrypts, names this tenant, is younger than ``TOKEN_MAX_AGE`` and its nonce
equals the cookie's — a page on another site can neither read the token nor send the cookie.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from wagate.api.browser_safety import OPTIN_HEADERS
from wagate.api.deps import RuntimeDep
from wagate.domain.policy import TenantPolicy
from wagate.errors import ValidationError
from wagate.optin.texts import TEXTS, localized, pick_language
from wagate.runtime import Runtime
from wagate.services import consents as consent_service
from wagate.services.links import wa_me
from wagate.store.repos import tenants as tenant_repo
from wagate.store.repos.tenants import Tenant

router = APIRouter(include_in_schema=False)

COOKIE = "wagate_optin"
TOKEN_MAX_AGE = 2 * 3600
MAX_USER_AGENT = 512
SECURITY_HEADERS = {**OPTIN_HEADERS, "Cache-Control": "no-store"}
STYLESHEET = (Path(__file__).parent / "static" / "optin.css").read_bytes()

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True),
    auto_reload=False,
)


def _page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _env.get_template(name).render(**context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


async def _tenant(rt: Runtime, name: str) -> tuple[Tenant, dict[str, Any]] | None:
    tenant = await rt.db.read(lambda c: tenant_repo.get_tenant_by_name(c, name))
    if tenant is None:
        return None
    settings = TenantPolicy.of(tenant.settings).as_json()["optin"]
    return (tenant, settings) if settings["enabled"] else None


def _not_found(lang: str) -> HTMLResponse:
    t = TEXTS[lang]
    return _page("message.html", 404, lang=lang, title=t["not_found"], text=t["not_found"])


def _form_texts(tenant: Tenant, settings: dict[str, Any], lang: str) -> dict[str, Any]:
    t = TEXTS[lang]
    company = settings["company"] or tenant.name
    scopes = [
        {
            "id": s["id"],
            "label": localized(s.get("label") or s["id"], lang),
            "description": localized(s.get("description"), lang),
        }
        for s in settings["scopes"]
    ]
    shown = {
        "title": t["title"].format(company=company),
        "intro": t["intro"].format(company=company),
        "description": localized(settings["description"], lang),
        "agree": t["agree"].format(company=company),
        "rules": t["rules"],
        "scopes": [(s["id"], s["label"], s["description"]) for s in scopes],
    }
    digest = hashlib.sha256(orjson.dumps(shown, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return {**shown, "scopes": scopes, "text_sha256": digest}


def _issue(rt: Runtime, tenant: Tenant) -> tuple[str, str]:
    nonce = secrets.token_urlsafe(16)
    issued = rt.clock.now().timestamp()
    token = rt.secret_box.encrypt(orjson.dumps({"t": tenant.name, "n": nonce, "i": issued}).decode())
    return token, nonce


def _valid_token(rt: Runtime, tenant: Tenant, token: str, cookie: str | None) -> bool:
    if not token or not cookie or not rt.secret_box.is_encrypted(token):
        return False
    try:
        data = orjson.loads(rt.secret_box.decrypt(token))
    except (ValueError, orjson.JSONDecodeError):
        return False
    if not isinstance(data, dict):
        return False
    age = rt.clock.now().timestamp() - float(data.get("i", 0))
    return (
        data.get("t") == tenant.name
        and secrets.compare_digest(str(data.get("n")), cookie)
        and -60 <= age <= TOKEN_MAX_AGE
    )


def _render_form(
    rt: Runtime,
    request: Request,
    tenant: Tenant,
    settings: dict[str, Any],
    lang: str,
    src: str,
    *,
    status: int = 200,
    errors: list[str] | None = None,
    phone: str = "",
    chosen: set[str] | None = None,
    agreed: bool = False,
) -> HTMLResponse:
    texts = _form_texts(tenant, settings, lang)
    token, nonce = _issue(rt, tenant)
    for scope in texts["scopes"]:
        scope["checked"] = scope["id"] in (chosen or set())
    response = _page(
        "form.html",
        status,
        lang=lang,
        t=TEXTS[lang],
        csrf=token,
        src=src,
        action=request.url.path,
        errors=errors or [],
        phone=phone,
        agreed=agreed,
        **{k: v for k, v in texts.items() if k != "text_sha256"},
    )
    response.set_cookie(
        COOKIE,
        nonce,
        max_age=TOKEN_MAX_AGE,
        path=request.url.path,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/optin/static/optin.css")
async def optin_stylesheet() -> Response:
    """The page's only style (the page's policy allows no inline style or script)."""
    return Response(STYLESHEET, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


@router.get("/optin/{tenant_name}", response_class=HTMLResponse)
async def optin_form(
    tenant_name: str, request: Request, rt: RuntimeDep, src: str | None = None, lang: str | None = None
) -> HTMLResponse:
    found = await _tenant(rt, tenant_name)
    if found is None:
        return _not_found(pick_language(lang, request.headers.get("accept-language"), "US"))
    tenant, settings = found
    language = pick_language(lang, request.headers.get("accept-language"), tenant.default_region)
    return _render_form(rt, request, tenant, settings, language, "qr" if src == "qr" else "web_form")


@router.post("/optin/{tenant_name}", response_class=HTMLResponse)
async def optin_submit(tenant_name: str, request: Request, rt: RuntimeDep) -> HTMLResponse:
    async with request.form(max_files=0, max_fields=64) as form:
        fields = {key: str(form.get(key) or "") for key in ("csrf", "lang", "src", "phone", "agree")}
        chosen = {str(v) for v in form.getlist("scopes")}
    found = await _tenant(rt, tenant_name)
    lang = pick_language(fields["lang"], request.headers.get("accept-language"), "US")
    if found is None:
        return _not_found(lang)
    tenant, settings = found
    t = TEXTS[lang]
    if not _valid_token(rt, tenant, fields["csrf"], request.cookies.get(COOKIE)):
        return _page("message.html", 403, lang=lang, title=t["expired"], text=t["expired"])
    src = "qr" if fields["src"] == "qr" else "web_form"
    known = {s["id"] for s in settings["scopes"]}
    scopes = sorted(chosen & known)
    errors = []
    if not scopes:
        errors.append(t["no_scopes"])
    if fields["agree"] != "yes":
        errors.append(t["no_agree"])
    texts = _form_texts(tenant, settings, lang)
    evidence = {
        "ip": request.client.host if request.client else None,
        "forwarded_for": request.headers.get("x-forwarded-for"),
        "user_agent": request.headers.get("user-agent", "")[:MAX_USER_AGENT],
        "at": rt.clock.now().isoformat(),
        "form": f"/optin/{tenant.name}",
        "form_version": settings["text_version"],
        "form_text_sha256": texts["text_sha256"],
        "language": lang,
        "agreement": texts["agree"],
    }
    row = None
    if not errors:
        try:
            row, _created = await consent_service.record_opt_in(
                rt,
                tenant,
                {"phone": fields["phone"], "source": src, "scopes": scopes, "evidence": evidence},
                via="optin_page",
            )
        except ValidationError:
            errors.append(t["bad_phone"])
    if errors or row is None:
        return _render_form(
            rt,
            request,
            tenant,
            settings,
            lang,
            src,
            status=422,
            errors=errors,
            phone=fields["phone"][:32],
            chosen=chosen,
            agreed=fields["agree"] == "yes",
        )
    labels = ", ".join(s["label"] for s in texts["scopes"] if s["id"] in scopes)
    business = settings["business_phone"]
    chat_url = wa_me("".join(ch for ch in business if ch.isdigit()), None) if business else None
    return _page(
        "done.html",
        lang=lang,
        t=t,
        title=t["done_title"],
        done_text=t["done_text"].format(scopes=labels),
        chat_url=chat_url,
    )
