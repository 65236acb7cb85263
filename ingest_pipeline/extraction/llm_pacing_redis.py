"""The models' budgets in Redis: one hash per model, ``llm_pacing:<model>``.

Each update is an optimistic transaction (``WATCH`` the hash, read it, ``MULTI``/``EXEC`` the
new state, start again if another process wrote in between), so Redis runs the same Python
budget rules as the SQL store instead of a second copy of them in Lua.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import TypeVar

import redis
from redis.typing import EncodableT, FieldT

from ingest_pipeline.extraction.llm_pacing_budget import BudgetState

_T = TypeVar("_T")

KEY_PREFIX = "llm_pacing:"


class RedisBudgetStore:
    """`BudgetStore` on a Redis server that every process of the deployment reaches."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    @classmethod
    def open(cls, url: str) -> RedisBudgetStore:
        """A store on ``redis://host:port/db`` (or ``rediss://``)."""
        return cls(redis.Redis.from_url(url))

    def update(
        self,
        model: str,
        fresh: BudgetState,
        change: Callable[[BudgetState], tuple[BudgetState, _T]],
    ) -> _T:
        key = KEY_PREFIX + model
        with self._client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    state, result = change(_decode(pipe.hgetall(key)) or fresh)
                    pipe.multi()
                    pipe.hset(key, mapping=_encode(state))
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue

    def read(self, model: str) -> BudgetState | None:
        return _decode(self._client.hgetall(KEY_PREFIX + model))

    def close(self) -> None:
        self._client.close()


def _encode(state: BudgetState) -> dict[FieldT, EncodableT]:
    # repr() round-trips a float exactly.
    return {name: repr(value) for name, value in asdict(state).items()}


def _decode(stored: Mapping[bytes | str, bytes | str]) -> BudgetState | None:
    if not stored:
        return None
    values = {_text(name): float(_text(value)) for name, value in stored.items()}
    return BudgetState(**values)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
