"""Ways to make an index shard or folder unusable that also work when the tests run as root.

Root reads a file of mode 000 and writes into a folder of mode 555, so ``chmod`` alone would
prove nothing there: the fakes below raise the PermissionError a normal user would get. The
``chmod`` variants are kept (skipped as root) to show the same with the real kernel check.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import storage.schedule_index

AS_ROOT = os.geteuid() == 0
needs_non_root = pytest.mark.skipif(AS_ROOT, reason="root ignores file permissions")


def denied(path: object) -> PermissionError:
    return PermissionError(errno.EACCES, "Permission denied", str(path))


def folder_in_place(path: Path, holding: str) -> None:
    """A folder where the shard file should be, with a file in it that names ``holding``."""
    path.unlink(missing_ok=True)
    path.mkdir()
    (path / "note.txt").write_text(f"left here by hand for {holding}\n", "utf-8")


def fifo_in_place(path: Path, holding: str) -> None:
    """A named pipe where the shard file should be (opening it for reading would block)."""
    path.unlink(missing_ok=True)
    os.mkfifo(path)


def unreadable_by_mode(path: Path, holding: str) -> None:
    """Mode 000, as an operator's wrong ``chmod`` leaves it (only works when not root)."""
    path.chmod(0)


def reads_refused(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path, str], None]:
    """Reading the damaged file fails with EACCES, as for mode 000 when not root.

    Only that very file (its inode): a new file written in its place reads normally.
    """
    refused: set[int] = set()
    real = storage.schedule_index.read_regular_file

    def read_file(path: Path) -> tuple[bytes, os.stat_result]:
        try:
            inode = path.stat().st_ino
        except OSError:
            inode = None
        if inode in refused:
            raise denied(path)
        return real(path)

    monkeypatch.setattr(storage.schedule_index, "read_regular_file", read_file)

    def make(path: Path, holding: str) -> None:
        refused.add(path.stat().st_ino)

    return make


def deny_writes(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Make ``folder`` act read-only for this process: no rename, removal or new file in it.

    The ``os`` calls themselves are guarded (``pathlib`` and ``tempfile`` go through them too),
    so the folder refuses writes whichever way the code under test makes them.
    """

    def inside(path: Any) -> bool:
        return isinstance(path, str | Path) and (
            Path(path).parent == folder or Path(path) == folder
        )

    def guard(real: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(*args: Any, **kwargs: Any) -> Any:
            paths = [a for a in args[:2] if inside(a)]
            if paths:
                raise denied(paths[0])
            return real(*args, **kwargs)

        return guarded

    real_open = os.open

    def guarded_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_CREAT and inside(path):  # opening to read stays allowed
            raise denied(path)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)
    for name in ("replace", "rename", "unlink", "remove"):
        monkeypatch.setattr(os, name, guard(getattr(os, name)))
    monkeypatch.setattr(shutil, "rmtree", guard(shutil.rmtree))


def chmod_read_only(folder: Path) -> Callable[[], None]:
    """Really make ``folder`` read-only (mode 555); returns the undo."""
    folder.chmod(0o555)
    return lambda: folder.chmod(0o755)
