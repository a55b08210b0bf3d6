"""Resident memory and CPU time of each process of the stack.

A process's figure is the resident set of its whole process tree: PostgreSQL forks a backend
per connection and shares its buffers among them, so its tree is counted by PSS (shared
pages divided among the sharers) rather than by adding up RSS, which would count the shared
buffers once per backend."""

from __future__ import annotations

import psutil

from deploy.local.stack import Stack
from tests.bench.stats import Figure, Spread

LIMIT_MB = 250


def tree_mb(pid: int) -> tuple[float, float]:
    """(RSS of the process itself, PSS of its whole tree) in MB."""
    root = psutil.Process(pid)
    rss = root.memory_info().rss
    pss = 0
    for proc in [root, *root.children(recursive=True)]:
        try:
            pss += proc.memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return rss / 2**20, pss / 2**20


def snapshot(stack: Stack) -> dict[str, float]:
    """Resident MB of each process: its own RSS, or its tree's PSS where it has children."""
    found = {}
    for proc in stack.processes:
        if proc.popen is None or proc.popen.poll() is not None:
            continue
        rss, pss = tree_mb(proc.popen.pid)
        children = psutil.Process(proc.popen.pid).children(recursive=True)
        found[proc.name] = pss if children else rss
    return found


def pids(stack: Stack) -> dict[str, int]:
    return {
        p.name: p.popen.pid
        for p in stack.processes
        if p.popen is not None and p.popen.poll() is None
    }


def cpu_seconds(processes: dict[str, int]) -> dict[str, float]:
    """User + system CPU seconds used so far by each named process and its children."""
    found = {}
    for name, pid in processes.items():
        total = 0.0
        root = psutil.Process(pid)
        for proc in [root, *root.children(recursive=True)]:
            try:
                times = proc.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        found[name] = total
    return found


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: after[name] - before.get(name, 0.0) for name in after}


def report(figures: list[Figure], idle: dict[str, float], loaded: dict[str, float]) -> None:
    """One figure per process: MB after B1, with the idle MB as its baseline."""
    for name, after in loaded.items():
        before = idle.get(name)
        figures.append(
            Figure(
                "MEM",
                f"{name} resident after B1",
                "MB",
                Spread(after, after, after, 1),
                Spread(before, before, before, 1) if before is not None else None,
                "same process idle",
                target=f"≤ {LIMIT_MB} MB",
                met=after <= LIMIT_MB,
            )
        )
