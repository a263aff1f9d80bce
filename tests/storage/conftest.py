"""Fixtures of the storage tests: every contract test runs on both repositories."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from storage import InMemoryUserRepository, TinyDBUserRepository, UserRepository
from storage.migrations import DEFAULT_MIGRATOR, SchemaMigrator

RepositoryFactory = Callable[..., UserRepository]


@pytest.fixture(params=["memory", "tinydb"])
def open_repo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RepositoryFactory]:
    """Open a repository; each call closes the last one and reopens the same data (a restart)."""
    backing: dict[str, dict[str, Any]] = {}
    opened: list[UserRepository] = []

    def factory(migrator: SchemaMigrator = DEFAULT_MIGRATOR) -> UserRepository:
        for earlier in opened:
            earlier.close()
        repo: UserRepository
        if request.param == "memory":
            repo = InMemoryUserRepository(migrator=migrator, backing=backing)
        else:
            repo = TinyDBUserRepository(tmp_path / "data", migrator=migrator)
        opened.append(repo)
        return repo

    yield factory
    for repo in opened:
        repo.close()


@pytest.fixture
def repo(open_repo: RepositoryFactory) -> UserRepository:
    """A fresh repository of each kind."""
    return open_repo()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The data folder of a file repository."""
    return tmp_path / "data"


@pytest.fixture
def tinydb_repo(data_dir: Path) -> Iterator[TinyDBUserRepository]:
    """A file repository on ``data_dir``."""
    repo = TinyDBUserRepository(data_dir)
    yield repo
    repo.close()
