"""Loading neonize (whatsmeow compiled into a shared library), the only place it is imported.

Importing neonize loads a Go shared library with ctypes. That can fail on a machine the
wheel does not fit (an old glibc, another CPU architecture): ``load`` turns any such failure
into ``LibraryUnavailable`` with the cause, so the channel shows ``failed`` and the rest of
the node carries on. neonize also configures the root logger and leaks two pipes at import;
both are undone or silenced here.
"""

from __future__ import annotations

import importlib
import io
import logging
import os
import subprocess
import threading
import warnings
from types import ModuleType
from typing import Any

_lock = threading.Lock()
_loaded: dict[str, ModuleType] = {}
_failure: list[str] = []

#: The neonize modules the web channel uses, by short name.
MODULES = {
    "client": "neonize.client",
    "events": "neonize.events",
    "pb": "neonize.proto.Neonize_pb2",
    "e2e": "neonize.proto.waE2E.WAWebProtobufsE2E_pb2",
    "common": "neonize.proto.waCommon.WACommon_pb2",
    "enum": "neonize.utils.enum",
}


def _closing_popen(cmd: str, mode: str = "r", buffering: int = -1) -> io.StringIO:
    """``os.popen`` for neonize's import (it asks ``uname -a``), without a pipe left open."""
    done = subprocess.run(cmd, shell=True, capture_output=True, text=True, check=False, timeout=10)
    return io.StringIO(done.stdout)


class LibraryUnavailable(RuntimeError):
    """neonize (or its compiled core) cannot be loaded on this machine."""


def load() -> dict[str, ModuleType]:
    """The neonize modules, imported once per process; ``LibraryUnavailable`` if they cannot be."""
    with _lock:
        if _loaded:
            return _loaded
        if _failure:
            raise LibraryUnavailable(_failure[0])
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        real_popen = os.popen
        os.popen = _closing_popen  # type: ignore[assignment]  # neonize's import leaks an os.popen pipe
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                modules = {short: importlib.import_module(name) for short, name in MODULES.items()}
        except Exception as exc:  # OSError from ctypes, RuntimeError from a version check, ImportError …
            _failure.append(f"neonize cannot be loaded: {type(exc).__name__}: {exc}"[:500])
            raise LibraryUnavailable(_failure[0]) from exc
        finally:
            os.popen = real_popen
            # neonize calls logging.basicConfig(level=INFO) at import: give the node its logging back.
            root.handlers[:] = handlers
            root.setLevel(level)
        # whatsmeow's own log goes to these loggers; it is chatty below WARNING.
        for name in ("whatsmeow", "Whatsmeow", "neonize"):
            logging.getLogger(name).setLevel(logging.WARNING)
        _loaded.update(modules)
        return _loaded


def proto(name: str) -> Any:
    """A protobuf class by ``module.Class`` short name, e.g. ``e2e.Message`` or ``pb.JID``."""
    module, cls = name.split(".", 1)
    return getattr(load()[module], cls)
