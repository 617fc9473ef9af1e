"""The ``http`` channel kind: deliver each message as a JSON POST to a URL you run (a generic webhook).

See ``channel.HttpChannel`` and docs/channels.md. ``KIND`` describes the kind to the gateway.
"""

from wagate.channels.http.channel import HttpChannel, http_factory
from wagate.channels.kind import Capabilities, ChannelKind
from wagate.domain.channels import RELAXED_POLICY
from wagate.domain.pacing import PROVIDER_PACING

__all__ = ["KIND", "HttpChannel", "http_factory"]

KIND = ChannelKind(
    name="http",
    factory=http_factory,
    # The receiver may dedupe on the Idempotency-Key header, but wagate cannot know it does.
    capabilities=Capabilities(push=True, resend_safe=False),
    pacing=PROVIDER_PACING,
    # The other system owns WhatsApp's rules; wagate records consent warnings, refuses duplicates.
    policy=RELAXED_POLICY,
    secret_fields=("bearer_token",),
    description="each message POSTed as JSON to a URL you run",
)
