"""The session's life through the API: pairing, every state change, reconnects, faults."""

from __future__ import annotations

from typing import Any

from tests.channels.web.conftest import WebGateway, eventually
from wagate.channels.web import library


async def test_creating_a_web_channel_starts_its_session_and_shows_a_qr(web: WebGateway) -> None:
    await web.create()
    session = await web.state(want="pairing")
    assert session["qr"].startswith("2@")
    assert session["phone"] is None and session["since"]


async def test_scanning_the_qr_links_the_phone_and_connects(web_both: WebGateway) -> None:
    web = web_both
    await web.linked(phone="79001112233")
    session = await web.state(want="connected")
    assert session["phone"] == "79001112233" and session["qr"] is None and session["error"] is None
    statuses = [e["payload"]["status"] for e in await web.events("channel.status")]
    assert statuses[-2:] == ["pairing", "connected"]


async def test_a_dropped_connection_shows_disconnected_then_connected(web: WebGateway) -> None:
    session = await web.linked()
    session.drop()
    dropped = await web.state(want="disconnected")
    assert "reconnecting" in dropped["error"]
    session.connect()
    await web.state(want="connected")


async def test_keep_alive_timeouts_are_reported(web: WebGateway) -> None:
    session = await web.linked()
    session.emit(library.proto("pb.KeepAliveTimeout")(ErrorCount=3, LastSuccess=0))
    state = await web.state(want="disconnected")
    assert "keep-alive" in state["error"]
    session.emit(library.proto("pb.KeepAliveRestored")())
    await web.state(want="connected")


async def test_logged_out_from_the_phone_waits_for_restart_then_pairs_again(web: WebGateway) -> None:
    session = await web.linked()
    session.emit(library.proto("pb.LoggedOut")(OnConnect=False, Reason=2))
    state = await web.state(want="logged_out")
    assert state["error"] == "logged out"
    runs = len(web.world.created)
    response = await web.client.post("/v1/channels/wa/session/restart")
    assert response.status_code == 200
    await eventually(lambda: len(web.world.created) > runs)
    assert web.world.created[-1].spec.jid is None  # a new device, not the unlinked one
    await web.state(want="pairing")


async def test_logout_through_the_api_unlinks(web: WebGateway) -> None:
    session = await web.linked()
    response = await web.client.post("/v1/channels/wa/session/logout")
    assert response.status_code == 200
    assert ("logout", None) in session.calls
    await web.state(want="logged_out")


async def test_a_temporary_ban_shows_banned_with_its_reason(web: WebGateway) -> None:
    session = await web.linked()
    session.emit(library.proto("pb.TemporaryBan")(Code=1, Expire=3600))
    state = await web.state(want="banned")
    assert "too many people" in state["error"]


async def test_stream_replaced_stops_retrying(web: WebGateway) -> None:
    session = await web.linked()
    runs = len(web.world.created)
    session.emit(library.proto("pb.StreamReplaced")())
    state = await web.state(want="disconnected")
    assert "stream replaced" in state["error"]
    assert len(web.world.created) == runs


async def test_connect_failure_logged_out_reason_is_logged_out(web: WebGateway) -> None:
    session = await web.linked()
    session.emit(library.proto("pb.ConnectFailure")(Reason=2, Message="401"))
    await web.state(want="logged_out")


async def test_client_outdated_is_failed(web: WebGateway) -> None:
    session = await web.linked()
    session.emit(library.proto("pb.ClientOutdated")())
    state = await web.state(want="failed")
    assert "update neonize" in state["error"]


async def test_without_a_network_the_session_is_disconnected_and_backs_off(web: WebGateway) -> None:
    web.world.unreachable = "cannot reach web.whatsapp.com:443: no such host"
    await web.create()
    state = await web.state(want="disconnected")
    assert "no such host" in state["error"]
    first = len(web.world.created)
    import asyncio

    await asyncio.sleep(1.0)
    # Backoff: at most one more attempt within the first second, not a busy loop.
    assert len(web.world.created) - first <= 1


async def test_pairing_code_for_a_phone(web: WebGateway) -> None:
    channel_id = await web.create()
    await web.state(want="pairing")
    response = await web.client.post("/v1/channels/wa/session/pairing-code", json={"phone": "+7 (900) 123-45-67"})
    assert response.status_code == 200, response.text
    assert response.json()["code"].startswith("FAKE")
    assert ("pair_phone", "79001234567") in web.world.session(channel_id).calls


async def test_pairing_code_for_an_invalid_phone_is_422_naming_phone(web: WebGateway) -> None:
    await web.create()
    for body in ({"phone": "12"}, {}, {"phone": "not a phone"}):
        response = await web.client.post("/v1/channels/wa/session/pairing-code", json=body)
        assert response.status_code == 422, body
        assert response.json()["error"]["field"] == "phone"


async def test_session_endpoints_on_another_kind_are_not_supported(web: WebGateway) -> None:
    assert (await web.client.post("/v1/channels", json={"name": "mem", "kind": "memory"})).status_code == 201
    for method, path in (
        ("GET", "/v1/channels/mem/session"),
        ("POST", "/v1/channels/mem/session/logout"),
        ("POST", "/v1/channels/mem/session/restart"),
    ):
        response = await web.client.request(method, path)
        assert response.status_code == 422, path
        assert response.json()["error"]["code"] == "not_supported"
    response = await web.client.post("/v1/channels/mem/session/pairing-code", json={"phone": "79001234567"})
    assert response.json()["error"]["code"] == "not_supported"


async def test_a_library_that_cannot_load_fails_the_channel_and_nothing_else(web: WebGateway) -> None:
    def broken(_spec: Any) -> Any:
        raise library.LibraryUnavailable("neonize cannot be loaded: OSError: GLIBC_2.32 not found")

    web.rt.extras["web_sessions"].factory = broken
    await web.create(wait=False)
    state = await web.state(want="failed")
    assert "GLIBC" in state["error"]
    assert (await web.client.get("/healthz")).status_code == 200
    response = await web.client.post("/v1/messages", json={"channel": "wa", "to": "79001234567", "text": "hi"})
    assert response.status_code == 202


async def test_the_wamm_door_sees_a_linked_number_as_authorized_until_it_logs_out(web: WebGateway) -> None:
    from wagate.api.compat.wamm import channel_authorized

    await web.create()
    await web.state(want="pairing")
    row = (await web.rt.channels_of(1, fresh=True))["wa"]
    assert await channel_authorized(web.rt, row) == "channel_not_connected"
    session = web.world.session(row.id)
    session.pair("79001110000")
    await web.state(want="connected")
    assert await channel_authorized(web.rt, row) is None
    session.drop()
    await web.state(want="disconnected")
    assert await channel_authorized(web.rt, row) is None  # messages wait for the reconnect
    session.emit(library.proto("pb.LoggedOut")(OnConnect=False, Reason=2))
    await web.state(want="logged_out")
    assert await channel_authorized(web.rt, row) == "channel_not_connected"


async def test_a_linked_device_lost_from_the_store_asks_to_pair_again(web: WebGateway) -> None:
    web.rt.extras["web_sessions"].check_store = True  # the fake keeps no whatsmeow store
    await web.linked()
    assert (await web.client.post("/v1/channels/wa/session/restart")).status_code == 200
    state = await web.state(want="logged_out")
    assert "gone from the device store" in state["error"]
