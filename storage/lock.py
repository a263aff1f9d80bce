"""One process per data folder: an exclusive ``flock`` on ``<data_dir>/focus-coach.lock``.

TinyDB is not safe across processes (design.md, section 5). ``flock`` is released by the kernel
when the holder dies, so a SIGKILLed bot never blocks the next start; the lock file itself stays
(deleting it would let two processes lock two different files).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
from pathlib import Path
from types import TracebackType
from typing import Final, Self

from storage.errors import LockFileError, StorageError, StoreLockedError

__all__ = ["LOCK_FILE_NAME", "DataDirLock"]

LOCK_FILE_NAME: Final = "focus-coach.lock"


class DataDirLock:
    """Exclusive, non-blocking lock on a data folder; the lock file holds the holder's pid."""

    def __init__(self, data_dir: Path) -> None:
        """Prepare the lock for ``data_dir`` (which must exist when acquiring)."""
        self.data_dir = data_dir
        self.path = data_dir / LOCK_FILE_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object currently holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise StoreLockedError naming the folder and the holder's pid.

        Raises:
            StoreLockedError: another process holds the lock.
            LockFileError: the lock file cannot be opened, locked or written (a folder in its
                place, no permission ...); the message says what to do.
        """
        if self._fd is not None:
            raise StorageError(f"the lock on {self.data_dir} is already held by this object")
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as error:
            raise LockFileError(self.path, _reason(error)) from None
        try:
            self._lock(fd)
        except BaseException:
            os.close(fd)  # also drops the flock if it was taken
            raise
        self._fd = fd

    def _lock(self, fd: int) -> None:
        """Lock the open lock file and write our pid into it."""
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            # A FIFO or device would take the flock but not the pid.
            raise LockFileError(self.path, "it is not a regular file")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreLockedError(self.data_dir, _read_pid(fd)) from None
        except OSError as error:  # say ENOLCK on a network file system
            raise LockFileError(self.path, _reason(error)) from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        except OSError as error:
            raise LockFileError(self.path, _reason(error)) from None

    def release(self) -> None:
        """Release the lock; does nothing if it is not held."""
        fd, self._fd = self._fd, None
        if fd is not None:
            # Closing the last descriptor releases the flock; unlock first to be explicit.
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> Self:
        """Acquire the lock."""
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Release the lock."""
        self.release()


def _read_pid(fd: int) -> int | None:
    """Read the holder's pid; None if it has not written it yet or the file is garbage."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
    except OSError:
        return None  # the message then says "pid unknown"; the lock itself is what matters
    return int(text) if text.isdigit() else None


def _reason(error: OSError) -> str:
    """The OSError's text without the path the message names anyway."""
    return error.strerror or str(error)
