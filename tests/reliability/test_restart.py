"""The restart test of bench/restart_test.py, shorter: the real chat and bot, SIGKILLed and
started again, lose nothing acknowledged and resume at the same question.

It runs the bench as its own process (which starts the real ``focus-coach chat`` and
``focus-coach run`` processes, the latter against the fake Bot API) with a fixed seed and a few
kills of each; the kill instants still vary with the machine's speed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.state import UserState
from storage import TinyDBUserRepository

ROOT = Path(__file__).resolve().parents[2]
KILLS = 6

pytestmark = pytest.mark.e2e


def figures(stdout: str, mode: str) -> dict[str, int]:
    """The numbers the bench printed for ``mode``."""
    block = stdout.split(f"mode {mode}: ", 1)[1].split("\nmode ", 1)[0]
    patterns = {
        "kills": r"^(\d+) kills \(",
        "acknowledged": r"acknowledged answers: (\d+);",
        "lost": r"; lost: (\d+)",
        "resumed": r"resumed at the same question: (\d+) / \d+",
        "restarts": r"resumed at the same question: \d+ / (\d+)",
    }
    found = {name: re.search(pattern, block, re.MULTILINE) for name, pattern in patterns.items()}
    assert all(found.values()), stdout
    return {name: int(match.group(1)) for name, match in found.items() if match}


def test_killed_chat_and_bot_resume_at_the_same_question_with_nothing_lost(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"

    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "restart_test.py"),
            "--mode=both",
            f"--kills={KILLS}",
            "--seed=11",
            "--max-life=0.5",
            f"--data-dir={data_dir}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    for mode in ("chat", "run"):
        numbers = figures(result.stdout, mode)
        assert numbers["kills"] == KILLS
        assert numbers["lost"] == 0
        assert numbers["acknowledged"] > KILLS
        assert numbers["resumed"] == numbers["restarts"] > 0
    # And seen from here: each store opens and holds the user's onboarding answers.
    for mode in ("chat", "run"):
        with TinyDBUserRepository(data_dir / mode) as repo:
            (user_id,) = repo.user_ids()
            user = UserState.from_document(repo.get(user_id) or {})
        onboarding = user.onboarding()
        assert onboarding is not None
        assert {"hours", "audiences", "goals"} <= set(onboarding.answers)
