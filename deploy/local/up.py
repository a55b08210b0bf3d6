"""`make up`: start the whole stack in the foreground; Ctrl-C stops it cleanly."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

from deploy.local.demo import failure, run_demo
from deploy.local.stack import Ports, Stack

DATA = Path(".data")


def main() -> None:
    smtp = int(os.environ.get("DEALFLOW_SMTP_INTAKE_PORT", "2525"))
    sink = int(os.environ.get("DEALFLOW_MAIL_SINK_PORT", "2526"))
    stack = Stack(DATA, ports=Ports(smtp_intake=smtp, mail_sink=sink))
    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        stack.start(timeout=180)
    except Exception as exc:
        print(f"\nDealflow failed to start: {exc}", file=sys.stderr)
        sys.exit(1)
    demo = os.environ.get("DEALFLOW_DEMO", "")
    if demo:
        try:
            admin = (stack.admin_email, stack.admin_password)
            print(run_demo(stack.gateway_url, admin, demo, DATA), flush=True)
        except Exception as exc:  # the stack stays up; the demo's failure is said and kept
            print(failure(exc), file=sys.stderr, flush=True)
    ui = stack.temporal_ui_url or f"(external Temporal at {stack.temporal_address})"
    print(
        "\n"
        "Dealflow is up.\n"
        f"  the board         {stack.gateway_url}/app/\n"
        f"  REST API + docs   {stack.gateway_url}/docs\n"
        f"  Temporal web UI   {ui}\n"
        f"  NATS              {stack.nats_url}\n"
        f"  SMTP intake       smtp://127.0.0.1:{stack.ports.smtp_intake} (mail becomes leads)\n"
        f"  mail sink         smtp://127.0.0.1:{stack.ports.mail_sink} (e-mail sent out, logged)\n"
        f"  PostgreSQL        {stack.database_url}\n"
        f"  admin login       {stack.admin_email} / {stack.admin_password}\n"
        "Ctrl-C (or `make down`) stops everything; data stays in .data/.\n",
        flush=True,
    )
    while not stopping.wait(0.5):
        for proc in stack.processes:
            if proc.popen is not None and proc.popen.poll() is not None:
                print(f"{proc.name} exited with code {proc.popen.returncode}; stopping")
                stopping.set()
    print("stopping Dealflow ...", flush=True)
    stack.stop()


if __name__ == "__main__":
    main()
