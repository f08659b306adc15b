"""Small repositories over the pynamodb models: every read is a GetItem, BatchGetItem or Query."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition

from shopdesk import keys
from shopdesk.errors import NotFound
from shopdesk.models import (
    AgentModel,
    AuditModel,
    BotConfigModel,
    ConnectionModel,
    ConnectionSetModel,
    FirstQuestionModel,
    GroupModel,
    Item,
    KbEntryModel,
    MessageModel,
    OrderModel,
    PresenceModel,
    QuickReplyModel,
    SessionModel,
    StoreConfigModel,
    TicketEventModel,
    TicketModel,
    UnansweredModel,
    VisitorModel,
)
from shopdesk.pagination import decode_cursor, encode_cursor


@dataclass(frozen=True)
class Page[T]:
    items: list[T]
    next_cursor: str | None


def _page[T](result: Any, items: list[T]) -> Page[T]:
    return Page(items=items, next_cursor=encode_cursor(result.last_evaluated_key))


class StoreRepository:
    def config(self) -> StoreConfigModel:
        try:
            return StoreConfigModel.get(keys.STORE_PK, keys.CONFIG_SK)
        except DoesNotExist:
            return StoreConfigModel(keys.STORE_PK, keys.CONFIG_SK)

    def presence(self) -> PresenceModel:
        try:
            return PresenceModel.get(keys.STORE_PK, keys.PRESENCE_SK)
        except DoesNotExist:
            return PresenceModel(keys.STORE_PK, keys.PRESENCE_SK)


BATCH_LIMIT = 100


def batch_items(wanted: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """Raw items of any entity types in one BatchGetItem per 100 keys (plus retries of unprocessed keys)."""
    connection = Item._get_connection()
    table = connection.table_name
    pending = [{"pk": pk, "sk": sk} for pk, sk in dict.fromkeys(wanted)]
    found: list[dict[str, Any]] = []
    while pending:
        page, pending = pending[:BATCH_LIMIT], pending[BATCH_LIMIT:]
        response = connection.batch_get_item(page)  # type: ignore[arg-type]  # typed as str, takes key maps
        found += response.get("Responses", {}).get(table, [])
        left = response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
        pending += [{name: value["S"] for name, value in key.items()} for key in left]
    return found


class AgentRepository:
    def get(self, agent_id: str) -> AgentModel | None:
        try:
            return AgentModel.get(keys.agent_pk(agent_id), keys.PROFILE_SK, consistent_read=True)
        except DoesNotExist:
            return None

    def require(self, agent_id: str) -> AgentModel:
        agent = self.get(agent_id)
        if agent is None:
            raise NotFound("No such agent.", agent_id=agent_id)
        return agent

    def many(self, agent_ids: Iterable[str]) -> list[AgentModel]:
        wanted = list(dict.fromkeys(agent_ids))
        if not wanted:
            return []
        return list(AgentModel.batch_get([(keys.agent_pk(a), keys.PROFILE_SK) for a in wanted]))

    def with_connections(
        self, agent_ids: Sequence[str], principals: Sequence[str]
    ) -> tuple[list[AgentModel], dict[str, set[str]]] | None:
        """Agent profiles and these people's open connections, in one BatchGetItem.

        None when they do not fit in one request; callers then read them separately.
        """
        wanted = [(keys.agent_pk(a), keys.PROFILE_SK) for a in dict.fromkeys(agent_ids)]
        wanted += [(keys.connection_set_pk(p), keys.SET_SK) for p in dict.fromkeys(principals)]
        if len(wanted) > BATCH_LIMIT:
            return None
        agents: list[AgentModel] = []
        connections: dict[str, set[str]] = {p: set() for p in principals}
        for raw in batch_items(wanted):
            if raw["pk"]["S"].startswith("AGENT#"):
                agents.append(AgentModel.from_raw_data(raw))
            else:
                found = ConnectionSetModel.from_raw_data(raw)
                connections[found.pk.removeprefix("CONNS#")] = set(found.connection_ids or ())
        return agents, connections

    def page(self, limit: int, cursor: str | None) -> Page[AgentModel]:
        result = AgentModel.by_list.query(keys.AGENTS_LIST, limit=limit, last_evaluated_key=decode_cursor(cursor))
        items = list(result)
        return _page(result, items)

    def all(self) -> list[AgentModel]:
        """The store's staff, for the supervisor's refresh: one Query, paginated by pynamodb."""
        return list(AgentModel.by_list.query(keys.AGENTS_LIST))


class GroupRepository:
    def get(self, group_id: str) -> GroupModel | None:
        try:
            return GroupModel.get(keys.group_pk(group_id), keys.META_SK)
        except DoesNotExist:
            return None

    def all(self) -> list[GroupModel]:
        """A store has a handful of groups: one Query on the group list reads them all."""
        return list(GroupModel.by_list.query(keys.GROUPS_LIST))


class SessionRepository:
    def get(self, session_id: str) -> SessionModel | None:
        try:
            return SessionModel.get(keys.session_pk(session_id), keys.META_SK, consistent_read=True)
        except DoesNotExist:
            return None

    def of_visitor(self, visitor_id: str, limit: int, cursor: str | None) -> Page[SessionModel]:
        result = SessionModel.by_visitor.query(
            keys.visitor_pk(visitor_id),
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=decode_cursor(cursor),
        )
        return _page(result, list(result))

    def owned(self, owner: str, limit: int, cursor: str | None, newest_first: bool = True) -> Page[SessionModel]:
        result = SessionModel.by_owner.query(
            owner, scan_index_forward=not newest_first, limit=limit, last_evaluated_key=decode_cursor(cursor)
        )
        return _page(result, list(result))

    def queue_head(self, group_id: str) -> SessionModel | None:
        head: SessionModel | None = next(iter(SessionModel.by_owner.query(keys.queue_gsi(group_id), limit=1)), None)
        return head

    def queue_position(self, group_id: str, queued_sk: str) -> int:
        """1 for the next in line: counts who queued before, with a key-condition Query."""
        ahead = SessionModel.by_owner.count(keys.queue_gsi(group_id), SessionModel.gsi2sk <= queued_sk)
        return int(ahead)


class MessageRepository:
    def since(self, session_id: str, since_seq: int, limit: int, cursor: str | None) -> Page[MessageModel]:
        result = MessageModel.query(
            keys.session_pk(session_id),
            MessageModel.sk.between(keys.message_sk(since_seq + 1), keys.message_sk(10**keys.SEQ_WIDTH - 1)),
            limit=limit,
            last_evaluated_key=decode_cursor(cursor),
        )
        return _page(result, list(result))

    def latest(self, session_id: str, limit: int) -> list[MessageModel]:
        result = MessageModel.query(
            keys.session_pk(session_id),
            MessageModel.sk.startswith("MSG#"),
            scan_index_forward=False,
            limit=limit,
        )
        return list(reversed(list(result)))


class ConnectionRepository:
    def get(self, connection_id: str) -> ConnectionModel | None:
        try:
            return ConnectionModel.get(keys.connection_pk(connection_id), keys.META_SK)
        except DoesNotExist:
            return None

    def of_principals(self, principals: Sequence[str]) -> dict[str, set[str]]:
        """Every open connection of these people, in one BatchGetItem."""
        wanted = list(dict.fromkeys(principals))
        found = {p: set[str]() for p in wanted}
        if not wanted:
            return found
        for item in ConnectionSetModel.batch_get([(keys.connection_set_pk(p), keys.SET_SK) for p in wanted]):
            found[item.pk.removeprefix("CONNS#")] = set(item.connection_ids or ())
        return found


class VisitorRepository:
    def get(self, visitor_id: str) -> VisitorModel | None:
        try:
            return VisitorModel.get(keys.visitor_pk(visitor_id), keys.PROFILE_SK)
        except DoesNotExist:
            return None


class QuickReplyRepository:
    def of_owner(self, owner_agent_id: str | None) -> list[QuickReplyModel]:
        return list(QuickReplyModel.query(keys.quick_reply_pk(owner_agent_id), limit=200))


@dataclass(frozen=True)
class TicketQuery:
    """A ticket list's filters. `list_key`/`sort_range` pick the index; the rest filter within it."""

    index: str
    list_key: str
    sort_from: str | None = None
    sort_to: str | None = None
    newest_first: bool = True
    condition: Condition | None = None


class TicketRepository:
    def get(self, ticket_id: str) -> TicketModel | None:
        try:
            return TicketModel.get(keys.ticket_pk(ticket_id), keys.META_SK, consistent_read=True)
        except DoesNotExist:
            return None

    def require(self, ticket_id: str) -> TicketModel:
        ticket = self.get(ticket_id)
        if ticket is None:
            raise NotFound("No such ticket.", ticket_id=ticket_id)
        return ticket

    def list(self, query: TicketQuery, limit: int, cursor: str | None) -> Page[TicketModel]:
        index = getattr(TicketModel, query.index)
        sort_key = getattr(TicketModel, f"{index.Meta.index_name}sk")
        range_condition = None
        if query.sort_from is not None and query.sort_to is not None:
            range_condition = sort_key.between(query.sort_from, query.sort_to)
        elif query.sort_from is not None:
            range_condition = sort_key >= query.sort_from
        elif query.sort_to is not None:
            range_condition = sort_key <= query.sort_to
        result = index.query(
            query.list_key,
            range_condition,
            filter_condition=query.condition,
            scan_index_forward=not query.newest_first,
            limit=limit,
            last_evaluated_key=decode_cursor(cursor),
        )
        return _page(result, list(result))

    def of_customer(self, visitor_id: str, limit: int, cursor: str | None) -> Page[TicketModel]:
        result = TicketModel.by_customer.query(
            keys.visitor_tickets_gsi(visitor_id),
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=decode_cursor(cursor),
        )
        return _page(result, list(result))

    def events(self, ticket_id: str, limit: int, cursor: str | None, public_only: bool) -> Page[TicketEventModel]:
        result = TicketEventModel.query(
            keys.ticket_pk(ticket_id),
            TicketEventModel.sk.startswith("EVENT#"),
            filter_condition=(TicketEventModel.public == True) if public_only else None,  # noqa: E712
            limit=limit,
            last_evaluated_key=decode_cursor(cursor),
        )
        return _page(result, list(result))


class BotConfigRepository:
    def get(self) -> BotConfigModel:
        """Read consistently: a mode switch or a new index applies from the next message on."""
        try:
            return BotConfigModel.get(keys.STORE_PK, keys.BOT_SK, consistent_read=True)
        except DoesNotExist:
            return BotConfigModel(keys.STORE_PK, keys.BOT_SK)


class KnowledgeRepository:
    def get(self, entry_id: str) -> KbEntryModel | None:
        try:
            return KbEntryModel.get(keys.kb_entry_pk(entry_id), keys.META_SK, consistent_read=True)
        except DoesNotExist:
            return None

    def require(self, entry_id: str) -> KbEntryModel:
        entry = self.get(entry_id)
        if entry is None:
            raise NotFound("No such knowledge-base entry.", entry_id=entry_id)
        return entry

    def many(self, entry_ids: Iterable[str]) -> dict[str, KbEntryModel]:
        wanted = list(dict.fromkeys(entry_ids))
        if not wanted:
            return {}
        found = KbEntryModel.batch_get([(keys.kb_entry_pk(e), keys.META_SK) for e in wanted])
        return {entry.entry_id: entry for entry in found}

    def page(self, category: str | None, limit: int, cursor: str | None) -> Page[KbEntryModel]:
        index = KbEntryModel.by_category if category else KbEntryModel.by_list
        list_key = keys.kb_category_gsi(category) if category else keys.KB_LIST
        result = index.query(list_key, limit=limit, last_evaluated_key=decode_cursor(cursor))
        return _page(result, list(result))

    def all(self) -> list[KbEntryModel]:
        """The whole knowledge base (bounded by the import limit), for the index build and exports."""
        return list(KbEntryModel.by_list.query(keys.KB_LIST))


class FirstQuestionRepository:
    def all(self) -> list[FirstQuestionModel]:
        found = FirstQuestionModel.query(keys.FIRST_QUESTIONS_PK)
        return sorted(found, key=lambda question: (int(question.position), question.question_id))


class UnansweredRepository:
    def page(self, limit: int, cursor: str | None) -> Page[UnansweredModel]:
        result = UnansweredModel.by_rank.query(
            keys.UNANSWERED_OPEN, scan_index_forward=False, limit=limit, last_evaluated_key=decode_cursor(cursor)
        )
        return _page(result, list(result))

    def get(self, question_id: str) -> UnansweredModel | None:
        try:
            return UnansweredModel.get(keys.UNANSWERED_PK, keys.unanswered_sk(question_id))
        except DoesNotExist:
            return None


class OrderRepository:
    def get(self, order_number: str) -> OrderModel | None:
        try:
            return OrderModel.get(keys.order_pk(order_number), keys.META_SK)
        except DoesNotExist:
            return None


class AuditRepository:
    def page(self, limit: int, cursor: str | None) -> Page[AuditModel]:
        result = AuditModel.query(
            keys.AUDIT_PK, scan_index_forward=False, limit=limit, last_evaluated_key=decode_cursor(cursor)
        )
        return _page(result, list(result))
