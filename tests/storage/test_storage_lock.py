"""One process per data folder: the lock file, in this process and across two processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from storage import DataDirLock, StorageError, StoreLockedError, open_repository

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
