"""Assignment: one conditional transaction claims an agent's capacity and the session together.

Two concurrent assignments can never both win: the session only moves from new/queued once, and an
agent's `active_count` only grows while it stays below `capacity` and the agent is online.
"""

from __future__ import annotations

from collections.abc import Mapping

from pynamodb.expressions.condition import Condition

from shopdesk import keys
from shopdesk.clock import Clock, iso
from shopdesk.db import TransactionFailed, transaction
from shopdesk.models import AgentModel, GroupModel, SessionModel
from shopdesk.notify import Connections
from shopdesk.reminders import Reminders
from shopdesk.repositories import AgentRepository, GroupRepository, SessionRepository
from shopdesk.routing import AgentLoad, rank_agents
from shopdesk.store import StoreSettings
from shopdesk.views import session_view

# A candidate can fill up between the read and the claim; a few tries cover that without looping forever.
MAX_CLAIMS = 3
QUEUE_NOTICE_LIMIT = 20
WAITING = ("new", "bot", "queued", "offline")


def load_of(agent: AgentModel) -> AgentLoad:
    return AgentLoad(
        agent_id=agent.agent_id,
        status=agent.status,
        suspended=bool(agent.suspended),
        active_count=int(agent.active_count),
        capacity=int(agent.capacity),
        level=int(agent.level),
        last_assigned_at=agent.last_assigned_at or "",
    )


def agent_claim_condition() -> Condition:
    condition: Condition = (
        (AgentModel.status == "online")
        & (AgentModel.suspended == False)  # noqa: E712 - a DynamoDB condition, not a Python comparison
        & (AgentModel.active_count < AgentModel.capacity)
    )
    return condition


class Assigner:
    def __init__(
        self,
        clock: Clock,
        agents: AgentRepository,
        groups: GroupRepository,
        sessions: SessionRepository,
        connections: Connections,
        reminders: Reminders,
        store: StoreSettings,
    ) -> None:
        self._clock = clock
        self._agents = agents
        self._groups = groups
        self._sessions = sessions
        self._connections = connections
        self._reminders = reminders
        self._store = store

    def assign_in_group(self, session: SessionModel, group: GroupModel, exclude: str = "") -> AgentModel | None:
        """Gives the session to the first agent the group's strategy picks who still has room, and tells both.

        One BatchGetItem reads the members' load together with everyone's connections, so an
        assignment costs that read and one transaction, whatever the number of agents.
        """
        members = [m for m in group.member_ids or [] if m != exclude]
        visitor = keys.principal_key("visitor", session.visitor_id)
        staff = [keys.principal_key("agent", m) for m in members]
        together = self._agents.with_connections(members, [visitor, *staff])
        agents, connections = together if together is not None else (self._agents.many(members), None)
        by_id = {agent.agent_id: agent for agent in agents}
        ranked = rank_agents(group.strategy, [load_of(a) for a in by_id.values()], members, group.last_agent_id)
        for candidate in ranked[:MAX_CLAIMS]:
            agent = by_id[candidate.agent_id]
            try:
                self.claim(session, agent, group)
            except TransactionFailed as failure:
                if failure.failed_on("session"):
                    return None
                continue
            self.announce(session, agent, connections)
            return agent
        return None

    def claim(self, session: SessionModel, agent: AgentModel, group: GroupModel | None = None) -> None:
        """Moves a waiting session to the agent, or raises TransactionFailed naming the loser."""
        now = iso(self._clock.now())
        with transaction() as tx:
            tx.update(
                "agent",
                agent,
                [AgentModel.active_count.add(1), AgentModel.last_assigned_at.set(now)],
                condition=agent_claim_condition(),
            )
            tx.update(
                "session",
                session,
                [
                    SessionModel.status.set("active"),
                    SessionModel.agent_id.set(agent.agent_id),
                    SessionModel.agent_name.set(agent.name),
                    SessionModel.group_id.set(group.group_id if group else session.group_id),
                    SessionModel.assigned_at.set(now),
                    SessionModel.gsi2pk.set(keys.agent_sessions_gsi(agent.agent_id, "active")),
                    SessionModel.gsi2sk.set(keys.timeline_sk(now, session.session_id)),
                ],
                condition=SessionModel.status.is_in(*WAITING) & (SessionModel.agent_id == ""),
            )
            if group is not None and group.strategy == "round_robin":
                tx.update("group", group, [GroupModel.last_agent_id.set(agent.agent_id)])
        session.status, session.agent_id, session.agent_name = "active", agent.agent_id, agent.name
        session.assigned_at = now
        if group is not None:
            session.group_id = group.group_id
        agent.active_count = int(agent.active_count) + 1

    def enqueue(self, session: SessionModel, group_id: str) -> int:
        now = iso(self._clock.now())
        queued_sk = keys.timeline_sk(now, session.session_id)
        session.update(
            actions=[
                SessionModel.status.set("queued"),
                SessionModel.group_id.set(group_id),
                SessionModel.agent_id.set(""),
                SessionModel.agent_name.set(""),
                SessionModel.queued_at.set(now),
                SessionModel.gsi2pk.set(keys.queue_gsi(group_id)),
                SessionModel.gsi2sk.set(queued_sk),
            ],
            condition=SessionModel.status.is_in("new", "bot", "queued", "active"),
        )
        return self._sessions.queue_position(group_id, queued_sk)

    def announce(self, session: SessionModel, agent: AgentModel, known: Mapping[str, set[str]] | None = None) -> None:
        """Tells both sides, and starts the first-response timer if the customer is already waiting."""
        view = session_view(session)
        visitor, staff = keys.principal_key("visitor", session.visitor_id), keys.principal_key("agent", agent.agent_id)
        self._connections.send_to([visitor], {"type": "session", "session": view}, known)
        self._connections.send_to([staff], {"type": "assigned", "session": view}, known)
        if session.awaiting_since:
            threshold = int(self._store.config().first_response_seconds)
            self._reminders.start(session.session_id, session.awaiting_since, threshold)

    def announce_queued(self, session: SessionModel, group: GroupModel | None, position: int) -> None:
        """Tells the visitor their place, and the group's agents that their queue changed."""
        view = session_view(session, position)
        self._connections.send_to(
            [keys.principal_key("visitor", session.visitor_id)], {"type": "session", "session": view}
        )
        if group is not None:
            members = [keys.principal_key("agent", m) for m in group.member_ids or []]
            self._connections.send_to(members, {"type": "queue_changed", "group_id": group.group_id})

    def announce_queue(self, group_id: str) -> None:
        """Tells the first visitors in line where they now stand."""
        page = self._sessions.owned(keys.queue_gsi(group_id), QUEUE_NOTICE_LIMIT, None, newest_first=False)
        for position, waiting in enumerate(page.items, start=1):
            self._connections.send_to(
                [keys.principal_key("visitor", waiting.visitor_id)],
                {"type": "queue", "session_id": waiting.session_id, "position": position},
            )

    def drain(self, agent_id: str) -> int:
        """Fills an agent's free capacity from the queues of their groups, oldest first."""
        taken = 0
        agent = self._agents.get(agent_id)
        while agent is not None and load_of(agent).available:
            heads = [s for s in (self._sessions.queue_head(g) for g in agent.group_ids or []) if s is not None]
            if not heads:
                break
            oldest = min(heads, key=lambda s: s.gsi2sk or "")
            group = self._groups.get(oldest.group_id)
            try:
                self.claim(oldest, agent, group)
            except TransactionFailed as failure:
                if failure.failed_on("agent"):
                    break
                agent = self._agents.get(agent_id)
                continue
            taken += 1
            self.announce(oldest, agent)
            self.announce_queue(oldest.group_id)
        return taken

    def sweep(self) -> int:
        """The safety net behind event-driven draining: queues with a head get their free agents.

        Costs one Query per group, and more only where someone is actually waiting.
        """
        taken = 0
        for group in self._groups.all():
            if self._sessions.queue_head(group.group_id) is None:
                continue
            loads = [load_of(a) for a in self._agents.many(group.member_ids or [])]
            for candidate in rank_agents(group.strategy, loads, group.member_ids or [], group.last_agent_id):
                taken += self.drain(candidate.agent_id)
        return taken
