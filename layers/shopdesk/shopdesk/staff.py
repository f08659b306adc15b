"""Staff: accounts (Cognito + profile), skill groups, presence, and the capacity each agent has."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from shopdesk import keys
from shopdesk.assignment import Assigner
from shopdesk.config import Settings
from shopdesk.db import TransactionFailed, transaction
from shopdesk.errors import Conflict, ValidationFailed
from shopdesk.models import AgentModel, GroupModel, PresenceModel
from shopdesk.repositories import AgentRepository, GroupRepository

STATUSES = ("online", "away", "offline")


class StaffService:
    def __init__(
        self,
        settings: Settings,
        cognito: Callable[[], Any],
        agents: AgentRepository,
        groups: GroupRepository,
        assigner: Assigner,
    ) -> None:
        self._settings = settings
        self._cognito = cognito
        self._agents = agents
        self._groups = groups
        self._assigner = assigner

    def create(
        self,
        username: str,
        name: str,
        password: str,
        role: str,
        group_ids: Sequence[str],
        capacity: int,
        level: int,
    ) -> AgentModel:
        """Creates the login and the profile; the profile is written only once the login exists."""
        groups = self._known_groups(group_ids)
        cognito = self._cognito()
        pool = self._settings.user_pool_id
        try:
            created = cognito.admin_create_user(
                UserPoolId=pool,
                Username=username,
                MessageAction="SUPPRESS",
                UserAttributes=[
                    {"Name": "custom:store_id", "Value": self._settings.store_id},
                    {"Name": "name", "Value": name},
                ],
            )
        except cognito.exceptions.UsernameExistsException as error:
            raise Conflict("That username is taken.", field="username") from error
        except cognito.exceptions.InvalidParameterException as error:
            raise ValidationFailed("The username is not valid.", field="username") from error
        try:
            cognito.admin_set_user_password(UserPoolId=pool, Username=username, Password=password, Permanent=True)
        except cognito.exceptions.InvalidPasswordException as error:
            cognito.admin_delete_user(UserPoolId=pool, Username=username)
            raise ValidationFailed("The password does not meet the policy.", field="password") from error
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=username, GroupName=role)
        sub = next(a["Value"] for a in created["User"]["Attributes"] if a["Name"] == "sub")
        agent = AgentModel(
            keys.agent_pk(sub),
            keys.PROFILE_SK,
            agent_id=sub,
            username=username,
            name=name,
            role=role,
            group_ids=[g.group_id for g in groups],
            capacity=capacity,
            level=level,
            gsi1pk=keys.AGENTS_LIST,
            gsi1sk=f"{name}#{sub}",
        )
        with transaction() as tx:
            tx.put("agent", agent, condition=AgentModel.pk.does_not_exist())
            for group in groups:
                tx.update("group", group, [GroupModel.member_ids.set(GroupModel.member_ids.append([sub]))])
        return agent

    def update(
        self,
        agent_id: str,
        name: str | None,
        group_ids: Sequence[str] | None,
        capacity: int | None,
        level: int | None,
        suspended: bool | None,
    ) -> AgentModel:
        agent = self.require(agent_id)
        actions: list[Any] = []
        if name is not None:
            actions += [AgentModel.name.set(name), AgentModel.gsi1sk.set(f"{name}#{agent_id}")]
        if capacity is not None:
            actions.append(AgentModel.capacity.set(capacity))
        if level is not None:
            actions.append(AgentModel.level.set(level))
        if suspended is not None:
            actions.append(AgentModel.suspended.set(suspended))
        before = set(agent.group_ids or [])
        after = before if group_ids is None else {g.group_id for g in self._known_groups(group_ids)}
        if group_ids is not None:
            actions.append(AgentModel.group_ids.set(sorted(after)))
        if not actions:
            return agent
        with transaction() as tx:
            tx.update("agent", agent, actions, condition=AgentModel.pk.exists())
            for group_id in after - before:
                group = self._groups.get(group_id)
                if group is not None:
                    members = [*(group.member_ids or []), agent_id]
                    tx.update(f"join:{group_id}", group, [GroupModel.member_ids.set(members)])
            for group_id in before - after:
                group = self._groups.get(group_id)
                if group is not None:
                    members = [m for m in group.member_ids or [] if m != agent_id]
                    tx.update(f"leave:{group_id}", group, [GroupModel.member_ids.set(members)])
        updated = self.require(agent_id)
        if suspended is False or (capacity is not None and capacity > int(agent.capacity)):
            self._assigner.drain(agent_id)
        return updated

    def set_status(self, agent_id: str, status: str) -> AgentModel:
        """Changes presence and keeps the store's online count; coming online pulls from the queue."""
        if status not in STATUSES:
            raise ValidationFailed(f"status must be one of {', '.join(STATUSES)}.", field="status")
        agent = self.require(agent_id)
        previous = agent.status
        if previous != status:
            delta = (status == "online") - (previous == "online")
            try:
                with transaction() as tx:
                    tx.update(
                        "agent",
                        agent,
                        [AgentModel.status.set(status)],
                        condition=AgentModel.status == previous,
                    )
                    if delta:
                        tx.update(
                            "presence",
                            PresenceModel(keys.STORE_PK, keys.PRESENCE_SK),
                            [PresenceModel.online_agents.add(delta)],
                        )
            except TransactionFailed as failure:
                raise Conflict("Your status changed meanwhile; try again.") from failure
            agent.status = status
        if status == "online":
            self._assigner.drain(agent_id)
        return self.require(agent_id)

    def put_group(
        self,
        group_id: str,
        name: str,
        keywords: Sequence[str],
        strategy: str,
        channels: Sequence[str],
        is_default: bool,
    ) -> GroupModel:
        existing = self._groups.get(group_id)
        group = GroupModel(
            keys.group_pk(group_id),
            keys.META_SK,
            group_id=group_id,
            name=name,
            keywords=list(dict.fromkeys(k.strip() for k in keywords if k.strip())),
            strategy=strategy,
            channels=list(channels),
            is_default=is_default,
            member_ids=list(existing.member_ids or []) if existing else [],
            last_agent_id=existing.last_agent_id if existing else "",
            gsi1pk=keys.GROUPS_LIST,
            gsi1sk=group_id,
        )
        group.save()
        return group

    def require(self, agent_id: str) -> AgentModel:
        return self._agents.require(agent_id)

    def _known_groups(self, group_ids: Sequence[str]) -> list[GroupModel]:
        groups = []
        for group_id in dict.fromkeys(group_ids):
            group = self._groups.get(group_id)
            if group is None:
                raise ValidationFailed(f"No group {group_id!r}.", field="group_ids")
            groups.append(group)
        return groups
