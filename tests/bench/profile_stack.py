"""What the profile drivers (profile_answers.py, profile_reads.py) share: a stack started
as `make bench` starts it, CPU per operation of each process, py-spy on some of them."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Coroutine, Iterable
from pathlib import Path
from typing import Any

from deploy.local.stack import Ports, Stack
from tests.bench import resources
from tests.bench.httpload import LoadGenerator
from tests.bench.run import _clean_env


def run_on_stack(main: Callable[[Stack, LoadGenerator], Coroutine[Any, Any, None]]) -> None:
    data = Path(tempfile.mkdtemp(prefix="dealflow-profile-"))
    stack = Stack(
        data, ports=Ports.free(), environ=_clean_env(), headless=True, log_dir=data / "logs"
    )
    load = LoadGenerator()
    try:
        stack.start(timeout=180)
        asyncio.run(main(stack, load))
    finally:
        load.close()
        stack.stop()
        shutil.rmtree(data, ignore_errors=True)


def cpu_table(what: str, before: dict[str, float], after: dict[str, float], count: int) -> None:
    """CPU ms per operation of each process that spent any, and of all."""
    spent = resources.cpu_delta(before, after)
    for name, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        if seconds > 0:
            print(f"  CPU per {what} {name:14s} {seconds / count * 1000:8.3f} ms")
    print(f"  CPU per {what} {'all':14s} {sum(spent.values()) / count * 1000:8.3f} ms")


def spy(
    pids: dict[str, int], names: Iterable[str], out: Path, phase: str
) -> list[subprocess.Popen[bytes]]:
    """py-spy (raw output, 200 Hz, not pausing the process) on each named process."""
    out.mkdir(parents=True, exist_ok=True)
    py_spy = str(Path(sys.executable).with_name("py-spy"))
    return [
        subprocess.Popen(
            [py_spy, "record", "--nonblocking", "-r", "200", "-d", "600", "-f", "raw"]
            + ["-o", str(out / f"{phase}_{name}.txt"), "-p", str(pids[name])],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name in names
    ]


def stop(spies: list[subprocess.Popen[bytes]]) -> None:
    for process in spies:
        process.send_signal(signal.SIGINT)
    for process in spies:
        process.wait()
