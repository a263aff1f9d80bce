"""The shipped content is found through importlib.resources, on disk or in a zip; --version."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path

import pytest

import bot
from bot.cli import main
from bot.core.content import DEFAULT_PROMPTS_DIR, PROMPTS_PACKAGE, on_disk

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_default_content_is_the_prompts_package_which_is_the_repository_folder() -> None:
    # In the editable install the tests use, bot.prompts is the repository's prompts/ folder.
    assert files(PROMPTS_PACKAGE) == DEFAULT_PROMPTS_DIR
    assert DEFAULT_PROMPTS_DIR == ROOT / "prompts"
    assert (DEFAULT_PROMPTS_DIR / "flows" / "onboarding.yaml").is_file()


def test_a_folder_in_a_zip_is_copied_to_disk_once_and_a_real_folder_is_used_as_it_is(
    tmp_path: Path,
) -> None:
    archive = tmp_path / "content.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("pkg/prompts/flows/a.yaml", "id: a\n")
        zipped.writestr("pkg/prompts/templates/de/b.j2", "Hallo ✅\n")
        zipped.writestr("pkg/other.txt", "not content")
    copy = on_disk(zipfile.Path(archive, "pkg/prompts/"))
    assert copy.is_dir()
    assert not copy.is_relative_to(tmp_path)
    assert sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file()) == [
        "flows/a.yaml",
        "templates/de/b.j2",
    ]
    assert (copy / "templates" / "de" / "b.j2").read_text(encoding="utf-8") == "Hallo ✅\n"
    assert on_disk(tmp_path) is tmp_path


def test_run_from_a_zip_the_content_is_read_from_a_temporary_copy_removed_at_exit(
    tmp_path: Path,
) -> None:
    # As in a zipapp: the code and its content imported from one zip file.
    archive = tmp_path / "focus-coach.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for folder, inside in (("bot", "bot"), ("prompts", "bot/prompts")):
            for path in sorted((ROOT / folder).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    zipped.write(path, f"{inside}/{path.relative_to(ROOT / folder).as_posix()}")
    probe = (
        "import bot.core.content as c; "
        f"assert c.__file__.startswith({str(archive)!r}), c.__file__; "
        "print(c.DEFAULT_PROMPTS_DIR); "
        "print(sum(1 for p in c.DEFAULT_PROMPTS_DIR.rglob('*') if p.is_file()))"
    )
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env=env | {"PYTHONPATH": str(archive)},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    copy, count = result.stdout.splitlines()
    shipped = [p for p in (ROOT / "prompts").rglob("*") if p.is_file()]
    assert int(count) == len([p for p in shipped if "__pycache__" not in p.parts])
    assert not Path(copy).exists()  # removed when the process ended


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert bot.__version__ == version("focus-coach")
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out == f"focus-coach {bot.__version__}\n"
