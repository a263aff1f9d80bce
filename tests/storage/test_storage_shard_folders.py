"""Shard folders are made once per process, not at every put; one that goes away is made again.

The repository remembers which shard folders it has made sure of, and a delete that removes an
empty shard folder forgets it. A folder removed by hand (or the whole users folder) is found
missing by the next write, made again, and the document written whole.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pytest

import storage.tinydb_repo
from storage import TinyDBUserRepository
from storage.atomic import is_temp_file
from storage.tinydb_repo import shard_of


def user_file(data_dir: Path, user_id: str) -> Path:
    return data_dir / "users" / shard_of(user_id) / f"{user_id}.json"


def same_shard_users(count: int) -> list[str]:
    """``count`` user ids that share one shard folder."""
    ids = [f"u{n}" for n in range(5_000)]
    return [user_id for user_id in ids if shard_of(user_id) == shard_of("u1")][:count]


def test_a_shard_folder_removed_by_hand_is_made_again_by_the_next_put(
    tinydb_repo: TinyDBUserRepository, data_dir: Path
) -> None:
    first, second = same_shard_users(2)
    tinydb_repo.put(first, {"n": 1})
    shutil.rmtree(user_file(data_dir, first).parent)

    tinydb_repo.put(second, {"n": 2})  # the folder is known to this process, and gone
    tinydb_repo.put(first, {"n": 3})

    assert tinydb_repo.get(second) == {"n": 2, "schema": 1}
    assert tinydb_repo.get(first) == {"n": 3, "schema": 1}
    assert sorted(path.name for path in user_file(data_dir, first).parent.iterdir()) == sorted(
        [f"{first}.json", f"{second}.json"]
    )


def test_the_users_folder_removed_by_hand_is_made_again(
    tinydb_repo: TinyDBUserRepository, data_dir: Path
) -> None:
    tinydb_repo.put("u1", {"n": 1})
    shutil.rmtree(data_dir / "users")

    assert tinydb_repo.get("u1") is None
    tinydb_repo.put("u1", {"n": 2})

    assert tinydb_repo.get("u1") == {"n": 2, "schema": 1}
    assert user_file(data_dir, "u1").is_file()


def test_a_put_after_a_delete_emptied_the_shard_makes_the_folder_again(
    tinydb_repo: TinyDBUserRepository, data_dir: Path
) -> None:
    tinydb_repo.put("u1", {"n": 1})
    assert tinydb_repo.delete("u1") is True
    assert not user_file(data_dir, "u1").parent.exists()

    tinydb_repo.put("u1", {"n": 2})

    assert tinydb_repo.get("u1") == {"n": 2, "schema": 1}


def test_a_put_makes_no_folder_once_its_shard_is_known(
    tinydb_repo: TinyDBUserRepository, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = same_shard_users(2)
    other = next(f"x{n}" for n in range(1_000) if shard_of(f"x{n}") != shard_of(first))
    tinydb_repo.put(first, {"n": 1})
    made: list[Path] = []
    real_mkdir = Path.mkdir

    def mkdir(self: Path, *args: object, **kwargs: object) -> None:
        made.append(self)
        real_mkdir(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "mkdir", mkdir)
    tinydb_repo.put(first, {"n": 2})
    tinydb_repo.put(second, {"n": 3})
    tinydb_repo.put(other, {"n": 4})

    assert made == [user_file(data_dir, other).parent]


def test_a_missing_file_not_due_to_a_missing_folder_is_raised_as_it_is(
    tinydb_repo: TinyDBUserRepository, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tinydb_repo.put("u1", {"n": 1})

    def replace(source: str, target: str) -> None:  # the temp file vanished before its rename
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), source)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(FileNotFoundError):
        tinydb_repo.put("u1", {"n": 2})
    monkeypatch.undo()

    shard = user_file(data_dir, "u1").parent
    assert [path.name for path in shard.iterdir() if is_temp_file(path.name)] == []
    assert tinydb_repo.get("u1") == {"n": 1, "schema": 1}


def test_users_beyond_the_kept_paths_are_still_found(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage.tinydb_repo, "_PLACES_LIMIT", 3)
    ids = [f"u{n}" for n in range(10)]
    with TinyDBUserRepository(data_dir) as repo:
        for number, user_id in enumerate(ids):
            repo.put(user_id, {"n": number})
        assert [repo.get(user_id) for user_id in ids] == [
            {"n": number, "schema": 1} for number in range(10)
        ]
        assert len(repo._places) <= 3
