"""pyproject.toml lists every package and every kind of content file (fast; the wheel test checks
the built wheel itself, this one catches a forgotten entry in a run without end-to-end tests)."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "setuptools"
]


def test_every_code_package_of_the_repository_is_listed() -> None:
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("bot", "storage")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert set(SETUPTOOLS["packages"]) == found | {"bot.prompts"}
    assert SETUPTOOLS["package-dir"] == {"bot.prompts": "prompts"}


def test_every_content_file_matches_a_package_data_pattern() -> None:
    # A new kind of file in prompts/ (say a .md next to a flow) must be added to package-data,
    # or the wheel would go without it.
    patterns = [
        pattern.removeprefix("**/") for pattern in SETUPTOOLS["package-data"]["bot.prompts"]
    ]
    content = [
        path
        for path in (ROOT / "prompts").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.name != "__init__.py"
    ]
    assert len(content) > 200
    unshipped = [p for p in content if not any(fnmatch(p.name, pattern) for pattern in patterns)]
    assert unshipped == []
