"""The WAMM- and Devino-style doors only know phones: a BSUID (someone whose phone WhatsApp
withholds) is answered with each door's own "phone" error, never read as digits."""

from __future__ import annotations

from tests.compat.conftest import Compat

BSUID = "US.13491208655302741918"


async def test_wamm_answers_phone_fail_for_a_bsuid(compat: Compat) -> None:
    response = await compat.api2("msg_to", phone=BSUID, text="hi")
    assert response.json() == {"err": "phone fail"}


async def test_devino_rejects_a_bsuid_as_an_invalid_phone(compat: Compat) -> None:
    response = await compat.devino({"messages": [{"from": "main", "to": BSUID, "text": "hi"}]})
    assert response.status_code == 200
    [result] = response.json()["result"]
    assert result["code"] == "REJECTED"
    assert result["reasons"] == [{"key": "invalid", "ref": "messages[0].to"}]
