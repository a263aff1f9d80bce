"""Settings from the command line and the environment, validated once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_dir

from bot.core.content import DEFAULT_PROMPTS_DIR

__all__ = ["DATA_DIR_ENV", "PROMPTS_DIR_ENV", "Settings", "default_data_dir"]

DATA_DIR_ENV = "FOCUS_COACH_DATA_DIR"
PROMPTS_DIR_ENV = "FOCUS_COACH_PROMPTS_DIR"


def default_data_dir() -> Path:
    """The per-user data folder: ``$FOCUS_COACH_DATA_DIR`` or the platform's user data folder."""
    configured = os.environ.get(DATA_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path(user_data_dir("focus-coach", appauthor=False))


@dataclass(frozen=True)
class Settings:
    """Where the data and the coaching content live."""

    data_dir: Path
    prompts_dir: Path

    @classmethod
    def resolve(cls, *, data_dir: Path | None = None, prompts_dir: Path | None = None) -> Settings:
        """Combine command-line values with the environment and the defaults."""
        prompts = prompts_dir or Path(os.environ.get(PROMPTS_DIR_ENV) or DEFAULT_PROMPTS_DIR)
        return cls(data_dir=(data_dir or default_data_dir()).expanduser(), prompts_dir=prompts)
