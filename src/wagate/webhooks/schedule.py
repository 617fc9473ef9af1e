"""The retry schedule of a delivery: explicit delays with jitter, then the dead-letter list.

An explicit list (rather than ``base * 2**n``) lets operators read and tune the whole curve in
one setting; the default grows roughly exponentially from seconds to 12 hours and spans ≈ 40 h.
Jitter spreads the retries of many deliveries that failed together (a receiver's outage), so
they do not come back as one thundering herd.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from wagate.config import DEFAULT_WEBHOOK_RETRY_SCHEDULE


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    delays: tuple[float, ...] = tuple(DEFAULT_WEBHOOK_RETRY_SCHEDULE)
    jitter: float = 0.2
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    @classmethod
    def of(cls, delays: Sequence[float], jitter: float = 0.2, rng: random.Random | None = None) -> RetrySchedule:
        return cls(tuple(float(d) for d in delays), jitter, rng or random.Random())

    @property
    def max_attempts(self) -> int:
        """The first try plus one retry per delay."""
        return len(self.delays) + 1

    def next_delay(self, attempts_made: int) -> float | None:
        """Seconds until the next try after ``attempts_made`` failed tries; ``None``: give up."""
        if attempts_made < 1 or attempts_made > len(self.delays):
            return None
        base = self.delays[attempts_made - 1]
        if not self.jitter:
            return base
        return base * self.rng.uniform(1.0 - self.jitter, 1.0 + self.jitter)

    @property
    def shortest_span(self) -> float:
        """The least time between the first try and the last one, whatever the jitter draws."""
        return sum(self.delays) * (1.0 - self.jitter)
