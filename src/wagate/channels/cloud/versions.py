"""Graph API versions: which one a cloud channel speaks by default, and when Meta retires each.

Meta publishes a release and an expiration date for every Graph API version
(https://developers.facebook.com/docs/graph-api/changelog/versions/): a version lives about
two years after its successor ships, and after its expiration date every call made with it
fails. A channel whose ``settings.api_version`` is retired stops sending, so wagate warns
early: ``/readyz``, the log at start and the dashboard name every channel whose version
retires within ``WARN_DAYS`` days (or already has).

The table below is copied from Meta's page as published (2026-07-29: v26.0 released, its
expiration to be announced when v27.0 ships). ``None`` means "not announced": such a
version is not warned about. Update the table when Meta publishes a new version; the
default moves to the newest version whose release is in Meta's table.

``DEFAULT_API_VERSION`` is what a channel without ``settings.api_version`` uses; a channel
may pin another version (``PATCH /v1/channels/{name}`` with ``settings.api_version``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

#: Warn when a channel's version retires within this many days.
WARN_DAYS = 60

#: version → (release date, expiration date or None while Meta has not announced one).
VERSIONS: dict[str, tuple[date, date | None]] = {
    "v26.0": (date(2026, 7, 29), None),
    "v25.0": (date(2026, 2, 18), date(2028, 7, 29)),
    "v24.0": (date(2025, 10, 8), date(2028, 2, 18)),
    "v23.0": (date(2025, 5, 29), date(2027, 10, 8)),
    "v22.0": (date(2025, 1, 21), date(2027, 5, 20)),
    "v21.0": (date(2024, 10, 2), date(2027, 1, 21)),
    "v20.0": (date(2024, 5, 21), date(2026, 9, 24)),
    "v19.0": (date(2024, 1, 23), date(2026, 5, 21)),
    "v18.0": (date(2023, 9, 12), date(2026, 1, 26)),
    "v17.0": (date(2023, 5, 23), date(2025, 9, 12)),
    "v16.0": (date(2023, 2, 2), date(2025, 5, 14)),
}

DEFAULT_API_VERSION = "v26.0"
VERSION_RE = re.compile(r"^v(\d{1,3})\.(\d{1,2})$")


def parse_version(value: str) -> tuple[int, int] | None:
    match = VERSION_RE.match(value)
    return (int(match.group(1)), int(match.group(2))) if match else None


@dataclass(frozen=True, slots=True)
class VersionNotice:
    """What wagate knows about one version on one day."""

    version: str
    retires_on: date | None
    days_left: int | None
    state: str  # current | retiring | retired | unknown

    @property
    def warns(self) -> bool:
        return self.state in ("retiring", "retired")

    def message(self) -> str:
        if self.state == "retired":
            return f"Graph API {self.version} was retired by Meta on {self.retires_on}: every call fails; move to {DEFAULT_API_VERSION}"
        if self.state == "retiring":
            return (
                f"Graph API {self.version} is retired by Meta on {self.retires_on} "
                f"({self.days_left} days left); move to {DEFAULT_API_VERSION}"
            )
        if self.state == "unknown":
            return f"Graph API {self.version} is not in wagate's version table"
        return f"Graph API {self.version} is current"

    def as_json(self) -> dict[str, object]:
        return {
            "version": self.version,
            "retires_on": self.retires_on.isoformat() if self.retires_on else None,
            "days_left": self.days_left,
            "state": self.state,
            "message": self.message(),
        }


def notice(version: str, today: date) -> VersionNotice:
    """The retirement state of ``version`` on ``today``.

    A version missing from the table is ``retired`` when it is older than the oldest one
    listed (Meta has retired it long ago), ``unknown`` otherwise (a newer version than
    this build knows: not warned about).
    """
    known = VERSIONS.get(version)
    if known is None:
        parsed = parse_version(version)
        oldest = min(p for p in (parse_version(v) for v in VERSIONS) if p is not None)
        if parsed is not None and parsed < oldest:
            return VersionNotice(version, None, None, "retired")
        return VersionNotice(version, None, None, "unknown")
    retires_on = known[1]
    if retires_on is None:
        return VersionNotice(version, None, None, "current")
    days_left = (retires_on - today).days
    if days_left <= 0:
        return VersionNotice(version, retires_on, days_left, "retired")
    if days_left <= WARN_DAYS:
        return VersionNotice(version, retires_on, days_left, "retiring")
    return VersionNotice(version, retires_on, days_left, "current")
