"""The core's own hooks, installed on every node by ``create_app`` (docs/architecture.md, "Hooks").

The invariants that ride on the transactions storing messages belong to the core, whatever
plug-ins a node runs: the policy (opt-out keywords on inbound messages, the service-window
re-check before a send) and conversations agreeing with their messages. Plug-ins add their own
hooks when they start (the dashboard's live updates, the webhook fan-out, automations, the
campaign runner); ``Hooks`` in ``wagate.runtime`` lists every extension point.
"""

from __future__ import annotations

from wagate.runtime import Runtime
from wagate.services import conversations, policy


def install_core(rt: Runtime) -> None:
    """Register the core's hooks on a fresh runtime (once)."""
    hooks = rt.hooks
    hooks.inbound.append(policy.optout_hook)  # "STOP" and friends withdraw consent, in the same transaction
    hooks.inbound.append(conversations.inbound_hook)  # an inbound message opens or updates its conversation
    hooks.outbound.append(conversations.outbound_hook)  # operator replies and sends update conversations
    hooks.send_guards.append(policy.window_guard)  # the 24-hour window is checked again just before a send
