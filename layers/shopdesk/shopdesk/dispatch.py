"""Dispatch (现场调度): a supervisor suspends, resumes or regroups agents, one or a batch, at once.

Routing reads the agents' state on every assignment, so a change applies to the next chat. Every
action is audited. A leader dispatches the agents of their own groups into their own groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shopdesk.audit import AuditLog
from shopdesk.auth import Principal
from shopdesk.errors import DomainError, Forbidden, ValidationFailed
from shopdesk.repositories import AgentRepository
from shopdesk.staff import StaffService

ACTIONS = ("suspend", "resume", "change_group")
MAX_BATCH = 50


class Dispatcher:
    def __init__(self, staff: StaffService, agents: AgentRepository, audit: AuditLog) -> None:
        self._staff = staff
        self._agents = agents
        self._audit = audit

    def dispatch(
        self, principal: Principal, action: str, agent_ids: Sequence[str], group_ids: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        principal.require("leader", "admin")
        if action not in ACTIONS:
            raise ValidationFailed(f"action must be one of {', '.join(ACTIONS)}.", field="action")
        if not agent_ids or len(agent_ids) > MAX_BATCH:
            raise ValidationFailed(f"Name 1 to {MAX_BATCH} agents.", field="agent_ids")
        if action == "change_group" and not group_ids:
            raise ValidationFailed("Name the groups to move the agents to.", field="group_ids")
        mine = self._groups_of(principal)
        if mine is not None and action == "change_group" and not set(group_ids) <= mine:
            raise Forbidden("A leader moves agents only into their own groups.")
        results = []
        for agent_id in dict.fromkeys(agent_ids):
            try:
                agent = self._agents.require(agent_id)
                if mine is not None and not set(agent.group_ids or []) & mine:
                    raise Forbidden("This agent is not in your groups.")
                if action == "change_group":
                    self._staff.update(agent_id, None, list(group_ids), None, None, None)
                else:
                    self._staff.update(agent_id, None, None, None, None, action == "suspend")
            except DomainError as error:
                results.append({"agent_id": agent_id, "ok": False, "code": error.code, "message": error.message})
                continue
            details = {"group_ids": list(group_ids)} if action == "change_group" else {}
            self._audit.record(principal, f"agent.{action}", agent_id, details)
            results.append({"agent_id": agent_id, "ok": True})
        return results

    def _groups_of(self, principal: Principal) -> set[str] | None:
        """None for an admin (every agent); a leader's own groups otherwise."""
        if principal.has_role("admin"):
            return None
        leader = self._agents.get(principal.user_id)
        return set(leader.group_ids or []) if leader is not None else set()
