"""Content whose every text says which language it was rendered in.

Each template and label of a copy of ``prompts/`` starts with a private-use character per
language. Users cannot smuggle them in: ``clean_text`` drops private-use characters from typed
text, and the fuzzers never generate them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

__all__ = ["MARKERS", "mark_prompts"]

MARKERS = {"de": "\ue0de", "en": "\ue0e0"}


def mark_prompts(source: Path, target: Path) -> Path:
    """Copy ``source`` to ``target`` with every template and label starting with its marker."""
    shutil.copytree(source, target)
    for lang, marker in MARKERS.items():
        folder = target / "templates" / lang
        for template in folder.rglob("*.j2"):
            template.write_text(marker + template.read_text(encoding="utf-8"), encoding="utf-8")
        labels_file = folder / "labels.yaml"
        labels = yaml.safe_load(labels_file.read_text(encoding="utf-8"))
        marked = {key: _marked(marker, value) for key, value in labels.items()}
        labels_file.write_text(yaml.safe_dump(marked, allow_unicode=True), encoding="utf-8")
    return target


def _marked(marker: str, label: str | dict[str, str]) -> str | dict[str, str]:
    """A label with its marker; a label with plural forms gets it in every form."""
    if isinstance(label, dict):
        return {form: marker + text for form, text in label.items()}
    return marker + label
