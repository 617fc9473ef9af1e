"""Retry strategy: exponential backoff with full jitter, bounded attempts."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    base_seconds: float = 2.0
    cap_seconds: float = 600.0

    def delay(self, attempt: int, hint: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1``; a provider's own hint wins if longer."""
        ceiling = min(self.cap_seconds, self.base_seconds * (2 ** max(0, attempt - 1)))
        jittered = (rng or random).uniform(ceiling / 2, ceiling)
        return max(jittered, hint or 0.0)

    def exhausted(self, attempt: int) -> bool:
        return attempt >= self.max_attempts
