"""A device reports results only for messages leased to it.

The finding: a device could report a result for a queued message it never leased, and the
message became failed. Another device's message, or one nobody took yet, is now refused with
``409 not_leased`` and left untouched; the leasing device's own reports still count, late ones
included.
"""

from __future__ import annotations

from tests.channels.device.test_protocol import Phone, phone

__all__ = ["phone"]


async def test_a_device_cannot_report_on_a_message_it_never_leased(phone: Phone) -> None:
    other = await phone.client.post("/v1/channels/phone/devices", json={"name": "intruder"})
    assert other.status_code == 201, other.text
    intruder = {"Authorization": f"Bearer {other.json()['token']}"}

    queued = await phone.send("79001234567")
    refused = await phone.client.post(
        f"/device/v1/messages/{queued}/result", json={"status": "failed", "error": "x"}, headers=intruder
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "not_leased"
    assert (await phone.message(queued))["status"] == "queued"

    offered = await phone.next()
    assert offered.status_code == 200, offered.text
    leased = int(offered.json()["id"])
    stolen = await phone.client.post(
        f"/device/v1/messages/{leased}/result", json={"status": "failed", "error": "x"}, headers=intruder
    )
    assert stolen.status_code == 409
    assert (await phone.message(leased))["status"] == "sending"

    own = await phone.result(leased, status="sent")
    assert own.status_code == 200, own.text
    assert (await phone.message(leased))["status"] == "sent"
