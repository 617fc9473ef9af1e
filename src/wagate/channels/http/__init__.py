"""The ``http`` channel kind: deliver each message as a JSON POST to a URL you run (a generic webhook).

See ``channel.HttpChannel`` and docs/channels.md.
"""

from wagate.channels.http.channel import HttpChannel, http_factory

__all__ = ["HttpChannel", "http_factory"]
