"""Pure routing rules: which skill group a conversation belongs to, and which agents to try, in order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

STRATEGIES = ("least_busy", "round_robin", "priority")


@dataclass(frozen=True)
class GroupRule:
    group_id: str
    keywords: tuple[str, ...]
    channels: tuple[str, ...] = ()
    is_default: bool = False


@dataclass(frozen=True)
class AgentLoad:
    agent_id: str
    status: str
    suspended: bool
    active_count: int
    capacity: int
    level: int
    last_assigned_at: str = ""

    @property
    def free(self) -> int:
        return self.capacity - self.active_count

    @property
    def available(self) -> bool:
        return self.status == "online" and not self.suspended and self.free > 0


def pick_group(
    tokens: Iterable[str],
    channel: str,
    groups: Sequence[GroupRule],
    channel_rules: Mapping[str, str] | None = None,
) -> str | None:
    """An explicit channel rule wins; then the group whose keywords the words hit most; then the default.

    Ties go to the group listed first, so the outcome never depends on dict order.
    """
    known = {group.group_id for group in groups}
    ruled = (channel_rules or {}).get(channel)
    if ruled in known:
        return ruled
    words = list(tokens)
    best, best_hits = None, 0
    for group in groups:
        if group.channels and channel not in group.channels:
            continue
        keywords = set(group.keywords)
        hits = sum(1 for word in words if word in keywords)
        if hits > best_hits:
            best, best_hits = group.group_id, hits
    if best:
        return best
    defaults = [group.group_id for group in groups if group.is_default]
    return defaults[0] if defaults else (groups[0].group_id if groups else None)


def rank_agents(
    strategy: str,
    agents: Iterable[AgentLoad],
    members: Sequence[str],
    last_agent_id: str = "",
) -> list[AgentLoad]:
    """Available agents in the order the group's strategy wants them tried."""
    available = [agent for agent in agents if agent.available]
    if strategy == "round_robin":
        order = {agent_id: index for index, agent_id in enumerate(members)}
        start = order[last_agent_id] + 1 if last_agent_id in order else 0
        size = max(len(members), 1)
        return sorted(available, key=lambda a: ((order.get(a.agent_id, size) - start) % size, a.agent_id))
    if strategy == "priority":
        return sorted(available, key=lambda a: (-a.level, -a.free, a.active_count, a.last_assigned_at, a.agent_id))
    # least_busy (saturation): the most free capacity first; whoever waited longest breaks ties.
    return sorted(
        available,
        key=lambda a: (a.active_count / max(a.capacity, 1), -a.free, a.last_assigned_at, a.agent_id),
    )
