"""Message templates: what a valid template is, how parameters are checked and how a template
becomes plain text for channels that have no native templates.

Pure functions, no I/O. The parameter rules are the Cloud API's and the seed's (Devino: "no
line breaks, no tabs, no 4 spaces in a row"); each failure is a ``PolicyError`` with a stable
code (``docs/policy.md`` maps them onto the Devino and Cloud API codes) and a ``field`` that
names the offending parameter (``template.params[i]``, 0-based like every JSON path we print).

Rendering substitutes ``{{n}}`` once, left to right: a parameter that itself contains
``{{2}}`` is never expanded again, and WhatsApp's own formatting (``*bold*``, ``_italic_``,
``~strike~``, ```` ```mono``` ````, `` `code` ``) passes through untouched, in the body and in the
parameters alike, because WhatsApp clients render it themselves.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wagate.errors import PolicyError, ValidationError

CATEGORIES = ("marketing", "utility", "authentication")
STATUSES = ("approved", "pending", "rejected")
SOURCES = ("local", "cloud")

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,511}$")
LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,4})?$")
SCOPE_RE = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,63}$")
PLACEHOLDER_RE = re.compile(r"\{\{(\d+)\}\}")

MAX_BODY = 1024
MAX_HEADER = 60
MAX_FOOTER = 60
MAX_BUTTONS = 10
MAX_BUTTON_TEXT = 25
#: Longest parameter value accepted (the Cloud API answers 132005 "translated text too long" beyond it).
MAX_PARAM_LENGTH = 1024
#: Longest rendered text (the native text limit of a message).
MAX_RENDERED = 4096
#: Characters ``str.splitlines`` breaks on, plus the tab: none may appear in a parameter.
FORBIDDEN_PARAM_CHARS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\t")
BUTTON_TYPES = ("quick_reply", "url", "phone_number")

#: Cloud API template statuses → ours. Only APPROVED can be sent; the rest cannot (yet or any more).
CLOUD_STATUS = {
    "APPROVED": "approved",
    "PENDING": "pending",
    "IN_APPEAL": "pending",
    "PENDING_DELETION": "rejected",
    "REJECTED": "rejected",
    "PAUSED": "rejected",
    "DISABLED": "rejected",
    "DELETED": "rejected",
    "LIMIT_EXCEEDED": "rejected",
    "ARCHIVED": "rejected",
}


@dataclass(frozen=True, slots=True)
class Template:
    """A template as the policy sees it (stored or synced)."""

    name: str
    language: str
    category: str
    body: str
    status: str = "pending"
    header: dict[str, Any] | None = None
    footer: str | None = None
    buttons: list[dict[str, Any]] = field(default_factory=list)
    scope: str | None = None
    channel: str = ""
    source: str = "local"
    provider_status: str | None = None
    id: int = 0
    #: Meta's template id (cloud channels).
    provider_id: str | None = None

    @property
    def param_count(self) -> int:
        return param_count(self.body)

    @property
    def required_scope(self) -> str:
        """The consent scope a client must have chosen to receive it: explicit, else the category."""
        return self.scope or self.category


def normalize_language(value: str) -> str:
    """``EN`` → ``en``, ``en-us`` → ``en_US``: the Cloud API's spelling, so lookups match whatever a door sent."""
    parts = re.split(r"[_-]", value.strip(), maxsplit=1)
    if len(parts) == 1:
        return parts[0].lower()
    return f"{parts[0].lower()}_{parts[1].upper()}"


def placeholders(text: str) -> list[int]:
    return [int(m) for m in PLACEHOLDER_RE.findall(text)]


def param_count(body: str) -> int:
    """How many parameters a body takes: its highest ``{{n}}``."""
    numbers = placeholders(body)
    return max(numbers) if numbers else 0


# ---------------------------------------------------------------- parameters and rendering


def param_problem(value: str) -> str | None:
    """Why a parameter value is refused, as a PolicyError code, or ``None`` when it is fine."""
    if not value.strip():
        return "template_param_invalid"
    if any(ch in FORBIDDEN_PARAM_CHARS for ch in value) or "    " in value:
        return "template_param_invalid"
    if len(value) > MAX_PARAM_LENGTH:
        return "template_param_too_long"
    return None


def check_params(template: Template, params: list[str]) -> None:
    """Raise the first ``PolicyError`` the parameters earn, in a fixed order: count, then each value."""
    expected = template.param_count
    if len(params) != expected:
        raise PolicyError(
            f"template {template.name!r} ({template.language}) takes {expected} parameter(s); {len(params)} given",
            code="template_param_count",
            field="template.params",
        )
    for index, value in enumerate(params):
        problem = param_problem(value)
        if problem == "template_param_invalid":
            raise PolicyError(
                f"parameter {{{{{index + 1}}}}} must not be empty or contain a line break, a tab "
                "or 4 consecutive spaces",
                code=problem,
                field=f"template.params[{index}]",
            )
        if problem == "template_param_too_long":
            raise PolicyError(
                f"parameter {{{{{index + 1}}}}} is longer than {MAX_PARAM_LENGTH} characters",
                code=problem,
                field=f"template.params[{index}]",
            )


def render_body(body: str, params: list[str]) -> str:
    """Substitute ``{{n}}`` with ``params[n-1]`` in one pass; unknown positions stay as written."""

    def replace(match: re.Match[str]) -> str:
        position = int(match.group(1))
        return params[position - 1] if 1 <= position <= len(params) else match.group(0)

    return PLACEHOLDER_RE.sub(replace, body)


def _button_line(button: Mapping[str, Any]) -> str:
    text = str(button.get("text") or "")
    kind = button.get("type")
    if kind == "url" and button.get("url"):
        return f"{text}: {button['url']}" if text else str(button["url"])
    if kind == "phone_number" and button.get("phone_number"):
        return f"{text}: {button['phone_number']}" if text else str(button["phone_number"])
    return text


def render_text(template: Template, params: list[str]) -> str:
    """The whole template as one plain WhatsApp text: header, body, footer, then buttons one per line.

    Used for channels without native templates (device, web) and as the message's readable
    ``text`` in the history. Media headers have no text form and are left out.
    """
    parts: list[str] = []
    header = template.header or {}
    if header.get("type", "text") == "text" and header.get("text"):
        parts.append(str(header["text"]))
    parts.append(render_body(template.body, params))
    if template.footer:
        parts.append(template.footer)
    lines = [line for line in (_button_line(b) for b in template.buttons) if line]
    if lines:
        parts.append("\n".join(lines))
    return "\n\n".join(p for p in parts if p)


def prepare_send(template: Template, params: list[str]) -> dict[str, Any]:
    """Check ``params`` against ``template`` and return the payload a stored message carries.

    ``template`` keeps what a native-template channel (cloud) sends; ``text`` is the rendered
    plain text for every other channel and for people reading the history.
    """
    if template.status != "approved":
        raise PolicyError(
            f"template {template.name!r} ({template.language}) is {template.status}, not approved",
            code="template_not_approved",
            field="template.name",
        )
    check_params(template, params)
    text = render_text(template, params)
    if len(text) > MAX_RENDERED:
        raise PolicyError(
            f"the rendered template is longer than {MAX_RENDERED} characters",
            code="template_param_too_long",
            field="template.params",
        )
    return {
        "template": {
            "name": template.name,
            "language": template.language,
            "params": list(params),
            "category": template.category,
        },
        "text": text,
    }


def choose(candidates: list[Template], name: str, language: str, channel: str, *, own_only: bool = False) -> Template:
    """Pick the template a message means: the channel's own first, then the tenant-wide one.

    ``own_only`` (cloud channels, whose templates are Meta's): only the channel's own templates
    count; a tenant-wide one that was never approved on this channel's account cannot be sent.
    Raises ``template_not_found`` when no template has the name at all, and
    ``template_language_not_found`` when it exists only in other languages.
    """
    language = normalize_language(language)
    allowed = (channel,) if own_only else (channel, "")
    named = [t for t in candidates if t.name == name and t.channel in allowed]
    if not named:
        if own_only and any(t.name == name and t.channel == "" for t in candidates):
            raise PolicyError(
                f"template {name!r} is not on channel {channel!r}'s WhatsApp Business Account: submit it "
                f"(POST /v1/templates with channel {channel!r}) and wait for Meta's approval",
                code="template_not_found",
                field="template.name",
            )
        raise PolicyError(f"no template named {name!r}", code="template_not_found", field="template.name")
    matching = [t for t in named if t.language == language]
    if not matching:
        known = ", ".join(sorted({t.language for t in named}))
        raise PolicyError(
            f"template {name!r} has no {language!r} version (has: {known})",
            code="template_language_not_found",
            field="template.language",
        )
    matching.sort(key=lambda t: t.channel != channel)  # the channel's own before the tenant-wide one
    return matching[0]


# ---------------------------------------------------------------- validating templates we store


def _text(data: Mapping[str, Any], key: str, limit: int, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise ValidationError(f"{key} is required", field=key, code="required")
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{key} must be a string", field=key)
    if len(value) > limit:
        raise ValidationError(f"{key} is longer than {limit} characters", field=key, code="too_long")
    return value


def validate_name(value: object) -> str:
    if not isinstance(value, str) or not NAME_RE.match(value):
        raise ValidationError("name must be 1-512 letters, digits, '_', '.', '-'", field="name")
    return value


def validate_language(value: object, field: str = "language") -> str:
    if not isinstance(value, str) or not LANGUAGE_RE.match(value.strip()):
        raise ValidationError("language must be a code such as en, ru or en_US", field=field)
    return normalize_language(value)


def validate_category(value: object) -> str:
    if not isinstance(value, str) or value.lower() not in CATEGORIES:
        raise ValidationError(f"category must be one of {', '.join(CATEGORIES)}", field="category")
    return value.lower()


def validate_status(value: object) -> str:
    if value not in STATUSES:
        raise ValidationError(f"status must be one of {', '.join(STATUSES)}", field="status")
    return str(value)


def validate_scope(value: object, field: str = "scope") -> str:
    if not isinstance(value, str) or not SCOPE_RE.match(value):
        raise ValidationError("a scope is 1-64 lowercase letters, digits, '_', '.', '-'", field=field)
    return value


def validate_body(value: object) -> str:
    body = _text({"body": value}, "body", MAX_BODY, required=True)
    assert body is not None
    numbers = sorted(set(placeholders(body)))
    if numbers and numbers != list(range(1, len(numbers) + 1)):
        raise ValidationError("body placeholders must be {{1}}, {{2}}, … without gaps", field="body")
    return body


def validate_header(value: object) -> dict[str, Any] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = {"type": "text", "text": value}
    if not isinstance(value, dict):
        raise ValidationError("header must be a string or an object", field="header")
    kind = value.get("type", "text")
    if kind == "text":
        text = _text(value, "text", MAX_HEADER, required=True)
        assert text is not None
        if placeholders(text):
            raise ValidationError("header variables are not supported; put them in the body", field="header.text")
        return {"type": "text", "text": text}
    if kind in ("image", "video", "document"):
        out: dict[str, Any] = {"type": kind}
        url = value.get("url")
        if url is not None:
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise ValidationError("header.url must be an http(s) URL", field="header.url")
            out["url"] = url
        return out
    raise ValidationError("header.type must be text, image, video or document", field="header.type")


def validate_buttons(value: object) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_BUTTONS:
        raise ValidationError(f"buttons must be a list of at most {MAX_BUTTONS}", field="buttons")
    out: list[dict[str, Any]] = []
    for index, button in enumerate(value):
        where = f"buttons[{index}]"
        if not isinstance(button, dict):
            raise ValidationError("each button must be an object", field=where)
        kind = str(button.get("type", "quick_reply")).lower()
        if kind not in BUTTON_TYPES:
            raise ValidationError(f"button type must be one of {', '.join(BUTTON_TYPES)}", field=f"{where}.type")
        text = button.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_BUTTON_TEXT:
            raise ValidationError(f"button text is 1-{MAX_BUTTON_TEXT} characters", field=f"{where}.text")
        item: dict[str, Any] = {"type": kind, "text": text}
        if kind == "url":
            url = button.get("url")
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise ValidationError("a url button needs an http(s) url", field=f"{where}.url")
            item["url"] = url
        if kind == "phone_number":
            phone = button.get("phone_number")
            if not isinstance(phone, str) or not phone.strip():
                raise ValidationError("a phone_number button needs phone_number", field=f"{where}.phone_number")
            item["phone_number"] = phone
        out.append(item)
    return out


CONTENT_FIELDS = ("category", "body", "header", "footer", "buttons", "scope")


def validate_content(data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    """The content fields of a create (all required ones present) or a PATCH (only those given)."""
    out: dict[str, Any] = {}
    if not partial or "category" in data:
        out["category"] = validate_category(data.get("category"))
    if not partial or "body" in data:
        out["body"] = validate_body(data.get("body"))
    if "header" in data:
        out["header"] = validate_header(data.get("header"))
    if "footer" in data:
        out["footer"] = _text(data, "footer", MAX_FOOTER)
    if "buttons" in data:
        out["buttons"] = validate_buttons(data.get("buttons"))
    if "scope" in data:
        out["scope"] = None if data.get("scope") in (None, "") else validate_scope(data.get("scope"))
    return out


# ---------------------------------------------------------------- templates synced from the Cloud API


def _get(item: Any, key: str, default: Any = None) -> Any:
    if isinstance(item, Mapping):
        return item.get(key, default)
    return getattr(item, key, default)


def from_cloud(item: Any, channel: str) -> Template | None:
    """A template from the Cloud API's ``message_templates`` (a dict in Graph shape or an object with
    ``name, language, category, status, body, components``) → ``Template``; ``None`` if unusable.

    Lenient on purpose: Meta is the authority for synced templates, we only need to read them.
    """
    name, language = _get(item, "name"), _get(item, "language")
    if not isinstance(name, str) or not name or not isinstance(language, str) or not language:
        return None
    raw_status = str(_get(item, "status") or "PENDING")
    status = raw_status.lower() if raw_status.lower() in STATUSES else CLOUD_STATUS.get(raw_status.upper(), "rejected")
    category = str(_get(item, "category") or "utility").lower()
    if category not in CATEGORIES:
        category = "utility"
    body = _get(item, "body") or _get(item, "body_text")
    header: dict[str, Any] | None = None
    footer: str | None = None
    buttons: list[dict[str, Any]] = []
    for component in _get(item, "components") or []:
        kind = str(_get(component, "type", "")).upper()
        if kind == "BODY" and not body:
            body = _get(component, "text")
        elif kind == "HEADER":
            fmt = str(_get(component, "format", "TEXT")).lower()
            header = {"type": "text", "text": _get(component, "text") or ""} if fmt == "text" else {"type": fmt}
        elif kind == "FOOTER":
            footer = _get(component, "text")
        elif kind == "BUTTONS":
            for button in _get(component, "buttons") or []:
                entry = {"type": str(_get(button, "type", "quick_reply")).lower(), "text": _get(button, "text") or ""}
                for key in ("url", "phone_number"):
                    if _get(button, key):
                        entry[key] = _get(button, key)
                buttons.append(entry)
    return Template(
        name=name,
        language=normalize_language(language),
        category=category,
        body=str(body or ""),
        status=status,
        header=header,
        footer=footer,
        buttons=buttons,
        channel=channel,
        source="cloud",
        provider_status=raw_status.upper(),
        provider_id=str(_get(item, "id")) if _get(item, "id") is not None else None,
    )
