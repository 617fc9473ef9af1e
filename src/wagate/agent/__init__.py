"""The Android device agent (``wagate agent``): a phone running WhatsApp, driven over adb.

The loop (``loop.Agent``) speaks the device protocol (``/device/v1``) and does what the hosted services'
Automagic flow did by hand: ask for the next message, open the chat with a ``wa.me`` link,
wait for the input field, type, press send, report; forward new WhatsApp notifications; keep
the screen awake. The UI steps sit behind ``driver.Driver``: ``Uiautomator2Driver`` drives a
real phone or emulator (extra ``wagate[agent]``), ``FakeDevice`` models WhatsApp's screens
for the test suite.
"""

from wagate.agent.driver import Driver, DriverError, Notification, PhoneStatus
from wagate.agent.loop import Agent, AgentConfig

__all__ = ["Agent", "AgentConfig", "Driver", "DriverError", "Notification", "PhoneStatus"]
