"""Small statistics helpers: percentiles of latency samples, the spread of a figure over runs."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["Spread", "percentile"]


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` 0.5 = median, 0.99 = 99th) of ``samples``."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Spread:
    """One figure over several runs: the least, the median (of two runs: their mean), the most."""

    low: float
    median: float
    high: float
    runs: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        """The spread of one figure measured once per run."""
        if not values:
            raise ValueError("no runs")
        return cls(min(values), statistics.median(values), max(values), len(values))

    def format(self, number: Callable[[float], str]) -> str:
        """``min / median / max``, each through ``number``; one run: its value alone."""
        if self.runs == 1:
            return number(self.median)
        return " / ".join(number(value) for value in (self.low, self.median, self.high))
