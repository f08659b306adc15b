"""Counts DynamoDB requests with botocore's event hooks, on every client any library creates."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import botocore.session


class DynamoDbRequests:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._original = botocore.session.Session.create_client

    def install(self) -> None:
        """From now on, every botocore client (boto3's and pynamodb's alike) reports its calls."""
        counter = self
        original = self._original

        def create_client(session: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            client.meta.events.register("before-call.dynamodb.*", counter._count)
            return client

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]

    def _count(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls[model.name] += 1

    @contextmanager
    def measuring(self) -> Iterator[Counter[str]]:
        with self._lock:
            self.calls.clear()
        seen: Counter[str] = Counter()
        yield seen
        with self._lock:
            seen.update(self.calls)
