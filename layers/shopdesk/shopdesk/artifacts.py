"""Build artifacts the functions load (the knowledge-base index, a trained intent model, an order CSV),
kept in the store's bucket under `bot/` and `orders/`."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from shopdesk.config import Settings


class Latest[T]:
    """The artifact a container holds for one purpose: built once per key, rebuilt when the live key changes."""

    def __init__(self) -> None:
        self._held: tuple[str, T] | None = None
        self._lock = threading.Lock()

    def get(self, key: str, build: Callable[[], T]) -> T:
        with self._lock:
            if self._held is None or self._held[0] != key:
                self._held = (key, build())
            return self._held[1]


class Artifacts:
    def __init__(self, settings: Settings, s3: Callable[[], Any]) -> None:
        self._bucket = settings.uploads_bucket
        self._s3 = s3

    def put_bytes(self, key: str, body: bytes, content_type: str) -> None:
        self._s3().put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type)

    def get_bytes(self, key: str) -> bytes:
        body: bytes = self._s3().get_object(Bucket=self._bucket, Key=key)["Body"].read()
        return body

    def put_json(self, key: str, data: Any) -> None:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        self.put_bytes(key, body, "application/json")

    def get_json(self, key: str) -> Any:
        return json.loads(self.get_bytes(key))
