"""Shared fixtures of the reliability tests; they also reuse the helpers of tests/telegram."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from marked_prompts import mark_prompts

from bot.core.checker import load_content
from bot.core.content import DEFAULT_PROMPTS_DIR, Content

TELEGRAM_TESTS = Path(__file__).resolve().parent.parent / "telegram"
if str(TELEGRAM_TESTS) not in sys.path:
    sys.path.append(str(TELEGRAM_TESTS))


@pytest.fixture(scope="session")
def marked_content(tmp_path_factory: pytest.TempPathFactory) -> Content:
    """The shipped content, each text marked with the language it was rendered in."""
    folder = tmp_path_factory.mktemp("marked") / "prompts"
    return load_content(mark_prompts(DEFAULT_PROMPTS_DIR, folder))
