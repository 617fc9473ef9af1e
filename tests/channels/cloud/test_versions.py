"""Graph API versions: the default, a channel's own version, and warnings before Meta retires one.

Dates come from Meta's version table (https://developers.facebook.com/docs/graph-api/changelog/versions/):
v21.0 expires on 21 January 2027, v22.0 on 20 May 2027, v26.0 (released 29 July 2026) has no
announced expiration yet.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.channels.cloud.live import cloud_registry
from tests.conftest import make_settings, running_app
from wagate.channels.cloud.settings import CloudSettings, prepare_settings
from wagate.channels.cloud.versions import DEFAULT_API_VERSION, VERSIONS, WARN_DAYS, notice
from wagate.clock import FakeClock
from wagate.crypto import SecretBox
from wagate.errors import ValidationError

TODAY = date(2026, 12, 7)


def test_the_default_version_is_in_the_table_and_not_retiring() -> None:
    assert DEFAULT_API_VERSION in VERSIONS
    assert not notice(DEFAULT_API_VERSION, TODAY).warns
    assert not notice(DEFAULT_API_VERSION, date(2028, 1, 1)).warns


def test_v21_is_retiring_six_weeks_before_21_january_2027() -> None:
    found = notice("v21.0", TODAY)
    assert found.state == "retiring"
    assert found.retires_on == date(2027, 1, 21)
    assert found.days_left == 45
    assert "2027-01-21" in found.message()


def test_a_version_is_warned_about_exactly_from_sixty_days_before_retirement() -> None:
    retires = date(2027, 5, 20)  # v22.0
    assert notice("v22.0", date.fromordinal(retires.toordinal() - WARN_DAYS - 1)).state == "current"
    assert notice("v22.0", date.fromordinal(retires.toordinal() - WARN_DAYS)).state == "retiring"
    assert notice("v22.0", retires).state == "retired"


def test_a_version_older_than_the_table_is_retired_and_a_newer_one_unknown() -> None:
    assert notice("v12.0", TODAY).state == "retired"
    assert notice("v99.0", TODAY).state == "unknown"
    assert not notice("v99.0", TODAY).warns


def test_a_channel_without_a_version_speaks_the_default_and_may_pin_another() -> None:
    box = SecretBox(Fernet.generate_key())
    base = {"phone_number_id": "1", "access_token": "env:NOPE"}
    assert CloudSettings.from_stored(base, box).api_version == DEFAULT_API_VERSION
    assert CloudSettings.from_stored({**base, "api_version": "v23.0"}, box).api_version == "v23.0"


def test_a_malformed_version_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        prepare_settings(
            {"phone_number_id": "1", "access_token": "env:X", "api_version": "21"}, SecretBox(Fernet.generate_key())
        )
    assert caught.value.field == "settings.api_version"


async def test_readyz_warns_about_a_channel_pinned_to_a_retiring_version(db_url: str, tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 12, 7, 12, tzinfo=UTC))
    settings = make_settings(db_url, tmp_path, dispatcher=False)
    async with running_app(settings, clock=clock, registry=cloud_registry()) as (_app, _rt, client):
        for name, version in (("old", "v21.0"), ("new", None)):
            channel_settings = {"phone_number_id": "1", "access_token": "t", "graph_url": "http://127.0.0.1:9"}
            if version:
                channel_settings["api_version"] = version
            response = await client.post(
                "/v1/channels", json={"name": name, "kind": "cloud", "settings": channel_settings}
            )
            assert response.status_code == 201, response.text
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        warnings = ready.json()["warnings"]
        assert [(w["channel"], w["version"], w["retires_on"], w["state"]) for w in warnings] == [
            ("old", "v21.0", "2027-01-21", "retiring")
        ]
        assert warnings[0]["days_left"] == 45
