"""``GET /{waba_id}/message_templates`` answers (``testdata/graph_templates_page.json``) → ``CloudTemplate``."""

from __future__ import annotations

import pytest

from tests.channels.cloud.harness import load
from wagate.channels.cloud.channel import parse_template

CASES = [
    # name, language, status, category, param count, body
    ("order_update", "en", "approved", "utility", 2, "Hello {{1}}, your order {{2}} has shipped."),
    ("spring_sale", "en", "pending", "marketing", 1, "{{1}} off until Sunday"),
    ("hello_world", "en_US", "rejected", "utility", 0, "Welcome and congratulations!!"),
]


@pytest.mark.parametrize(("index", "case"), list(enumerate(CASES)), ids=[c[0] for c in CASES])
def test_template_is_parsed(index: int, case: tuple[str, str, str, str, int, str]) -> None:
    template = parse_template(load("graph_templates_page.json")["data"][index])
    assert (
        template.name,
        template.language,
        template.status,
        template.category,
        template.param_count,
        template.body,
    ) == case
    assert template.id is not None and template.id.isdigit()


def test_components_other_than_the_body_are_kept() -> None:
    template = parse_template(load("graph_templates_page.json")["data"][1])
    assert [c["type"] for c in template.components] == ["HEADER", "BODY", "BUTTONS"]
