"""The audit log: who did what, when. Newest first, paginated."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shopdesk import keys
from shopdesk.auth import Principal, new_id
from shopdesk.clock import Clock, iso
from shopdesk.models import AuditModel
from shopdesk.repositories import AgentRepository, AuditRepository, Page
from shopdesk.store import plain


def audit_view(item: AuditModel) -> dict[str, Any]:
    actor = plain(item.actor)
    return {
        "at": item.at,
        "actor": {"id": actor.get("id"), "name": actor.get("name"), "role": actor.get("role")},
        "action": item.action,
        "target": item.target,
        "details": plain(item.details),
    }


class AuditLog:
    def __init__(self, clock: Clock, repo: AuditRepository, agents: AgentRepository) -> None:
        self._clock = clock
        self._repo = repo
        self._agents = agents

    def record(self, principal: Principal, action: str, target: str, details: Mapping[str, Any] | None = None) -> None:
        at = iso(self._clock.now())
        name = principal.name or self._name_of(principal.user_id)
        AuditModel(
            keys.AUDIT_PK,
            f"{at}#{new_id('a')}",
            at=at,
            actor={"role": principal.role, "id": principal.user_id, "name": name},
            action=action,
            target=target,
            details=dict(details or {}),
        ).save()

    def _name_of(self, user_id: str) -> str:
        """A token may carry no name (an identity provider without the claim): the staff record has one."""
        agent = self._agents.get(user_id)
        return agent.name if agent is not None else ""

    def page(self, limit: int, cursor: str | None) -> Page[AuditModel]:
        return self._repo.page(limit, cursor)
