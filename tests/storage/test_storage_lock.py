"""One process per data folder: the lock file, in this process and across two processes."""

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

from storage import (
    DataDirError,
    DataDirLock,
    LockFileError,
    StorageError,
    StoreLockedError,
    open_repository,
)
from storage.lock import LOCK_FILE_NAME

ROOT = Path(__file__).resolve().parents[2]

# Opens the repository, says so, and holds it until killed (or stdin closes).
HOLDER = f"""
import pathlib, sys
sys.path.insert(0, {str(ROOT)!r})
from storage import open_repository
repo = open_repository(pathlib.Path(sys.argv[1]))
print("ready", flush=True)
sys.stdin.read()
"""


def test_lock_writes_pid_and_refuses_a_second_holder(tmp_path: Path) -> None:
    with DataDirLock(tmp_path) as lock:
        assert lock.held
        assert (tmp_path / "focus-coach.lock").read_text() == f"{os.getpid()}\n"
        with pytest.raises(StoreLockedError) as caught:
            DataDirLock(tmp_path).acquire()
        assert caught.value.pid == os.getpid()
    with DataDirLock(tmp_path):  # released on exit
        pass


def test_acquiring_twice_on_one_object_is_an_error(tmp_path: Path) -> None:
    with DataDirLock(tmp_path) as lock, pytest.raises(StorageError, match="already held"):
        lock.acquire()


def test_second_repository_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    first = open_repository(tmp_path)
    with pytest.raises(StoreLockedError, match=f"pid {os.getpid()}"):
        open_repository(tmp_path)
    first.close()
    with open_repository(tmp_path) as second:
        second.put("u1", {"a": 1})


def test_other_process_holding_the_folder_blocks_until_killed(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        line = child.stdout.readline()
        assert line == "ready\n", child.stderr.read()

        with pytest.raises(StoreLockedError) as caught:
            open_repository(data_dir)
        message = str(caught.value)
        assert str(data_dir) in message
        assert f"pid {child.pid}" in message
        assert "another focus-coach process" in message
        assert caught.value.pid == child.pid

        child.kill()
        child.wait()

    with open_repository(data_dir) as repo:
        repo.put("u1", {"a": 1})
        assert repo.get("u1") == {"a": 1, "schema": 1}


def refuse_opening(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """Opening ``path`` fails with EACCES, as for a lock file of mode 000 when not root."""
    real = os.open

    def opener(name: Any, *args: Any, **kwargs: Any) -> int:
        if Path(name) == path:
            raise PermissionError(errno.EACCES, "Permission denied", str(name))
        return real(name, *args, **kwargs)

    monkeypatch.setattr(os, "open", opener)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (Path.mkdir, "Is a directory"),
        (os.mkfifo, "it is not a regular file"),
        (None, "Permission denied"),
        pytest.param(
            lambda path: (path.touch(), path.chmod(0)), "Permission denied", marks=needs_non_root
        ),
    ],
    ids=["folder", "fifo", "refused", "mode-000"],
)
def test_a_lock_file_that_cannot_be_used_is_named_with_what_to_do(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    damage: Callable[[Path], object] | None,
    reason: str,
) -> None:
    path = tmp_path / LOCK_FILE_NAME
    if damage is None:
        refuse_opening(monkeypatch, path)
    else:
        damage(path)
    lock = DataDirLock(tmp_path)

    with pytest.raises(LockFileError) as caught:
        lock.acquire()

    assert str(caught.value) == (
        f"cannot use the lock file {path}: {reason}. It only marks the data folder as in use: "
        f"if no focus-coach is running on {tmp_path}, remove it (or let this user read and "
        "write it) and start again."
    )
    assert not lock.held
    with pytest.raises(LockFileError):
        open_repository(tmp_path)  # the repository says the same, as a StorageError


def test_a_file_in_place_of_the_data_folder_is_a_data_dir_error(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.write_text("not a folder")

    with pytest.raises(DataDirError) as caught:
        open_repository(data_dir)

    assert str(caught.value).startswith(
        f"cannot use the data folder {data_dir}: it is a file, not a folder. "
    )
    assert "--data-dir" in str(caught.value)
