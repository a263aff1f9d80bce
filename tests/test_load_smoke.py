"""bench/load_test.py with a few users: the real bot passes every check of the load script."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent


def test_ten_users_onboard_and_check_in_at_once(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "load_test.py"),
            "--users",
            "10",
            "--latency",
            "0.02",
        ],
        env={**os.environ, "TMPDIR": str(tmp_path)},  # the script's data folder lands here
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"users completed\s+10 / 10", result.stdout), output
    assert result.stdout.count("[ok]") == 6, output
    assert "FAIL" not in result.stdout, output
