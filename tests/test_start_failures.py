"""`focus-coach chat` and `run` on a data folder they cannot use: one line that says what to do.

The real CLI process is started each time (as an operator would meet it) and must end at once
with exit code 2, one line on stderr naming the file, and no traceback. `run` fails before it
contacts any Bot API, so no server is needed here (tests/e2e covers the running bot).
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from unreadable import needs_non_root

from bot.cli import main
from storage.lock import LOCK_FILE_NAME

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "7000000001:AALockTestTokenNeverSentAnywhere-0123"


def run_cli(command: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """``focus-coach COMMAND --data-dir DATA_DIR`` to its end (``run`` gets a token)."""
    env = {k: v for k, v in os.environ.items() if "TELEGRAM" not in k and "FOCUS" not in k}
    args = ["--data-dir", str(data_dir)]
    if command == "run":
        env["TELEGRAM_BOT_TOKEN"] = TOKEN
        args += ["--base-url", "http://127.0.0.1:9/bot"]  # never reached: the lock comes first
    return subprocess.run(
        [sys.executable, "-m", "bot", command, *args],
        input="/quit\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def lock_message(data_dir: Path, reason: str) -> str:
    return (
        f"focus-coach: cannot use the lock file {data_dir / LOCK_FILE_NAME}: {reason}. It only "
        f"marks the data folder as in use: if no focus-coach is running on {data_dir}, remove "
        "it (or let this user read and write it) and start again.\n"
    )


def make_mode_000(path: Path) -> None:
    path.touch()
    path.chmod(0)


@pytest.mark.parametrize("command", ["chat", "run"])
@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (Path.mkdir, "Is a directory"),
        (os.mkfifo, "it is not a regular file"),
        pytest.param(make_mode_000, "Permission denied", marks=needs_non_root),
    ],
    ids=["folder", "fifo", "mode-000"],
)
def test_an_unusable_lock_file_stops_the_start_with_one_line(
    tmp_path: Path, command: str, damage: Callable[[Path], object], reason: str
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    damage(data_dir / LOCK_FILE_NAME)

    result = run_cli(command, data_dir)

    assert result.returncode == 2
    assert result.stderr == lock_message(data_dir, reason)
    assert result.stdout == ""
    assert TOKEN.partition(":")[2] not in result.stderr


def test_a_lock_file_this_user_may_not_open_stops_the_chat_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Mode 000 as the tests see it when they run as root (root may open any file).
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    lock_file = data_dir / LOCK_FILE_NAME
    lock_file.touch()
    real = os.open

    def opener(name: Any, *args: Any, **kwargs: Any) -> int:
        if Path(name) == lock_file:
            raise PermissionError(errno.EACCES, "Permission denied", str(name))
        return real(name, *args, **kwargs)

    monkeypatch.setattr(os, "open", opener)

    code = main(["chat", "--data-dir", str(data_dir)])

    out, err = capsys.readouterr()
    assert code == 2
    assert err == lock_message(data_dir, "Permission denied")
    assert out == ""


@pytest.mark.parametrize("command", ["chat", "run"])
def test_a_file_in_place_of_the_data_folder_stops_the_start_with_one_line(
    tmp_path: Path, command: str
) -> None:
    data_dir = tmp_path / "data"
    data_dir.write_text("notes\n")

    result = run_cli(command, data_dir)

    assert result.returncode == 2
    assert result.stderr == (
        f"focus-coach: cannot use the data folder {data_dir}: it is a file, not a folder. It "
        "must be a folder this user can read and write; fix its permissions or choose another "
        "one with --data-dir (or FOCUS_COACH_DATA_DIR).\n"
    )
    assert data_dir.read_text() == "notes\n"
