"""The atomic write's temp file and the whole-file read, on real files.

A write makes its temp file with ``os.open`` (``O_EXCL``) under a name of its own and writes it
with ``os.write``; these tests hold it to what ``tempfile`` and a file object did before: the
bytes whole, the temp file gone after any failure, a stale file of the same name never reused,
crash leftovers recognised and cleaned up. Failures the disk cannot be made to show on demand (a
full disk, a failing fsync or rename) are played by wrapping the real ``os`` call.
"""

from __future__ import annotations

import errno
import itertools
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import storage.atomic
from storage import TinyDBUserRepository
from storage.atomic import (
    is_temp_file,
    read_regular_file,
    replace_atomically,
    write_json_tables,
)


def names_in(folder: Path) -> list[str]:
    return sorted(entry.name for entry in folder.iterdir())


def test_payload_lands_whole_with_the_temp_files_mode_or_the_one_asked(tmp_path: Path) -> None:
    payload = os.urandom(300_000)  # more than one write of a pipe or socket would take
    replace_atomically(tmp_path / "a.bin", payload)
    replace_atomically(str(tmp_path / "b.bin"), b"", mode=0o644)

    assert (tmp_path / "a.bin").read_bytes() == payload
    assert (tmp_path / "b.bin").read_bytes() == b""
    assert stat.S_IMODE((tmp_path / "a.bin").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "b.bin").stat().st_mode) == 0o644
    assert names_in(tmp_path) == ["a.bin", "b.bin"]


def test_a_path_without_a_folder_is_written_in_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    status = replace_atomically("plain.json", b"{}")
    assert (tmp_path / "plain.json").read_bytes() == b"{}"
    assert status.st_ino == (tmp_path / "plain.json").stat().st_ino
    assert names_in(tmp_path) == ["plain.json"]


def test_a_write_the_disk_takes_in_parts_is_completed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.write

    def seven_bytes_at_a_time(fd: int, data: bytes) -> int:
        return real(fd, bytes(data[:7]))

    monkeypatch.setattr(os, "write", seven_bytes_at_a_time)
    write_json_tables(tmp_path / "db.json", {"t": {"1": {"note": "Grüße " * 20}}})
    monkeypatch.undo()

    assert (
        read_regular_file(tmp_path / "db.json")[0]
        == ('{"t":{"1":{"note":"' + "Grüße " * 20 + '"}}}').encode()
    )
    assert names_in(tmp_path) == ["db.json"]


def _full_after_a_part(real: Callable[..., Any]) -> Callable[..., Any]:
    calls = itertools.count()

    def write(fd: int, data: bytes) -> int:
        if next(calls) == 0:
            return int(real(fd, bytes(data[:30])))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    return write


def _takes_nothing(real: Callable[..., Any]) -> Callable[..., Any]:
    return lambda fd, data: 0


def _fails(code: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def wrap(real: Callable[..., Any]) -> Callable[..., Any]:
        def failing(*args: Any, **kwargs: Any) -> Any:
            raise OSError(code, os.strerror(code))

        return failing

    return wrap


@pytest.mark.parametrize(
    ("call", "make", "error"),
    [
        ("write", _full_after_a_part, errno.ENOSPC),
        ("write", _takes_nothing, errno.EIO),
        ("fsync", _fails(errno.EIO), errno.EIO),
        ("fstat", _fails(errno.EIO), errno.EIO),
        ("close", _fails(errno.EIO), errno.EIO),
        ("replace", _fails(errno.EACCES), errno.EACCES),
        ("replace", _fails(errno.ENOENT), errno.ENOENT),
    ],
    ids=[
        "disk full midway",
        "write takes nothing",
        "fsync",
        "fstat",
        "close",
        "rename refused",
        "rename finds nothing",
    ],
)
def test_a_failed_write_raises_and_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    call: str,
    make: Callable[[Callable[..., Any]], Callable[..., Any]],
    error: int,
) -> None:
    path = tmp_path / "db.json"
    write_json_tables(path, {"t": {"1": {"old": True}}})
    real = getattr(os, call)
    with monkeypatch.context() as patch:
        patch.setattr(os, call, make(real))
        if call == "close":  # the fd is closed for real, then the failure is reported
            patch.setattr(os, call, lambda fd: (real(fd), make(real)(fd)))
        with pytest.raises(OSError) as caught:
            write_json_tables(path, {"t": {"1": {"new": "x" * 5_000}}})

    assert caught.value.errno == error
    assert names_in(tmp_path) == ["db.json"]
    assert path.read_bytes() == b'{"t":{"1":{"old":true}}}'


def test_a_stale_temp_file_of_the_same_name_is_neither_reused_nor_truncated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A crashed process that had this pid left the temp files this process would name next.
    monkeypatch.setattr(storage.atomic, "_temp_numbers", itertools.count(40))
    stale = [tmp_path / f".db.json.{os.getpid()}-{number}.tmp" for number in (40, 41)]
    for path in stale:
        path.write_bytes(b"left by a crash")

    replace_atomically(tmp_path / "db.json", b"new")

    assert (tmp_path / "db.json").read_bytes() == b"new"
    assert [path.read_bytes() for path in stale] == [b"left by a crash"] * 2
    assert names_in(tmp_path) == sorted(["db.json", *(path.name for path in stale)])


def test_temp_files_of_threads_and_writes_have_names_of_their_own(tmp_path: Path) -> None:
    made = [storage.atomic._create_temp_file(str(tmp_path), "db.json") for _ in range(50)]
    for fd, _ in made:
        os.close(fd)
    names = [Path(temp).name for _, temp in made]
    assert len(set(names)) == len(names)
    assert all(is_temp_file(name) and name.startswith(".db.json.") for name in names)


def test_a_temp_file_a_killed_write_left_is_removed_at_start_and_by_delete(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    with TinyDBUserRepository(data_dir) as repo:
        repo.put("u1", {"a": 1})
        repo.put("u2", {"b": 2})
    files = {path.stem: path for path in (data_dir / "users").rglob("*.json")}
    # What a SIGKILL between the temp file and the rename leaves, one per user.
    for user_id in ("u1", "u2"):
        fd, _ = storage.atomic._create_temp_file(str(files[user_id].parent), f"{user_id}.json")
        os.write(fd, b'{"user":')
        os.close(fd)

    with TinyDBUserRepository(data_dir) as repo:
        left = [path for path in data_dir.rglob("*") if is_temp_file(path.name)]
        assert left == []
        fd, temp = storage.atomic._create_temp_file(str(files["u1"].parent), "u1.json")
        os.close(fd)
        assert repo.delete("u1") is True
        assert not Path(temp).exists()
        assert repo.get("u2") == {"b": 2, "schema": 1}


@pytest.mark.parametrize("size", [0, 1, 13_000, (1 << 16) + 1, 300_000])
def test_a_file_is_read_whole_with_its_status(tmp_path: Path, size: int) -> None:
    path = tmp_path / "f.bin"
    payload = os.urandom(size)
    path.write_bytes(payload)
    raw, status = read_regular_file(str(path))
    assert raw == payload
    assert (status.st_ino, status.st_size) == (path.stat().st_ino, size)
