"""Fixtures of the security tests: the dashboard's desk (a gateway with the dashboard plug-in)."""

from tests.dashboard.conftest import desk, desk_sqlite

__all__ = ["desk", "desk_sqlite"]
