"""The one table of failure meanings, held against every Cloud API code the cloud channel knows."""

from __future__ import annotations

import pytest

from wagate.api.compat import wamm_dialect as wm
from wagate.channels.cloud.errors import CODES, GraphError, classify
from wagate.domain import error_codes
from wagate.webhooks.formats.devino import error_code

SEED_STATUS_CODES = {2000, 2001, *range(2002, 2013), 2017, *range(2300, 2306), *range(2307, 2314)}


def test_every_cloud_code_the_channel_knows_has_a_devino_status_code() -> None:
    assert set(CODES) <= set(error_codes.CLOUD_STATUS_CODES)


@pytest.mark.parametrize("cloud_code", sorted(CODES))
def test_a_cloud_failure_reaches_its_devino_code_through_the_code_the_channel_records(cloud_code: int) -> None:
    """What a failed message carries is the channel's wagate code: it alone must give the right number."""
    wagate_code, _retryable, _pause = classify(GraphError(code=cloud_code, message="x"))
    assert wagate_code in error_codes.ERRORS, wagate_code
    assert error_code("failed", wagate_code) == error_codes.CLOUD_STATUS_CODES[cloud_code]


@pytest.mark.parametrize(
    ("cloud_code", "devino"),
    [
        (131047, 2312),
        (131056, 2301),
        (131048, 2302),
        (131049, 2302),
        (131052, 2303),
        (131053, 2303),
        (132000, 2308),
        (132005, 2311),
        (131026, 2305),
        (131021, 2307),
        (132001, 2309),
        (130429, 2301),
    ],
)
def test_the_codes_the_documentation_names(cloud_code: int, devino: int) -> None:
    assert error_codes.CLOUD_STATUS_CODES[cloud_code] == devino


def test_every_devino_code_in_the_table_is_one_of_the_seeds() -> None:
    assert {m.devino for m in error_codes.ERRORS.values()} <= SEED_STATUS_CODES
    assert set(error_codes.CLOUD_STATUS_CODES.values()) <= SEED_STATUS_CODES


def test_every_wamm_string_in_the_table_is_one_of_the_seeds() -> None:
    seed = {value for name, value in vars(wm).items() if name.isupper() and isinstance(value, str)}
    assert {m.wamm for m in error_codes.ERRORS.values()} <= seed


def test_a_graph_code_named_only_in_the_message_is_still_found() -> None:
    assert error_codes.devino_status_code("provider_rejected", "Re-engagement message (Graph error 131047)") == 2312
    assert error_codes.devino_status_code("provider_rejected", "something else") == 2313


@pytest.mark.parametrize(
    ("code", "wamm"),
    [
        ("not_on_whatsapp", "no WhatsApp on the number"),
        ("auth_failed", "acc not authorized"),
        ("provider_unreachable", "phone not checked for WhatsApp, please retry"),
        ("outside_service_window", "fail execution"),
        ("190", "acc not authorized"),
        ("131026", "no WhatsApp on the number"),
        ("nothing_known", "fail execution"),
    ],
)
def test_wamm_strings_for_failures(code: str, wamm: str) -> None:
    assert error_codes.wamm_string(code) == wamm
