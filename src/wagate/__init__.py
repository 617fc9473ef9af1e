"""wagate: a self-hosted WhatsApp gateway for CRMs.

One API and a durable queue in front of interchangeable delivery channels
(Meta's Cloud API with its built-in simulator, an Android device, WhatsApp Web).
"""

__version__ = "0.1.0"
