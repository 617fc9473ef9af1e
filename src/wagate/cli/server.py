"""The uvicorn server of ``wagate serve``, told to end long-lived responses when it stops."""

from __future__ import annotations

from types import FrameType

import uvicorn


class StoppingServer(uvicorn.Server):
    """On SIGINT/SIGTERM, first run the runtime's ``stopping_callbacks`` (the dashboard ends its
    event streams), so a graceful shutdown need not wait for every open browser to hang up.

    Callbacks run in the signal handler: they must only schedule work (``call_soon_threadsafe``).
    """

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        runtime = getattr(getattr(self.config.app, "state", None), "runtime", None)
        hooks = getattr(runtime, "hooks", None)
        for callback in list(hooks.stopping if hooks is not None else ()):
            callback()
        super().handle_exit(sig, frame)
