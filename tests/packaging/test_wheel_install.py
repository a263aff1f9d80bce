"""The package as an operator gets it: sdist, a wheel built from it, a fresh venv elsewhere.

``python -m build`` makes the sdist and then the wheel from the unpacked sdist, so a file the
sdist forgets is missing from the wheel too. The wheel goes into a new virtual environment in a
temporary folder (its dependencies from the package index, as for an operator), and the
installed ``focus-coach`` runs from a folder outside the repository with a fresh home, cache and
data folder: it must find its content (prompts/ shipped as ``bot.prompts``) in site-packages.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent.parent
ONBOARD_EN = "a\na,o\n3\na,k\nb,j\na\nc\ng\n"  # as tests/test_console.py: LinkedIn kept, the plan
# Building (two isolated build environments) and installing take about half a minute alone;
# two busy cores shared with the rest of the suite can double that.
SLOW = 600


def _repository_files(folder: str, pattern: str) -> set[str]:
    return {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / folder).rglob(pattern)
        if path.is_file() and "__pycache__" not in path.parts
    }


def _build(out: Path) -> tuple[Path, Path]:
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=SLOW,
        check=True,
    )
    (sdist,) = out.glob("focus_coach-*.tar.gz")
    (wheel,) = out.glob("focus_coach-*-py3-none-any.whl")
    return sdist, wheel


def _fresh_venv(folder: Path, wheel: Path) -> Path:
    venv.EnvBuilder(with_pip=False).create(folder)
    # The test's own pip installs into the new environment (--python): bootstrapping pip into
    # it would only add time. --no-compile: byte-compiling numpy and matplotlib would double
    # the time of the install, and the bot runs the same without it.
    pip = [sys.executable, "-m", "pip", "--python", str(folder / "bin" / "python")]
    subprocess.run(
        [*pip, "install", "--quiet", "--no-compile", str(wheel)],
        capture_output=True,
        text=True,
        timeout=SLOW,
        check=True,
    )
    return folder / "bin"


def _operator_env(home: Path) -> dict[str, str]:
    """The environment of someone who just installed it: no repository, nothing set up yet."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LC_", "LANG", "FOCUS_COACH_", "XDG_", "PYTHON"))
        and key not in {"VIRTUAL_ENV", "HOME"}
    }
    env |= {
        "LANG": "C",
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_DATA_HOME": str(home / "data"),
        "FOCUS_COACH_DATA_DIR": str(home / "coach-data"),
    }
    return env


@pytest.mark.timeout(SLOW)
def test_the_wheel_from_the_sdist_carries_its_content_and_runs_outside_the_repository(
    tmp_path: Path,
) -> None:
    sdist, wheel = _build(tmp_path / "dist")

    prompts = _repository_files("prompts", "*")
    assert {"prompts/flows/onboarding.yaml", "prompts/rules/channels.yaml"} <= prompts
    assert {"prompts/templates/de/labels.yaml", "prompts/templates/en/labels.yaml"} <= prompts
    with tarfile.open(sdist) as archive:
        in_sdist = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert prompts <= in_sdist
    assert "LICENSE" in in_sdist

    with zipfile.ZipFile(wheel) as archive:
        in_wheel = set(archive.namelist())
        metadata = archive.read(f"{wheel.name.split('-py3')[0]}.dist-info/METADATA").decode()
    # Every content file, under the package that ships it, and every module of the code.
    assert {"bot/" + name for name in prompts} <= in_wheel
    assert _repository_files("bot", "*.py") | _repository_files("storage", "*.py") <= in_wheel
    assert not any(name.startswith(("prompts/", "tests/")) for name in in_wheel)
    assert "License-Expression: MIT" in metadata
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in in_wheel)
    assert "aiolimiter" not in metadata  # PTB's rate-limiter extra is not needed

    bin_dir = _fresh_venv(tmp_path / "venv", wheel)
    home = tmp_path / "home"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = _operator_env(home)

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(bin_dir / args[0]), *args[1:]],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=elsewhere,
            timeout=120,
            check=False,
        )

    where = run(
        "python",
        "-c",
        "import bot; from bot.core.content import DEFAULT_PROMPTS_DIR as p; "
        "print(bot.__file__); print(p); print(bot.__version__)",
    )
    assert where.returncode == 0, where.stderr
    module, content, installed_version = where.stdout.splitlines()
    site_packages = tmp_path / "venv" / "lib"
    assert Path(module).is_relative_to(site_packages)
    assert Path(content).is_relative_to(site_packages)
    assert not Path(content).is_relative_to(ROOT)

    version = run("focus-coach", "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout == f"focus-coach {installed_version}\n"
    assert installed_version in wheel.name

    check = run("focus-coach", "check")
    assert check.returncode == 0, check.stderr
    assert "focus-coach check: OK" in check.stdout

    chat = run("focus-coach", "chat", "--lang", "en", stdin=ONBOARD_EN + "/quit\n")
    assert chat.returncode == 0, chat.stderr
    assert "Your focus plan" in chat.stdout
    assert "✅ LinkedIn: 2 posts a week" in chat.stdout
    assert list((home / "coach-data").rglob("*.json"))
    # The content check is sealed in the fresh cache folder, and a second start (the
    # content in site-packages unchanged) finds that seal instead of writing another.
    sealed = list((home / "cache" / "focus-coach" / "checked").iterdir())
    assert len(sealed) == 1
    again = run("focus-coach", "chat", "--lang", "en", stdin="/plan\n/quit\n")
    assert again.returncode == 0, again.stderr
    assert "Your focus plan" in again.stdout
    assert list((home / "cache" / "focus-coach" / "checked").iterdir()) == sealed
