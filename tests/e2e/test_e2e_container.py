"""The container image end to end: built from the Dockerfile, run as the README says.

Needs a container engine that can run containers (docker or podman) and the base image
(pulled, or already there). Skipped, saying which of them is missing, where there is none; the
Dockerfile is still read and linted by tests/deploy on every run.

FOCUS_COACH_TEST_BASE_IMAGE names another base image for machines that cannot reach Docker Hub
(say a local Debian bookworm image with python3.11 as `python`); it is passed as the build
argument PYTHON_IMAGE.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from importlib.metadata import version
from pathlib import Path

import pytest
from e2e_bot import assert_token_hidden
from fakebotapi import FakeTelegram

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BASE = "python:3.11-slim-bookworm"
BUILD_TIMEOUT = 900
START_TIMEOUT = 60


def engine() -> str:
    """The first of docker and podman whose engine answers; skip, saying why, if none does."""
    tried: list[str] = []
    for name in ("docker", "podman"):
        path = shutil.which(name)
        if path is None:
            tried.append(f"{name}: not installed")
            continue
        probe = subprocess.run(
            [path, "info"], capture_output=True, text=True, timeout=60, check=False
        )
        if probe.returncode == 0:
            return path
        last = (probe.stderr.strip().splitlines() or ["no output"])[-1]
        tried.append(f"{name}: `{name} info` failed ({last})")
    pytest.skip("no container engine can run here: " + "; ".join(tried))


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, check=False)


def base_image(tool: str) -> str:
    """The base image to build on, pulled if needed; skip if it cannot be had."""
    base = os.environ.get("FOCUS_COACH_TEST_BASE_IMAGE", DEFAULT_BASE)
    if run(tool, "image", "inspect", base).returncode == 0:
        return base
    pulled = run(tool, "pull", base, timeout=600)
    if pulled.returncode != 0:
        last = (pulled.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(
            f"{Path(tool).name} runs, but the base image {base} cannot be pulled ({last}); "
            "set FOCUS_COACH_TEST_BASE_IMAGE to a local one"
        )
    return base


def build_image(tool: str, base: str, tag: str) -> None:
    # podman writes OCI images by default, which drop HEALTHCHECK; docker's format keeps it.
    format_option = ["--format", "docker"] if Path(tool).name == "podman" else []
    build = run(
        tool,
        "build",
        *format_option,
        "--build-arg",
        f"PYTHON_IMAGE={base}",
        "--build-arg",
        "VERSION=test",
        "--tag",
        tag,
        str(ROOT),
        timeout=BUILD_TIMEOUT,
    )
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]


def test_the_image_builds_answers_and_runs_the_bot_as_the_readme_says(tmp_path: Path) -> None:
    # One test, one build: the build is most of the time, and split tests could build twice
    # on two workers at once.
    tool = engine()
    base = base_image(tool)
    tag = f"localhost/focus-coach-test:{uuid.uuid4().hex[:12]}"
    build_image(tool, base, tag)
    try:
        image_answers_version_check_and_health(tool, tag)
        container_runs_the_bot_and_stops_cleanly_on_sigterm(tool, tag, tmp_path)
    finally:
        run(tool, "image", "rm", "--force", tag)


def image_answers_version_check_and_health(tool: str, tag: str) -> None:
    shown = run(tool, "run", "--rm", tag, "--version")
    assert (shown.returncode, shown.stdout.strip()) == (0, f"focus-coach {version('focus-coach')}")

    checked = run(tool, "run", "--rm", tag, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # No bot has run on this fresh volume: no heartbeat, unhealthy, one line that says so.
    health = run(tool, "run", "--rm", tag, "health", "--data-dir", "/data")
    assert health.returncode == 1, health.stdout + health.stderr
    assert len(health.stdout.strip().splitlines()) == 1

    inspected = run(
        tool,
        "image",
        "inspect",
        "--format",
        "{{.Config.User}}|{{.Config.StopSignal}}|{{json .Config.Healthcheck.Test}}",
        tag,
    )
    user, stop_signal, healthcheck = inspected.stdout.strip().split("|")
    assert (user, stop_signal) == ("10001:10001", "SIGTERM")
    assert healthcheck == '["CMD","focus-coach","health","--data-dir","/data"]'


def container_runs_the_bot_and_stops_cleanly_on_sigterm(
    tool: str, tag: str, tmp_path: Path
) -> None:
    with FakeTelegram() as tg:
        token_file = tmp_path / "telegram_bot_token"
        token_file.write_text(tg.token + "\n")
        token_file.chmod(0o644)  # the container's user is not the test's
        name = f"focus-coach-test-{uuid.uuid4().hex[:12]}"
        started = run(
            tool,
            "run",
            "--detach",
            "--name",
            name,
            # The fake Bot API listens on the host's loopback.
            "--network",
            "host",
            "--mount",
            "type=volume,target=/data",
            "--volume",
            f"{token_file}:/run/secrets/telegram_bot_token:ro",
            "--env",
            f"TELEGRAM_BASE_URL={tg.base_url}",
            tag,
        )
        assert started.returncode == 0, started.stderr
        try:
            try:
                tg.wait_for_request("getUpdates", timeout=START_TIMEOUT)
            except AssertionError:
                logs = run(tool, "logs", name)
                raise AssertionError(
                    f"the bot did not poll:\n{logs.stdout}{logs.stderr}"
                ) from None
            healthy = run(tool, "exec", name, "focus-coach", "health", "--data-dir", "/data")
            assert healthy.returncode == 0, healthy.stdout + healthy.stderr

            stopped = time.monotonic()
            assert run(tool, "stop", "--time", "90", name, timeout=120).returncode == 0
            took = time.monotonic() - stopped
            code = run(tool, "inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
            logs = run(tool, "logs", name)
            assert code == "0", logs.stdout + logs.stderr
            assert took < 30, f"SIGTERM took {took:.1f} s to stop an idle bot"
            assert_token_hidden(logs.stdout + logs.stderr, tg.token)
        finally:
            run(tool, "rm", "--force", "--volumes", name)
