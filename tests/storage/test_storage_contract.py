"""The UserRepository contract, on the in-memory and the TinyDB repository alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from storage import (
    CURRENT_SCHEMA,
    DamagedDocumentError,
    SchemaMigrator,
    SchemaVersionError,
    StorageError,
    UserRepository,
)

# The ``open_repo`` fixture (conftest.py): open, or reopen on the same data, with a migrator.
RepositoryFactory = Callable[..., UserRepository]

DOCUMENT: dict[str, Any] = {
    "language": "de",
    "name": "Jürgen 🚀",
    "hours": 4.5,
    "channels": ["linkedin", "newsletter"],
    "answers": {"audience": {"age": [25, 40]}, "done": True, "skipped": None},
}


def stored(document: dict[str, Any], schema: int = CURRENT_SCHEMA) -> dict[str, Any]:
    """What ``get`` returns for a document put with ``schema`` as the current version."""
    return {**document, "schema": schema}


def test_satisfies_protocol(repo: UserRepository) -> None:
    assert isinstance(repo, UserRepository)


def test_round_trip(repo: UserRepository) -> None:
    repo.put("123456789", DOCUMENT)
    assert repo.get("123456789") == stored(DOCUMENT)


def test_get_unknown_user_is_none(repo: UserRepository) -> None:
    assert repo.get("console:nobody") is None


def test_documents_are_copied_in_and_out(repo: UserRepository) -> None:
    document = {"channels": ["a"]}
    repo.put("u1", document)
    document["channels"].append("changed after put")
    fetched = repo.get("u1")
    assert fetched is not None
    fetched["channels"].append("changed after get")
    assert repo.get("u1") == stored({"channels": ["a"]})
    assert document == {"channels": ["a", "changed after put"]}


def test_overwrite_replaces_whole_document(repo: UserRepository) -> None:
    repo.put("u1", {"a": 1, "b": 2})
    repo.put("u1", {"b": 3})
    assert repo.get("u1") == stored({"b": 3})


def test_users_are_independent(repo: UserRepository) -> None:
    repo.put("u1", {"who": 1})
    repo.put("u2", {"who": 2})
    assert (repo.get("u1"), repo.get("u2")) == (stored({"who": 1}), stored({"who": 2}))


def test_delete(repo: UserRepository) -> None:
    repo.put("u1", DOCUMENT)
    repo.put("u2", DOCUMENT)
    assert repo.delete("u1") is True
    assert repo.get("u1") is None
    assert repo.get("u2") == stored(DOCUMENT)
    assert set(repo.user_ids()) == {"u2"}


def test_delete_unknown_user_is_false(repo: UserRepository) -> None:
    assert repo.delete("u1") is False
    repo.put("u1", DOCUMENT)
    repo.delete("u1")
    assert repo.delete("u1") is False


def test_user_ids(repo: UserRepository) -> None:
    ids = {"123456789", "console:alice", "console:bob", "a" * 64, "x_y-z"}
    for user_id in ids:
        repo.put(user_id, {"id": user_id})
    assert sorted(repo.user_ids()) == sorted(ids)


def test_user_ids_of_empty_repository(repo: UserRepository) -> None:
    assert list(repo.user_ids()) == []


def test_schema_is_stamped_over_callers_value(repo: UserRepository) -> None:
    repo.put("u1", {"schema": 99, "a": 1})
    assert repo.get("u1") == {"schema": CURRENT_SCHEMA, "a": 1}


def test_data_survives_reopen(open_repo: RepositoryFactory) -> None:
    open_repo().put("u1", DOCUMENT)
    assert open_repo().get("u1") == stored(DOCUMENT)


def test_get_migrates_old_documents(open_repo: RepositoryFactory) -> None:
    open_repo(SchemaMigrator(current=1, steps={})).put("u1", {"hours": 3, "name": "Ann"})
    calls: list[int] = []

    def one_to_two(document: dict[str, Any]) -> dict[str, Any]:
        calls.append(document["schema"])
        document["minutes"] = document.pop("hours") * 60
        return document

    def two_to_three(document: dict[str, Any]) -> dict[str, Any]:
        calls.append(document["schema"])
        name = document.pop("name")
        return {**document, "names": [name]}

    repo = open_repo(SchemaMigrator(current=3, steps={1: one_to_two, 2: two_to_three}))
    assert repo.get("u1") == {"schema": 3, "minutes": 180, "names": ["Ann"]}
    assert calls == [1, 2]


def test_get_migrates_from_an_intermediate_version(open_repo: RepositoryFactory) -> None:
    open_repo(SchemaMigrator(current=2, steps={1: dict})).put("u1", {"v": "two"})
    steps = {1: lambda _: {"v": "from one"}, 2: lambda d: {**d, "three": True}}
    repo = open_repo(SchemaMigrator(current=3, steps=steps))
    assert repo.get("u1") == {"schema": 3, "v": "two", "three": True}


def test_document_from_the_future_is_rejected(open_repo: RepositoryFactory) -> None:
    open_repo(SchemaMigrator(current=2, steps={1: dict})).put("u1", {"a": 1})
    repo = open_repo()
    with pytest.raises(SchemaVersionError) as caught:
        repo.get("u1")
    assert isinstance(caught.value, DamagedDocumentError)
    assert (caught.value.version, caught.value.supported) == (2, CURRENT_SCHEMA)
    assert "u1" in str(caught.value)
    assert "newer" in str(caught.value)


@pytest.mark.parametrize(
    "user_id",
    ["", "a" * 65, "..", "../etc/passwd", "a/b", "a\\b", "a b", "Jürgen", "a.json", "a\n", 123],
)
@pytest.mark.parametrize("operation", ["get", "put", "delete"])
def test_invalid_user_ids_are_rejected(repo: UserRepository, user_id: Any, operation: str) -> None:
    args = (user_id, {"a": 1}) if operation == "put" else (user_id,)
    with pytest.raises(ValueError, match="invalid user id"):
        getattr(repo, operation)(*args)
    assert list(repo.user_ids()) == []


def test_document_that_is_not_json_is_refused_and_changes_nothing(repo: UserRepository) -> None:
    repo.put("u1", {"a": 1})
    with pytest.raises((TypeError, ValueError)):
        repo.put("u1", {"a": {1, 2}})
    with pytest.raises(ValueError, match="JSON"):
        repo.put("u1", {"a": float("nan")})
    assert repo.get("u1") == stored({"a": 1})


def test_closed_repository_refuses_calls(repo: UserRepository) -> None:
    repo.put("u1", {"a": 1})
    repo.close()
    for call in (
        lambda: repo.get("u1"),
        lambda: repo.put("u1", {}),
        lambda: repo.delete("u1"),
        repo.user_ids,
    ):
        with pytest.raises(StorageError, match="closed"):
            call()
    repo.close()  # closing twice is harmless
