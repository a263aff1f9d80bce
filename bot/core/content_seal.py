"""A record of content that passed the full check, so a start does not render it all again.

``focus-coach check`` renders every step, template and bank wording with sample data: seconds of
work that every start of the bot or the terminal chat used to repeat on content that had not
changed. A start now fingerprints the content (every file under the prompts folder) together
with the code that checks it (every Python file of ``bot``), and skips the rendering checks when
that exact fingerprint passed before. Anything changed, a file added, a line of code edited,
gives a new fingerprint and the full check again; content that failed is never recorded, so a
broken flow still stops the start with its message. ``focus-coach check`` always checks it all.

The record is one empty file per fingerprint in the user's cache folder. A folder that cannot
be read or written only costs the full check.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Final

from platformdirs import user_cache_dir

__all__ = ["CACHE_DIR_ENV", "fingerprint", "is_sealed", "seal"]

log = logging.getLogger(__name__)

CACHE_DIR_ENV: Final = "FOCUS_COACH_CACHE_DIR"
_CODE_DIR: Final = Path(__file__).resolve().parent.parent  # the ``bot`` package


def _cache_dir() -> Path:
    configured = os.environ.get(CACHE_DIR_ENV)
    return Path(configured) if configured else Path(user_cache_dir("focus-coach")) / "checked"


def _files(folder: Path, pattern: str) -> list[Path]:
    # __pycache__: the prompts folder is a package (bot.prompts), so Python may write its
    # bytecode there; that is no content, and a new interpreter must not count as a change.
    return sorted(
        path
        for path in folder.rglob(pattern)
        if path.is_file() and "__pycache__" not in path.relative_to(folder).parts
    )


def fingerprint(prompts_dir: Path) -> str | None:
    """The content's and the checking code's fingerprint, or None if a file cannot be read."""
    digest = hashlib.sha256()
    try:
        for root, files in ((prompts_dir, _files(prompts_dir, "*")), (_CODE_DIR, None)):
            for path in files if files is not None else _files(root, "*.py"):
                digest.update(str(path.relative_to(root)).encode())
                digest.update(b"\0")
                digest.update(path.read_bytes())
                digest.update(b"\0")
    except OSError:
        return None
    return digest.hexdigest()


def is_sealed(mark: str | None) -> bool:
    """Whether content with this fingerprint passed the full check before."""
    return mark is not None and (_cache_dir() / mark).is_file()


def seal(mark: str | None) -> None:
    """Record that content with this fingerprint passed the full check (best effort)."""
    if mark is None:
        return
    folder = _cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / mark).touch()
    except OSError as error:
        log.debug("the content check could not be recorded in %s: %s", folder, error)
