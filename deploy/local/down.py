"""`make down`: stop a stack that `make up` runs in another terminal."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

PID_FILE = Path(".data") / "up.pid"


def main() -> None:
    if not PID_FILE.exists():
        print("Dealflow is not running (no .data/up.pid).")
        return
    pid = int(PID_FILE.read_text())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        PID_FILE.unlink(missing_ok=True)
        print("Dealflow was not running (stale pid file removed).")
        return
    for _ in range(300):
        if not PID_FILE.exists():
            break
        time.sleep(0.1)
    print("Dealflow stopped.")


if __name__ == "__main__":
    main()
