"""The benchmark commands run at all (``python -m bench --quick`` and the others, tiny sizes).

Nothing here looks at a figure: performance is measured by ``python -m bench``, never asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.e2e


def run_bench(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m MODULE ARGS`` from the repository; fails the test if it exits non-zero."""
    finished = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    return finished


def test_the_quick_benchmark_runs_and_prints_its_table(tmp_path: Path) -> None:
    raw = tmp_path / "figures.json"
    finished = run_bench(
        "bench",
        "--quick",
        "--sizes",
        "40",
        "--runs",
        "2",
        "--steps",
        "30",
        "--startup-runs",
        "1",
        "--due-users",
        "20",
        "--fanout-users",
        "20",
        "--fanout-runs",
        "1",
        "--fanout-due",
        "past-minute",
        "--chart-runs",
        "2",
        "--cache-dir",
        str(tmp_path),
        "--json",
        str(raw),
    )

    table = finished.stdout
    step_row = next(line for line in table.splitlines() if line.startswith("| Dialogue step, m"))
    assert step_row.count(" / ") == 2, step_row  # min / median / max of the two runs
    assert "| Lost / doubled, all runs | 0 / 0 |" in table
    assert "| Storage |" in table and "| Transport |" in table and "| Other |" in table
    assert "| Each chart after it: median / p95 of 2 (ms) |" in table
    figures = json.loads(raw.read_text())
    (size,) = figures["sizes"]
    assert len(size["runs"]) == 2
    (fanout,) = figures["fanouts"]
    # The bot process timed its calls: one sendMessage per check-in, the claims in the engine.
    assert fanout["cpu"]["keys_calls"]["transport:ExtBot.send_message"] == 20
    assert fanout["cpu"]["parts_seconds"]["storage"] > 0


def test_the_zone_lookup_bench_measures_both_modes() -> None:
    from bench.zone_lookup import install_sizes, measure

    assert install_sizes()["timezonefinder"] > 0
    figures = measure(20, in_memory=False)
    assert figures["first_zone"] == "Europe/Vienna"
    assert figures["runs"] == 20


def test_the_limited_fan_out_runs_at_each_round_trip(tmp_path: Path) -> None:
    finished = run_bench(
        "bench.limited_fanout",
        "--users",
        "20",
        "--latencies-ms",
        "10,60",
        "--cache-dir",
        str(tmp_path),
    )

    rows = [line for line in finished.stdout.splitlines() if line.startswith(("| 10 |", "| 60 |"))]
    assert len(rows) == 2, finished.stdout
    assert all("| 0 / 0 | 20 |" in row for row in rows), rows


def test_the_transport_bench_prints_a_row_per_transport() -> None:
    finished = run_bench("bench.transport_cpu", "--runs", "1", "--messages", "20")

    assert "| PTB over httpx |" in finished.stdout
    assert "| PTB over aiohttp |" in finished.stdout
