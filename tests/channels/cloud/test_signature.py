"""``X-Hub-Signature-256``: HMAC-SHA256 of the raw body with the app secret, ``sha256=`` + hex."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from tests.channels.cloud.harness import raw
from wagate.channels.cloud.webhook import sign, signature_valid

SECRET = "4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a99"


def test_signature_is_hmac_sha256_hex_of_the_raw_body() -> None:
    body = raw("in_text.json")
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert sign(body, SECRET) == expected


def test_a_correct_signature_is_accepted() -> None:
    body = raw("status_read.json")
    assert signature_valid(body, sign(body, SECRET), SECRET)


@pytest.mark.parametrize(
    "header",
    [None, "", "sha256=", "sha1=abcdef", "sha256=" + "0" * 64, "SHA256=deadbeef"],
)
def test_missing_or_wrong_signatures_are_refused(header: str | None) -> None:
    assert not signature_valid(raw("status_read.json"), header, SECRET)


def test_a_body_changed_by_one_byte_is_refused() -> None:
    body = raw("in_text.json")
    header = sign(body, SECRET)
    assert not signature_valid(body.replace(b"\n", b" ", 1), header, SECRET)


def test_without_an_app_secret_nothing_is_valid() -> None:
    body = raw("in_text.json")
    assert not signature_valid(body, sign(body, ""), None)
    assert not signature_valid(body, sign(body, ""), "")
