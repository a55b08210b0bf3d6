"""The table printed at the end of `make bench`, and tests/bench/results.json."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.bench.stats import Figure, Spread

RESULTS = Path(__file__).with_name("results.json")


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gb": round(mem_gb, 1),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "commit": commit,
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _num(value: float) -> str:
    if value != value:  # NaN
        return "-"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _spread(s: Spread | None) -> str:
    if s is None:
        return ""
    return f"{_num(s.median)} [{_num(s.min)}–{_num(s.max)}]"


def table(figures: list[Figure]) -> str:
    header = ("bench", "figure", "unit", "ours median [min–max]", "baseline", "ratio", "target")
    rows = [header]
    for f in figures:
        ratio = "" if f.ratio is None else f"{f.ratio:.2f}"
        target = f.target
        if f.met is not None:
            target = f"{'ok' if f.met else 'MISS'} {target}".strip()
        rows.append((f.bench, f.name, f.unit, _spread(f.value), _spread(f.baseline), ratio, target))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write(figures: list[Figure], info: dict[str, Any], path: Path = RESULTS) -> None:
    data = {"machine": info, "figures": [f.to_json() for f in figures]}
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
