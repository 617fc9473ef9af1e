"""The simulator's message templates: a small approved set, plus one pending and one rejected.

``hello_world`` (en_US, no parameters) is the template every new Meta app starts with;
``order_update`` takes two body parameters in English and Russian.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")


@dataclass(slots=True)
class SimTemplate:
    id: str
    name: str
    language: str
    status: str  # APPROVED | PENDING | REJECTED | PAUSED | DISABLED
    category: str  # MARKETING | UTILITY | AUTHENTICATION
    components: list[dict[str, Any]] = field(default_factory=list)
    quality: str = "UNKNOWN"  # GREEN | YELLOW | RED | UNKNOWN

    @property
    def body(self) -> str:
        for component in self.components:
            if isinstance(component, dict) and str(component.get("type", "")).upper() == "BODY":
                return str(component.get("text") or "")
        return ""

    @property
    def param_count(self) -> int:
        return len(set(PLACEHOLDER.findall(self.body)))

    def as_graph(self) -> dict[str, Any]:
        components = []
        for component in self.components:
            item = dict(component)
            if str(item.get("type", "")).upper() == "BODY" and "example" not in item and self.param_count:
                # Meta lists the examples a template was submitted with; give one per variable.
                item["example"] = {"body_text": [[f"sample {i + 1}" for i in range(self.param_count)]]}
            components.append(item)
        return {
            "name": self.name,
            "parameter_format": "POSITIONAL",
            "components": components,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "id": self.id,
        }


def _body(text: str, examples: list[str] | None = None) -> list[dict[str, Any]]:
    body: dict[str, Any] = {"type": "BODY", "text": text}
    if examples:
        body["example"] = {"body_text": [examples]}
    return [body]


def default_templates() -> list[SimTemplate]:
    return [
        SimTemplate(
            "300000000000001",
            "hello_world",
            "en_US",
            "APPROVED",
            "UTILITY",
            [
                {"type": "HEADER", "format": "TEXT", "text": "Hello World"},
                {
                    "type": "BODY",
                    "text": "Welcome and congratulations!! This message demonstrates your ability to send a "
                    "WhatsApp message notification from the Cloud API, hosted by Meta.",
                },
                {"type": "FOOTER", "text": "WhatsApp Business Platform sample message"},
            ],
        ),
        SimTemplate(
            "300000000000002",
            "order_update",
            "en",
            "APPROVED",
            "UTILITY",
            _body("Hello {{1}}, your order {{2}} has shipped.", ["Anna", "#1042"]),
        ),
        SimTemplate(
            "300000000000003",
            "order_update",
            "ru",
            "APPROVED",
            "UTILITY",
            _body("Здравствуйте, {{1}}! Ваш заказ {{2}} отправлен.", ["Анна", "#1042"]),
        ),
        SimTemplate(
            "300000000000004",
            "spring_sale",
            "en",
            "PENDING",
            "MARKETING",
            _body("Spring sale: {{1}} off everything until Sunday.", ["20%"]),
        ),
        SimTemplate(
            "300000000000005",
            "winback_offer",
            "en",
            "REJECTED",
            "MARKETING",
            _body("We miss you! Come back for a gift."),
        ),
    ]
