"""Problems found in content files, collected so an author sees every mistake at once.

Every loader and check reports in the same shape, ``"<file>: <where>: <problem>"``, with the file
shown relative to the working directory (or a folder the caller names) when that is shorter.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["Problems", "shown_path", "step_at"]


def shown_path(path: Path, base: Path | None = None) -> str:
    """Show ``path`` relative to ``base`` (default: the working directory) when it lies inside."""
    try:
        return path.resolve().relative_to((base or Path.cwd()).resolve()).as_posix()
    except ValueError:
        return str(path)


class Problems:
    """Collects ``"<file>: <where>: <problem>"`` lines for one file into a (shared) list."""

    def __init__(self, shown: str, sink: list[str] | None = None) -> None:
        """Report for the file shown as ``shown``, appending to ``sink`` (a new list if None)."""
        self.shown = shown
        self.items: list[str] = [] if sink is None else sink
        self.count = 0  # found through this collector, whatever the sink holds from others

    def add(self, where: str | None, problem: str) -> None:
        """Record ``problem`` at ``where`` (a step, an entry; None for the file as a whole)."""
        prefix = f"{self.shown}: {where}: " if where else f"{self.shown}: "
        self.items.append(prefix + problem)
        self.count += 1


def step_at(step_id: str | None) -> str | None:
    """Where a problem of a flow step is: ``step '<id>'`` (None: the flow file itself)."""
    return f"step '{step_id}'" if step_id else None
