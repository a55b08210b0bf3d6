"""Fault points for the fault tests: a named place where a process kills itself (SIGKILL),
to test what survives a death exactly there. A point fires when the file named by
`DEALFLOW_FAULTS_FILE` lists it; the file is removed first, so it fires once. Production
never sets the variable: the check is then one environment look-up."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

ENV = "DEALFLOW_FAULTS_FILE"


def fault_point(name: str) -> None:
    path = os.environ.get(ENV)
    if not path:
        return
    try:
        armed = Path(path).read_text().split()
    except OSError:
        return
    if name in armed:
        with contextlib.suppress(OSError):
            Path(path).unlink()
        os.kill(os.getpid(), signal.SIGKILL)
