"""The transport benchmark runs at all (``python -m bench.transport_cpu`` at a tiny size).

Nothing here looks at a figure: performance is measured by the benchmark, never asserted.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.e2e


def test_the_transport_bench_prints_a_row_per_transport() -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "bench.transport_cpu", "--runs", "1", "--messages", "20"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )

    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "| PTB over httpx |" in finished.stdout
    assert "| PTB over aiohttp |" in finished.stdout
