"""Which media URLs Meta could fetch itself (sent as ``link``) and which the gateway uploads."""

from __future__ import annotations

import pytest

from wagate.channels.cloud.channel import publicly_fetchable


@pytest.mark.parametrize(
    "url",
    ["https://cdn.example.org/a.jpg", "http://93.184.216.34/file.pdf", "https://[2606:4700::1111]/x.png"],
)
def test_public_urls_go_as_links(url: str) -> None:
    assert publicly_fetchable(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/a.jpg",
        "http://localhost/a.jpg",
        "http://10.1.2.3/a.jpg",
        "http://192.168.0.10/a.jpg",
        "http://172.20.0.5/a.jpg",
        "http://169.254.169.254/latest",
        "http://[::1]/a.jpg",
        "http://crm/a.jpg",
        "http://files.internal/a.jpg",
        "http://nas.local/a.jpg",
        "not a url",
    ],
)
def test_urls_meta_cannot_reach_are_uploaded(url: str) -> None:
    assert not publicly_fetchable(url)
