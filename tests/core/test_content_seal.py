"""Content that passed the full check is not rendered again at start; changed content is."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.core.checker import load_content
from bot.core.content import DEFAULT_PROMPTS_DIR
from bot.core.content_seal import CACHE_DIR_ENV, fingerprint
from bot.core.flow_model import FlowError


@pytest.fixture
def prompts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "cache"))
    copy = tmp_path / "prompts"
    shutil.copytree(DEFAULT_PROMPTS_DIR, copy)
    return copy


def test_checked_content_is_sealed_and_a_changed_file_is_checked_again(
    prompts: Path, tmp_path: Path
) -> None:
    load_content(prompts)
    mark = fingerprint(prompts)
    assert mark is not None and (tmp_path / "cache" / mark).is_file()
    load_content(prompts)  # sealed: loads without rendering it all again

    # A broken wording only the rendering checks find: a new fingerprint, the full check, the
    # start refused with the file named, and nothing sealed for it.
    feedback = prompts / "templates" / "de" / "checkin" / "feedback.j2"
    feedback.write_text(
        feedback.read_text(encoding="utf-8") + '{{ "x"|plural("no_such_label") }}',
        encoding="utf-8",
    )
    broken = fingerprint(prompts)
    assert broken != mark
    with pytest.raises(FlowError, match="feedback"):
        load_content(prompts)
    assert not (tmp_path / "cache" / str(broken)).exists()


def test_a_cache_folder_that_cannot_be_written_only_costs_the_full_check(
    prompts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv(CACHE_DIR_ENV, str(blocked / "cache"))
    assert load_content(prompts).flows
    assert load_content(prompts).flows


def test_bytecode_in_the_prompts_package_is_no_change_of_content(prompts: Path) -> None:
    # prompts/ is the package bot.prompts: Python may write its bytecode there.
    mark = fingerprint(prompts)
    cache = prompts / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "__init__.cpython-399.pyc").write_bytes(b"\x00bytecode")
    assert fingerprint(prompts) == mark
    (prompts / "rules" / "new.yaml").write_text("a: 1\n", encoding="utf-8")
    assert fingerprint(prompts) != mark
