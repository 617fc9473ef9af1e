import pytest

from wagate.domain.messages import MessageType, OutboundDraft, validate_outbound
from wagate.errors import ValidationError


def check(**kwargs: object) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        validate_outbound(OutboundDraft(**kwargs), "RU")  # type: ignore[arg-type]
    return info.value


def test_text_message_is_normalised() -> None:
    message = validate_outbound(OutboundDraft(to="8 (900) 123-45-67", text="hi"), "RU")
    assert message.phone == "79001234567"
    assert message.type is MessageType.TEXT
    assert message.payload == {"text": "hi"}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"to": None, "text": "x"}, "to"),
        ({"to": "79001234567", "text": ""}, "text"),
        ({"to": "79001234567", "text": "   "}, "text"),
        ({"to": "79001234567", "text": "x" * 4097}, "text"),
        ({"to": "79001234567", "type": "sticker-pack", "text": "x"}, "type"),
        ({"to": "79001234567", "type": "image", "media": {}}, "media.url"),
        ({"to": "79001234567", "type": "image"}, "media"),
        ({"to": "79001234567", "type": "image", "media": {"url": "ftp://x/y.png"}}, "media.url"),
        ({"to": "79001234567", "text": "x", "validity_seconds": 0}, "validity_seconds"),
        ({"to": "79001234567", "text": "x", "validity_seconds": -5}, "validity_seconds"),
        ({"to": "79001234567", "text": "x", "callback_url": "javascript:alert(1)"}, "callback_url"),
        ({"to": "79001234567", "type": "location", "location": {"latitude": 91, "longitude": 0}}, "location.latitude"),
        ({"to": "79001234567", "type": "template", "template": {"language": "en"}}, "template.name"),
        ({"to": "79001234567", "type": "contacts", "contacts": []}, "contacts"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict[str, object], field: str) -> None:
    assert check(**kwargs).field == field


def test_text_of_exactly_4096_characters_is_accepted() -> None:
    assert validate_outbound(OutboundDraft(to="79001234567", text="x" * 4096), "RU").payload["text"]


def test_media_by_id_is_enough() -> None:
    message = validate_outbound(OutboundDraft(to="79001234567", type="document", media={"id": "123"}), "RU")
    assert message.payload == {"media": {"id": "123"}}


def test_devino_style_template_params_become_positions() -> None:
    message = validate_outbound(
        OutboundDraft(
            to="79001234567", type="template", template={"name": "t", "language": "ru", "params": {"2": "b", "1": "a"}}
        ),
        "RU",
    )
    assert message.payload["template"]["params"] == ["a", "b"]
