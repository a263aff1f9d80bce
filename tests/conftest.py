"""Shared fixtures: the shipped content (loaded once) and a scripted chat driver."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dialogue_driver import Chat

from bot.core.checker import load_content
from bot.core.content import DEFAULT_PROMPTS_DIR, Content
from bot.core.document_schema import USER_DOCUMENTS
from bot.core.engine import DialogueEngine
from storage import InMemoryUserRepository, TinyDBUserRepository


@pytest.fixture(scope="session")
def content() -> Content:
    return load_content(DEFAULT_PROMPTS_DIR)


@pytest.fixture
def engine(content: Content) -> DialogueEngine:
    return DialogueEngine(content, InMemoryUserRepository(migrator=USER_DOCUMENTS))


@pytest.fixture
def file_repo(tmp_path: Path) -> Iterator[TinyDBUserRepository]:
    repo = TinyDBUserRepository(tmp_path / "data", migrator=USER_DOCUMENTS)
    yield repo
    repo.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data folder of the test's own (not created: the store makes it)."""
    return tmp_path / "data"


@pytest.fixture
def repo(data_dir: Path) -> Iterator[TinyDBUserRepository]:
    """The file store in ``data_dir``, as the scheduler tests use it (modules may override)."""
    repository = TinyDBUserRepository(data_dir)
    yield repository
    repository.close()


@pytest.fixture
def chat_de(engine: DialogueEngine) -> Chat:
    return Chat(engine, "anna", language_hint="de")


@pytest.fixture
def chat_en(engine: DialogueEngine) -> Chat:
    return Chat(engine, "ben", language_hint="en-GB")
