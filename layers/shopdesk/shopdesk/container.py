"""The composition root: builds each service once per container, from settings and a clock."""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from shopdesk import aws
from shopdesk.assignment import Assigner
from shopdesk.auth import Authenticator, StoreSecret
from shopdesk.bot_mode import BotMode
from shopdesk.clock import Clock, SystemClock
from shopdesk.config import Settings, get_settings
from shopdesk.directory import GroupDirectory
from shopdesk.notify import Connections
from shopdesk.quick_replies import QuickReplies
from shopdesk.reminders import Reminders
from shopdesk.repositories import (
    AgentRepository,
    BotConfigRepository,
    ConnectionRepository,
    FirstQuestionRepository,
    GroupRepository,
    KnowledgeRepository,
    MessageRepository,
    OrderRepository,
    QuickReplyRepository,
    SessionRepository,
    StoreRepository,
    TicketRepository,
    UnansweredRepository,
    VisitorRepository,
)
from shopdesk.sessions import ChatService
from shopdesk.staff import StaffService
from shopdesk.store import StoreSettings
from shopdesk.uploads import Uploads
from shopdesk.visitors import VisitorService

if TYPE_CHECKING:
    from shopdesk.alerts import AlertSettings
    from shopdesk.artifacts import Artifacts
    from shopdesk.audit import AuditLog
    from shopdesk.bot import BotService
    from shopdesk.dispatch import Dispatcher
    from shopdesk.first_questions import FirstQuestions
    from shopdesk.knowledge import KnowledgeBase
    from shopdesk.learning import Unanswered
    from shopdesk.metrics import Metrics
    from shopdesk.monitor import Monitor
    from shopdesk.order_book import OrderBook
    from shopdesk.sla_policies import SlaPolicies
    from shopdesk.tickets import TicketService


class Container:
    def __init__(self, settings: Settings | None = None, clock: Clock | None = None) -> None:
        self.settings = settings or get_settings()
        self.clock = clock or SystemClock()

    def _client(self, service: str) -> Any:
        return aws.client(service)

    def _management(self) -> Any:
        return aws.client("apigatewaymanagementapi", endpoint_url=self.settings.ws_callback_url)

    @cached_property
    def agents(self) -> AgentRepository:
        return AgentRepository()

    @cached_property
    def groups(self) -> GroupRepository:
        return GroupRepository()

    @cached_property
    def sessions(self) -> SessionRepository:
        return SessionRepository()

    @cached_property
    def visitors(self) -> VisitorRepository:
        return VisitorRepository()

    @cached_property
    def store_repo(self) -> StoreRepository:
        return StoreRepository()

    @cached_property
    def store(self) -> StoreSettings:
        return StoreSettings(self.clock, self.store_repo)

    @cached_property
    def auth(self) -> Authenticator:
        return Authenticator(self.settings, self.clock, self.store_secret)

    @cached_property
    def store_secret(self) -> StoreSecret:
        return StoreSecret(self.settings, self._client)

    @cached_property
    def connections(self) -> Connections:
        return Connections(self.clock, self._management, ConnectionRepository())

    @cached_property
    def assigner(self) -> Assigner:
        return Assigner(
            self.clock, self.agents, self.groups, self.sessions, self.connections, self.reminders, self.store
        )

    @cached_property
    def uploads(self) -> Uploads:
        return Uploads(self.settings, lambda: self._client("s3"))

    @cached_property
    def reminders(self) -> Reminders:
        return Reminders(self.settings, self.clock, lambda: self._client("sqs"), self.sessions, self.connections)

    @cached_property
    def chat(self) -> ChatService:
        return ChatService(
            self.settings,
            self.clock,
            self.store,
            self.sessions,
            MessageRepository(),
            self.agents,
            self.groups,
            self.assigner,
            self.connections,
            self.reminders,
            self.uploads,
            unsolved=lambda session, comment: self.tickets.create_for_unsolved(session, comment),
            bot_mode=self.bot_mode,
            bot=lambda: self.bot,
            metrics=self.metrics,
        )

    @cached_property
    def metrics(self) -> Metrics:
        # Imported on first use, as the other services beyond the chat's core are.
        from shopdesk.metrics import Metrics

        return Metrics(
            self.clock,
            self._timezone,
            lambda: timedelta(hours=float(self.store.config().guided_window_hours)),
        )

    def _timezone(self) -> str:
        return self.store.config().business_hours.timezone or "Asia/Shanghai"

    @cached_property
    def bot_mode(self) -> BotMode:
        return BotMode(BotConfigRepository(), self.store, lambda: int(self.store_repo.presence().online_agents))

    @cached_property
    def staff(self) -> StaffService:
        return StaffService(self.settings, lambda: self._client("cognito-idp"), self.agents, self.groups, self.assigner)

    @cached_property
    def quick_replies(self) -> QuickReplies:
        return QuickReplies(QuickReplyRepository())

    @cached_property
    def visitor_ids(self) -> VisitorService:
        return VisitorService(self.clock, self.auth)

    @cached_property
    def directory(self) -> GroupDirectory:
        return GroupDirectory(self.clock, self.groups)

    @cached_property
    def tickets(self) -> TicketService:
        # Imported on first use: only the functions that handle tickets pay for it at cold start.
        from shopdesk.tickets import TicketService

        return TicketService(
            self.settings,
            self.clock,
            self.store,
            TicketRepository(),
            self.sessions,
            self.agents,
            self.directory,
            self.connections,
            self.uploads,
            lambda: self._client("stepfunctions"),
        )

    @cached_property
    def sla_policies(self) -> SlaPolicies:
        from shopdesk.sla_policies import SlaPolicies

        return SlaPolicies(self.store_repo, self.store)

    # The bot and its knowledge base load on first use: only chats the bot serves pay for them.

    @cached_property
    def artifacts(self) -> Artifacts:
        from shopdesk.artifacts import Artifacts

        return Artifacts(self.settings, lambda: self._client("s3"))

    @cached_property
    def knowledge(self) -> KnowledgeBase:
        from shopdesk.knowledge import IndexCache, KnowledgeBase

        return KnowledgeBase(self.clock, KnowledgeRepository(), BotConfigRepository(), self.artifacts, IndexCache())

    @cached_property
    def first_questions(self) -> FirstQuestions:
        from shopdesk.first_questions import FirstQuestions

        return FirstQuestions(FirstQuestionRepository(), KnowledgeRepository())

    @cached_property
    def unanswered(self) -> Unanswered:
        from shopdesk.learning import Unanswered

        return Unanswered(self.clock, UnansweredRepository())

    @cached_property
    def orders(self) -> OrderBook:
        from shopdesk.order_book import OrderBook

        return OrderBook(
            self.clock,
            OrderRepository(),
            self.artifacts,
            lambda order: self.metrics.paid(order, lambda visitor: self.sessions.of_visitor(visitor, 10, None).items),
        )

    @cached_property
    def bot(self) -> BotService:
        from shopdesk.bot import BotService, ClassifierCache
        from shopdesk.bot_stats import BotStats

        return BotService(
            BotConfigRepository(),
            self.knowledge,
            KnowledgeRepository(),
            self.first_questions,
            BotStats(self.clock, self._timezone),
            self.unanswered,
            self.orders,
            self.artifacts,
            ClassifierCache(),
        )

    # The supervisor's monitoring, alerts and dispatch.

    @cached_property
    def alert_settings(self) -> AlertSettings:
        from shopdesk.alerts import AlertSettings

        return AlertSettings(self.clock, lambda: self._client("sns"), self.settings.supervisor_topic_arn)

    @cached_property
    def monitor(self) -> Monitor:
        from shopdesk.monitor import Monitor

        return Monitor(
            self.clock, self._timezone, self.agents, self.groups, self.metrics, self.alert_settings, self.connections
        )

    @cached_property
    def audit(self) -> AuditLog:
        from shopdesk.audit import AuditLog
        from shopdesk.repositories import AuditRepository

        return AuditLog(self.clock, AuditRepository(), self.agents)

    @cached_property
    def dispatcher(self) -> Dispatcher:
        from shopdesk.dispatch import Dispatcher

        return Dispatcher(self.staff, self.agents, self.audit)
