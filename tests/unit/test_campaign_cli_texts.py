"""What ``wagate campaign run`` says while it waits and when it sums up."""

from __future__ import annotations

from wagate.cli.campaign import awaiting_receipts, waiting_line


def test_a_waiting_campaign_says_why_and_until_when() -> None:
    campaign = {"waiting": {"reason": "window", "until": "2026-12-08T10:00:00+03:00"}}
    assert waiting_line(campaign) == "outside the sending window; sends again at 2026-12-08T10:00:00+03:00"
    assert waiting_line({"waiting": {"reason": "daily_cap_exceeded", "until": None}}) == "the daily cap is reached"
    assert waiting_line({"waiting": None}) == ""


def test_receipts_still_awaited_are_sent_minus_delivered() -> None:
    assert awaiting_receipts({"sent": 5, "delivered": 3}) == 2
    assert awaiting_receipts({"sent": 2, "delivered": 2}) == 0
