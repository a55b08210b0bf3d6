"""Figures: percentiles of one run, and the median (with min and max) over several runs."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation; NaN for no samples."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Spread:
    """The median of several runs' values, with their min and max."""

    median: float
    min: float
    max: float
    runs: int

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        if not values:
            nan = float("nan")
            return cls(nan, nan, nan, 0)
        return cls(statistics.median(values), min(values), max(values), len(values))


@dataclass
class Figure:
    """One reported figure: ours against the baseline measured in the same run.

    `ratio` is always ours / baseline; `better` says which direction is good, so a latency
    ratio of 2.0 means "twice as slow as the bare engine" and a rate ratio of 0.5 "half"."""

    bench: str
    name: str
    unit: str
    value: Spread
    baseline: Spread | None = None
    baseline_name: str = ""
    better: str = "lower"  # or "higher"
    target: str = ""
    met: bool | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or not self.baseline.median:
            return None
        return self.value.median / self.baseline.median

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = self.ratio
        return data


def per_run(runs: list[list[float]], q: float) -> Spread:
    """The q-th percentile of each run, summarised over the runs."""
    return Spread.of([percentile(r, q) for r in runs if r])


def ms(seconds: list[float]) -> list[float]:
    return [s * 1000 for s in seconds]
