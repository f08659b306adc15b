"""The store's settings, cached per container: they change rarely and are read on every message."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import MapAttribute

from shopdesk.clock import Clock
from shopdesk.hours import DEFAULT_WEEKLY, is_open
from shopdesk.models import StoreConfigModel
from shopdesk.repositories import StoreRepository

CONFIG_TTL = timedelta(seconds=60)


class StoreSettings:
    def __init__(self, clock: Clock, repo: StoreRepository) -> None:
        self._clock = clock
        self._repo = repo
        self._cached: tuple[datetime, StoreConfigModel] | None = None
        self._lock = threading.Lock()

    def config(self) -> StoreConfigModel:
        now = self._clock.now()
        with self._lock:
            if self._cached is None or now - self._cached[0] > CONFIG_TTL:
                self._cached = (now, self._repo.config())
            return self._cached[1]

    def refresh(self) -> None:
        """After this container changed the settings, the next read fetches them again."""
        with self._lock:
            self._cached = None

    def is_open(self) -> bool:
        hours = self.config().business_hours
        weekly = plain(hours.weekly) or DEFAULT_WEEKLY
        return is_open(self._clock.now(), hours.timezone or "Asia/Shanghai", weekly)

    def channel_rules(self) -> dict[str, str]:
        return {channel: str(group) for channel, group in plain(self.config().channel_rules).items()}


def plain(value: MapAttribute[str, Any] | Mapping[str, Any] | None) -> dict[str, Any]:
    """A free-form pynamodb map as a dict: a MapAttribute once read, still a dict when just assigned."""
    if value is None:
        return {}
    return dict(value) if isinstance(value, Mapping) else value.as_dict()
