"""The crash test of bench/crash_test.py, shorter: SIGKILL mid-answer loses nothing acknowledged.

It runs as its own process (it forks the children it kills, which is safe only in a process
without threads), on a data folder of this test, with a fixed seed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from bot.core.state import UserState
from storage import TinyDBUserRepository

ROOT = Path(__file__).resolve().parents[2]
KILLS = 60


def test_sigkill_at_random_instants_loses_no_acknowledged_answer(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"

    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "crash_test.py"),
            f"--kills={KILLS}",
            "--users=3",
            "--seed=6",
            f"--data-dir={data_dir}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(rf"^kills: {KILLS} \(", result.stdout, re.MULTILINE), result.stdout
    figures = re.search(
        r"^acknowledged answers: (\d+),.*^verified answers: (\d+) .*\(\+ (\d+) check-in answers",
        result.stdout,
        re.MULTILINE | re.DOTALL,
    )
    assert figures is not None, result.stdout
    acknowledged, verified, too_old = map(int, figures.groups())
    assert verified + too_old == acknowledged
    # Kills land mid-work: a kill after start-up (nine in ten) waits for its child's first
    # acknowledged answer, however slow the machine, so answers pile up between kills.
    assert acknowledged >= KILLS // 2
    assert "torn documents: 0" in result.stdout
    # And seen from here: every user's document opens and holds their onboarding answers.
    with TinyDBUserRepository(data_dir) as repo:
        users = [UserState.from_document(repo.get(uid) or {}) for uid in sorted(repo.user_ids())]
    onboardings = [user.onboarding() for user in users]
    assert len(onboardings) == 3
    assert all(dialogue is not None and dialogue.answers for dialogue in onboardings)
