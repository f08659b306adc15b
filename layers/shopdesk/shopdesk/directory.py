"""Skill groups and their members, cached per container: they change rarely and every ticket change
needs them to know whom to tell."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from shopdesk.clock import Clock
from shopdesk.models import GroupModel
from shopdesk.repositories import GroupRepository

DIRECTORY_TTL = timedelta(seconds=60)


class GroupDirectory:
    def __init__(self, clock: Clock, repo: GroupRepository) -> None:
        self._clock = clock
        self._repo = repo
        self._cached: tuple[datetime, dict[str, GroupModel]] | None = None
        self._lock = threading.Lock()

    def all(self) -> dict[str, GroupModel]:
        now = self._clock.now()
        with self._lock:
            if self._cached is None or now - self._cached[0] > DIRECTORY_TTL:
                self._cached = (now, {group.group_id: group for group in self._repo.all()})
            return self._cached[1]

    def get(self, group_id: str) -> GroupModel | None:
        return self.all().get(group_id)

    def name(self, group_id: str) -> str:
        group = self.get(group_id)
        return group.name if group is not None else group_id

    def members(self, group_id: str) -> list[str]:
        group = self.get(group_id)
        return list(group.member_ids or []) if group is not None else []
