"""Different users from different threads at once, on both repositories."""

from __future__ import annotations

import threading
from collections.abc import Callable
from itertools import count

from storage import UserRepository
from storage.tinydb_repo import shard_of

THREADS = 8
ROUNDS = 200


def ids_in_shared_shards() -> list[str]:
    """Eight ids, two per shard, so puts and shard removals by deletes meet in one folder."""
    by_shard: dict[str, list[str]] = {}
    for n in count():
        user_id = f"thread-{n}"
        by_shard.setdefault(shard_of(user_id), []).append(user_id)
        pairs = [ids for ids in by_shard.values() if len(ids) >= 2]
        if len(pairs) == THREADS // 2:
            return [user_id for ids in pairs for user_id in ids[:2]]
    raise AssertionError  # unreachable: count() is endless


def test_concurrent_users(open_repo: Callable[..., UserRepository]) -> None:
    repo = open_repo()
    user_ids = ids_in_shared_shards()
    errors: list[str] = []
    start = threading.Barrier(THREADS + 1)
    writers_done = threading.Event()

    def write(user_id: str) -> None:
        try:
            start.wait()
            for i in range(ROUNDS):
                document = {"i": i, "owner": user_id, "body": user_id * (i % 7 * 40)}
                repo.put(user_id, document)
                if (got := repo.get(user_id)) != {**document, "schema": 1}:
                    errors.append(f"{user_id} round {i}: {got!r}")
                if i % 50 == 49:
                    repo.delete(user_id)
                    if repo.get(user_id) is not None:
                        errors.append(f"{user_id} round {i}: still there after delete")
            repo.put(user_id, {"final": user_id})
        except Exception as exc:  # reported through errors below
            errors.append(f"{user_id}: {exc!r}")

    def list_ids() -> None:
        try:
            start.wait()
            while not writers_done.is_set():
                if not set(repo.user_ids()) <= set(user_ids):
                    errors.append("user_ids() returned an unknown id")
        except Exception as exc:  # reported through errors below
            errors.append(f"user_ids: {exc!r}")

    writers = [threading.Thread(target=write, args=(user_id,)) for user_id in user_ids]
    lister = threading.Thread(target=list_ids)
    for thread in [*writers, lister]:
        thread.start()
    for thread in writers:
        thread.join()
    writers_done.set()
    lister.join()

    assert errors == []
    assert sorted(repo.user_ids()) == sorted(user_ids)
    assert {user_id: repo.get(user_id) for user_id in user_ids} == {
        user_id: {"final": user_id, "schema": 1} for user_id in user_ids
    }
