"""Live chat sessions: opening, messages, routing on the first words, transfer, end and rating."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import UpdateError

from shopdesk import keys, text
from shopdesk.assignment import Assigner, agent_claim_condition
from shopdesk.auth import Principal, new_id
from shopdesk.clock import Clock, iso
from shopdesk.config import Settings
from shopdesk.db import TransactionFailed, transaction
from shopdesk.errors import (
    AlreadyAssigned,
    AlreadyRated,
    Conflict,
    MessageTooLong,
    NotFound,
    NotParticipant,
    OverCapacity,
    RateLimited,
    SessionClosed,
    ValidationFailed,
)
from shopdesk.models import (
    AgentModel,
    ClientMessageModel,
    GroupModel,
    MessageModel,
    RateWindowModel,
    Rating,
    SessionModel,
)
from shopdesk.notify import Connections
from shopdesk.reminders import Reminders
from shopdesk.repositories import (
    AgentRepository,
    GroupRepository,
    MessageRepository,
    Page,
    SessionRepository,
)
from shopdesk.routing import GroupRule, pick_group
from shopdesk.store import StoreSettings
from shopdesk.uploads import Uploads
from shopdesk.views import message_view, session_view

if TYPE_CHECKING:
    from shopdesk.bot import BotService
    from shopdesk.bot_mode import BotMode
    from shopdesk.metrics import Metrics

KINDS = ("text", "emoji", "image")
OPEN_FOR_VISITOR = ("new", "bot", "queued", "active")
BOT = Principal(role="bot", user_id="bot", name="智能助手")
RECENT_FOR_ROUTING = 20
HANDOVER_NOTE = "正在为您转接人工客服，请稍候…"
MAX_EMOJI_CHARS = 16
MAX_SEND_ATTEMPTS = 5
PREVIEW_CHARS = 60
RATE_WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Outgoing:
    session_id: str
    client_msg_id: str
    kind: str
    text: str = ""
    image_key: str | None = None
    ref: Mapping[str, str] | None = None  # the button a customer clicked in a bot turn


@dataclass(frozen=True)
class Sent:
    session: SessionModel
    message: MessageModel
    duplicate: bool


class ChatService:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        store: StoreSettings,
        sessions: SessionRepository,
        messages: MessageRepository,
        agents: AgentRepository,
        groups: GroupRepository,
        assigner: Assigner,
        connections: Connections,
        reminders: Reminders,
        uploads: Uploads,
        unsolved: Callable[[SessionModel, str], object] | None = None,
        bot_mode: BotMode | None = None,
        bot: Callable[[], BotService] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._store = store
        self._sessions = sessions
        self._messages = messages
        self._agents = agents
        self._groups = groups
        self._assigner = assigner
        self._connections = connections
        self._reminders = reminders
        self._uploads = uploads
        self._unsolved = unsolved
        self._bot_mode = bot_mode
        self._metrics = metrics
        self._bot = bot

    # --- reading -------------------------------------------------------------------------------

    def session(self, session_id: str) -> SessionModel:
        session = self._sessions.get(session_id)
        if session is None:
            raise NotFound("No such session.", session_id=session_id)
        return session

    def readable(self, principal: Principal, session_id: str) -> SessionModel:
        """A visitor reads their own sessions; an agent those they serve(d) or wait in their groups."""
        session = self.session(session_id)
        if principal.is_visitor:
            if session.visitor_id != principal.user_id:
                raise NotParticipant("This is another visitor's conversation.")
            return session
        if principal.has_role("admin", "leader") or session.agent_id == principal.user_id:
            return session
        agent = self._agents.get(principal.user_id)
        waiting_in_my_group = (
            session.status in ("queued", "offline")
            and agent is not None
            and (session.group_id in (agent.group_ids or []))
        )
        if not waiting_in_my_group:
            raise NotParticipant("This session is not assigned to you.")
        return session

    def history(
        self, principal: Principal, session_id: str, since: int, limit: int, cursor: str | None
    ) -> Page[MessageModel]:
        self.readable(principal, session_id)
        return self._messages.since(session_id, since, limit, cursor)

    def transcript(self, session_id: str, since: int, limit: int, cursor: str | None) -> Page[MessageModel]:
        """For a caller already entitled to it (a ticket's linked chat)."""
        return self._messages.since(session_id, since, limit, cursor)

    def last_customer_text(self, session: SessionModel) -> str:
        """What the customer said last, for agent assist: one Query over the latest messages."""
        since = max(0, int(session.last_seq) - RECENT_FOR_ROUTING)
        recent = self._messages.since(session.session_id, since, RECENT_FOR_ROUTING, None).items
        texts = [m.text for m in recent if m.sender_role == "visitor" and m.kind == "text" and m.text]
        return texts[-1] if texts else ""

    def position(self, session: SessionModel) -> int | None:
        if session.status != "queued" or not session.gsi2sk:
            return None
        return self._sessions.queue_position(session.group_id, session.gsi2sk)

    def view(self, session: SessionModel) -> dict[str, Any]:
        return session_view(session, self.position(session))

    # --- visitor side ----------------------------------------------------------------------------

    def open(
        self, principal: Principal, channel: str, page: str, resume_id: str | None, greet: bool = True
    ) -> SessionModel:
        """A new conversation, or the visitor's open one resumed. The bot takes it when the store says so."""
        if resume_id:
            resumed = self._sessions.get(resume_id)
            if resumed is not None and resumed.visitor_id == principal.user_id and resumed.status in OPEN_FOR_VISITOR:
                return resumed
        now = iso(self._clock.now())
        session_id = new_id("s")
        bot_config = self._bot_mode.takes_new_chats() if greet and self._bot_mode is not None else None
        greeting = self._bot().greeting(bot_config) if bot_config is not None and self._bot is not None else None
        session = SessionModel(
            keys.session_pk(session_id),
            keys.META_SK,
            session_id=session_id,
            visitor_id=principal.user_id,
            status="bot" if greeting is not None else "new",
            channel=channel,
            page=page,
            created_at=now,
            gsi1pk=keys.visitor_pk(principal.user_id),
            gsi1sk=keys.timeline_sk(now, session_id),
        )
        session.save(condition=SessionModel.pk.does_not_exist())
        if greeting is not None:
            self.bot_message(session, greeting.text, greeting.data)
        return session

    def rate(self, principal: Principal, session_id: str, stars: int, comment: str, solved: bool) -> SessionModel:
        session = self.readable(principal, session_id)
        if not principal.is_visitor:
            raise NotParticipant("Only the customer rates a conversation.")
        if session.status != "ended":
            raise SessionClosed("A conversation is rated once it has ended.")
        rating = Rating(stars=stars, comment=comment, solved=solved, rated_at=iso(self._clock.now()))
        try:
            session.update(
                actions=[SessionModel.rating.set(rating)],
                condition=SessionModel.rating.does_not_exist() & (SessionModel.status == "ended"),
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                raise AlreadyRated("This conversation has already been rated.") from error
            raise
        if solved and session.bot is not None and self._bot is not None:
            self._bot().record_resolved(session)
        if not solved and self._unsolved is not None:
            # 未解决用户自动流入工单池: a "not solved" vote becomes a ticket in the group's pool.
            self._unsolved(session, comment)
        return session

    def leave_offline_message(
        self, principal: Principal, body: str, contact: str, channel: str, page: str
    ) -> SessionModel:
        self._check_text("text", body)
        session = self.open(principal, channel, page, None, greet=False)
        group_id, _ = self._route(session, body)
        now = iso(self._clock.now())
        message = self._message(session, 1, principal, "text", body, None, new_id("offline"))
        with transaction() as tx:
            tx.update(
                "session",
                session,
                [
                    SessionModel.status.set("offline"),
                    SessionModel.group_id.set(group_id),
                    SessionModel.last_seq.set(1),
                    SessionModel.preview.set(body[:PREVIEW_CHARS]),
                    SessionModel.contact.set(contact),
                    SessionModel.gsi2pk.set(keys.offline_gsi(group_id)),
                    SessionModel.gsi2sk.set(keys.timeline_sk(now, session.session_id)),
                ],
                condition=SessionModel.status == "new",
            )
            tx.put("message", message, condition=MessageModel.pk.does_not_exist())
        return self.session(session.session_id)

    # --- messages --------------------------------------------------------------------------------

    def send(self, principal: Principal, outgoing: Outgoing) -> Sent:
        """Stores a message once, in order, and delivers it to every connection of both sides.

        Hot path, three DynamoDB requests: read the session, one transaction (sequence number,
        message, client-id guard, rate window), one batch read of both sides' connections.
        """
        self._check_content(outgoing)
        session = self.session(outgoing.session_id)
        self._check_writable(principal, session)
        if outgoing.kind == "image" and outgoing.image_key:
            self._uploads.verify(session.session_id, outgoing.image_key)
        config = self._store.config()
        for _ in range(MAX_SEND_ATTEMPTS):
            was_waiting = session.awaiting_since
            first_words = principal.is_visitor and session.consulted_at is None
            seq = int(session.last_seq) + 1
            message = self._message(
                session,
                seq,
                principal,
                outgoing.kind,
                outgoing.text,
                outgoing.image_key,
                outgoing.client_msg_id,
            )
            try:
                self._store_message(principal, session, message, int(config.messages_per_minute))
            except TransactionFailed as failure:
                if failure.failed_on("client_id"):
                    return self._duplicate(session, principal, outgoing.client_msg_id)
                if failure.failed_on("rate"):
                    raise RateLimited("Too many messages; wait a moment.") from failure
                session = self.session(outgoing.session_id)
                self._check_writable(principal, session)
                continue
            self._after_store(
                principal, session, message, was_waiting, int(config.first_response_seconds), outgoing.ref or {}
            )
            self._count(principal, session, first_words, was_waiting)
            return Sent(session=session, message=message, duplicate=False)
        raise Conflict("The conversation is busy; send again.")

    def _store_message(
        self, principal: Principal, session: SessionModel, message: MessageModel, per_minute: int
    ) -> None:
        now = iso(self._clock.now())
        seq = int(message.seq)
        actions: list[Any] = [SessionModel.last_seq.set(seq)]
        if principal.is_visitor:
            actions += [
                SessionModel.awaiting_since.set(SessionModel.awaiting_since | now),
                SessionModel.consulted_at.set(SessionModel.consulted_at | now),
                SessionModel.preview.set(
                    message.text[:PREVIEW_CHARS] if message.kind == "text" else f"[{message.kind}]"
                ),
            ]
            allowed: tuple[str, ...] = OPEN_FOR_VISITOR
        else:
            actions += [
                SessionModel.awaiting_since.remove(),
                SessionModel.first_response_at.set(SessionModel.first_response_at | now),
            ]
            allowed = ("active",)
        with transaction() as tx:
            tx.update(
                "session",
                session,
                actions,
                condition=(SessionModel.last_seq == seq - 1) & SessionModel.status.is_in(*allowed),
            )
            tx.put("message", message, condition=MessageModel.pk.does_not_exist())
            tx.put(
                "client_id",
                ClientMessageModel(
                    message.pk, keys.client_message_sk(message.sender_id, message.client_msg_id), seq=seq
                ),
                condition=ClientMessageModel.pk.does_not_exist(),
            )
            if principal.is_visitor:
                window = int(self._clock.now().timestamp()) // RATE_WINDOW_SECONDS * RATE_WINDOW_SECONDS
                tx.update(
                    "rate",
                    RateWindowModel(keys.rate_pk(principal.user_id), keys.rate_sk(window)),
                    [
                        RateWindowModel.messages.add(1),
                        RateWindowModel.expires_at.set(window + 2 * RATE_WINDOW_SECONDS),
                    ],
                    condition=RateWindowModel.messages.does_not_exist() | (RateWindowModel.messages < per_minute),
                )
        session.last_seq = seq
        if principal.is_visitor:
            session.awaiting_since = session.awaiting_since or now
        else:
            session.awaiting_since = None

    def _after_store(
        self,
        principal: Principal,
        session: SessionModel,
        message: MessageModel,
        was_waiting: str | None,
        threshold: int,
        ref: Mapping[str, str],
    ) -> None:
        if principal.is_visitor and session.status == "bot" and self._bot is not None:
            self.deliver(session, message)
            self._bot_turn(self._bot(), session, message, ref)
            return
        if principal.is_visitor and session.status == "new":
            # Route first, so the agent who gets the session also gets the words that routed it.
            self.route(session, message.text if message.kind == "text" else "")
        elif principal.is_visitor and session.status == "active" and not was_waiting and session.awaiting_since:
            self._reminders.start(session.session_id, session.awaiting_since, threshold)
        self.deliver(session, message)

    def _count(self, principal: Principal, session: SessionModel, first_words: bool, was_waiting: str | None) -> None:
        """The supervisor's counters, after delivery so the other side never waits for them."""
        if self._metrics is None:
            return
        if first_words:
            self._metrics.consulted(session.visitor_id)
        elif principal.is_staff:
            self._metrics.agent_replied(principal.user_id, session.visitor_id, was_waiting)

    def _duplicate(self, session: SessionModel, principal: Principal, client_msg_id: str) -> Sent:
        marker = ClientMessageModel.get(session.pk, keys.client_message_sk(principal.user_id, client_msg_id))
        message = MessageModel.get(session.pk, keys.message_sk(int(marker.seq)))
        return Sent(session=session, message=message, duplicate=True)

    def deliver(self, session: SessionModel, message: MessageModel) -> None:
        """To both sides; the other side first, since the sender already holds the message."""
        frame = {"type": "message", "session_id": session.session_id, "message": self.message_view(message)}
        sender = keys.principal_key(message.sender_role, message.sender_id)
        people = sorted(self._participants(session), key=lambda principal: principal == sender)
        self._connections.send_to(people, frame)

    def message_view(self, message: MessageModel) -> dict[str, Any]:
        return message_view(message, self._uploads.view_url)

    def signal(self, principal: Principal, session_id: str, frame: dict[str, Any]) -> None:
        """Typing and read receipts go to the other side only; nothing is stored."""
        session = self.readable(principal, session_id)
        if not principal.is_visitor and session.agent_id != principal.user_id:
            raise NotParticipant("This session is not assigned to you.")
        side = "visitor" if principal.is_visitor else "agent"
        me = keys.principal_key(side, principal.user_id)
        others = [p for p in self._participants(session) if p != me]
        self._connections.send_to(others, {**frame, "session_id": session_id, "role": side})

    # --- routing and assignment --------------------------------------------------------------------

    def _route(self, session: SessionModel, first_words: str) -> tuple[str, GroupModel | None]:
        """The group the words pick, read in the same Query that lists the groups."""
        groups = {g.group_id: g for g in self._groups.all()}
        config = self._store.config()
        rules = [
            GroupRule(g.group_id, tuple(g.keywords or ()), tuple(g.channels or ()), bool(g.is_default))
            for g in groups.values()
        ]
        text.teach(k for rule in rules for k in rule.keywords)
        chosen = pick_group(text.tokens(first_words), session.channel, rules, self._store.channel_rules())
        group_id = chosen or config.default_group_id or "default"
        return group_id, groups.get(group_id)

    def route(self, session: SessionModel, first_words: str) -> None:
        group_id, group = self._route(session, first_words)
        self.place(session, group, group_id)

    def place(self, session: SessionModel, group: GroupModel | None, group_id: str, exclude: str = "") -> None:
        """Assigns within the group, or queues the session and tells the visitor their position."""
        agent = self._assigner.assign_in_group(session, group, exclude) if group is not None else None
        if agent is not None:
            return
        position = self._assigner.enqueue(session, group_id)  # pynamodb refreshes `session` from the write
        self._assigner.announce_queued(session, group, position)

    def accept(self, principal: Principal, session_id: str) -> SessionModel:
        session = self.session(session_id)
        agent = self._agents.require(principal.user_id)
        if session.group_id not in (agent.group_ids or []) and not principal.has_role("leader", "admin"):
            raise NotParticipant("This session waits in a group you are not in.")
        if session.status not in ("queued", "offline"):
            raise AlreadyAssigned("Someone has already taken this session.")
        group = self._groups.get(session.group_id)
        try:
            self._assigner.claim(session, agent, group)
        except TransactionFailed as failure:
            if failure.failed_on("session"):
                raise AlreadyAssigned("Someone has already taken this session.") from failure
            raise OverCapacity("You have no free capacity, or you are not online.") from failure
        self._assigner.announce(session, agent)
        self._assigner.announce_queue(session.group_id)
        return session

    def transfer(
        self,
        principal: Principal,
        session_id: str,
        reason: str,
        to_agent_id: str | None,
        to_group_id: str | None,
    ) -> SessionModel:
        if bool(to_agent_id) == bool(to_group_id):
            raise ValidationFailed("Name either an agent or a group to transfer to.", field="to_agent_id")
        if not reason.strip():
            raise ValidationFailed("A transfer needs a reason.", field="reason")
        session = self._active_for(principal, session_id)
        from_agent = self._agents.require(session.agent_id)
        if to_agent_id:
            target = self._agents.require(to_agent_id)
            if target.agent_id == from_agent.agent_id:
                raise ValidationFailed("The session is already with this agent.", field="to_agent_id")
            self._move(session, from_agent, target)
            note = f"会话由 {from_agent.name} 转接给 {target.name}，原因：{reason}"
            self.system_message(session, note)
            self._assigner.announce(session, target)
        else:
            group = self._groups.get(to_group_id or "")
            if group is None:
                raise NotFound("No such group.", group_id=to_group_id)
            self._release(session, from_agent, group.group_id)
            self.system_message(session, f"会话由 {from_agent.name} 转接到 {group.name}，原因：{reason}")
            self.place(session, group, group.group_id, exclude=from_agent.agent_id)
        moved = self.session(session_id)
        self._connections.send_to(
            [keys.principal_key("agent", from_agent.agent_id)], {"type": "session", "session": session_view(moved)}
        )
        self._assigner.drain(from_agent.agent_id)
        return moved

    def end(self, principal: Principal, session_id: str) -> SessionModel:
        session = self._active_for(principal, session_id)
        agent_id = session.agent_id
        now = iso(self._clock.now())
        with transaction() as tx:
            tx.update(
                "session",
                session,
                [
                    SessionModel.status.set("ended"),
                    SessionModel.ended_at.set(now),
                    SessionModel.awaiting_since.remove(),
                    SessionModel.gsi2pk.set(keys.agent_sessions_gsi(agent_id, "ended")),
                    SessionModel.gsi2sk.set(keys.timeline_sk(now, session_id)),
                ],
                condition=(SessionModel.status == "active") & (SessionModel.agent_id == agent_id),
            )
            tx.update(
                "agent",
                AgentModel(keys.agent_pk(agent_id), keys.PROFILE_SK),
                [AgentModel.active_count.add(-1)],
            )
        ended = self.session(session_id)
        self._connections.send_to(self._participants(ended), {"type": "session", "session": session_view(ended)})
        self._assigner.drain(agent_id)
        return ended

    def finish_with_bot(self, principal: Principal, session_id: str) -> SessionModel:
        """The customer closes a chat the bot served alone; they may rate it like any other."""
        session = self.readable(principal, session_id)
        if not principal.is_visitor:
            raise NotParticipant("Only the customer closes a chat with the bot.")
        try:
            session.update(
                actions=[SessionModel.status.set("ended"), SessionModel.ended_at.set(iso(self._clock.now()))],
                condition=SessionModel.status == "bot",
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                raise SessionClosed("Only a chat the bot is serving can be closed by the customer.") from error
            raise
        self._connections.send_to(self._participants(session), {"type": "session", "session": session_view(session)})
        return session

    def system_message(self, session: SessionModel, note: str) -> None:
        self._append(session, Principal(role="system", user_id="system", name="系统"), "text", note, None)

    def bot_message(
        self, session: SessionModel, text: str, data: Mapping[str, Any], changes: list[Any] | None = None
    ) -> None:
        """A bot turn, with what else it changes on the session (the bot's state) in the same write."""
        self._append(session, BOT, "bot", text, dict(data) or None, changes or [])

    def _append(
        self,
        session: SessionModel,
        sender: Principal,
        kind: str,
        body: str,
        data: dict[str, Any] | None,
        changes: list[Any] | None = None,
    ) -> None:
        for _ in range(MAX_SEND_ATTEMPTS):
            seq = int(session.last_seq) + 1
            message = self._message(session, seq, sender, kind, body, None, new_id(sender.role[:3]))
            message.data = data
            actions: list[Any] = [SessionModel.last_seq.set(seq), *(changes or [])]
            try:
                with transaction() as tx:
                    tx.update("session", session, actions, condition=SessionModel.last_seq == seq - 1)
                    tx.put("message", message, condition=MessageModel.pk.does_not_exist())
            except TransactionFailed:
                session = self.session(session.session_id)
                continue
            session.last_seq = seq
            self.deliver(session, message)
            return
        raise Conflict("The conversation is busy; try again.")

    # --- the bot ---------------------------------------------------------------------------------

    def _bot_turn(self, bot: BotService, session: SessionModel, message: MessageModel, ref: Mapping[str, str]) -> None:
        from shopdesk.bot import Ref  # the bot's modules load only where a bot serves

        changes: list[Any] = []
        if not session.group_id:
            # The first words pick the group, so the bot's figures count per group and a handover goes there.
            session.group_id = self._route(session, message.text)[0]
            changes.append(SessionModel.group_id.set(session.group_id))
        clicked = Ref(kind=ref.get("kind", ""), id=ref.get("id", ""), entry_id=ref.get("entry_id", ""))
        turn = bot.respond(session, message.text if message.kind == "text" else "", clicked)
        if turn.handover:
            turn.state["handed_over"] = turn.handover
        changes.append(SessionModel.bot.set(turn.state))
        # The bot's state (and the group) are written with its last reply, or alone when it only hands over.
        for n, reply in enumerate(turn.replies):
            self.bot_message(session, reply.text, reply.data, changes if n == len(turn.replies) - 1 else [])
        if not turn.replies:
            session.update(actions=changes)
        if turn.handover:
            self.system_message(session, HANDOVER_NOTE)
            self.place(session, self._groups.get(session.group_id), session.group_id)

    # --- helpers ---------------------------------------------------------------------------------

    def _move(self, session: SessionModel, source: AgentModel, target: AgentModel) -> None:
        now = iso(self._clock.now())
        try:
            with transaction() as tx:
                tx.update(
                    "session",
                    session,
                    [
                        SessionModel.agent_id.set(target.agent_id),
                        SessionModel.agent_name.set(target.name),
                        SessionModel.assigned_at.set(now),
                        SessionModel.transfers.add(1),
                        SessionModel.gsi2pk.set(keys.agent_sessions_gsi(target.agent_id, "active")),
                        SessionModel.gsi2sk.set(keys.timeline_sk(now, session.session_id)),
                    ],
                    condition=(SessionModel.status == "active") & (SessionModel.agent_id == source.agent_id),
                )
                tx.update("from", source, [AgentModel.active_count.add(-1)])
                tx.update(
                    "to",
                    target,
                    [AgentModel.active_count.add(1), AgentModel.last_assigned_at.set(now)],
                    condition=agent_claim_condition(),
                )
        except TransactionFailed as failure:
            if failure.failed_on("to"):
                raise OverCapacity(f"{target.name} has no free capacity or is not online.") from failure
            raise Conflict("The session changed meanwhile; reload it.") from failure
        session.agent_id, session.agent_name = target.agent_id, target.name

    def _release(self, session: SessionModel, source: AgentModel, group_id: str) -> None:
        """Hands the session back to a group's queue, freeing the agent's capacity."""
        now = iso(self._clock.now())
        try:
            with transaction() as tx:
                tx.update(
                    "session",
                    session,
                    [
                        SessionModel.status.set("queued"),
                        SessionModel.group_id.set(group_id),
                        SessionModel.agent_id.set(""),
                        SessionModel.agent_name.set(""),
                        SessionModel.queued_at.set(now),
                        SessionModel.transfers.add(1),
                        SessionModel.gsi2pk.set(keys.queue_gsi(group_id)),
                        SessionModel.gsi2sk.set(keys.timeline_sk(now, session.session_id)),
                    ],
                    condition=(SessionModel.status == "active") & (SessionModel.agent_id == source.agent_id),
                )
                tx.update("from", source, [AgentModel.active_count.add(-1)])
        except TransactionFailed as failure:
            raise Conflict("The session changed meanwhile; reload it.") from failure
        session.status, session.group_id, session.agent_id, session.agent_name = "queued", group_id, "", ""

    def _active_for(self, principal: Principal, session_id: str) -> SessionModel:
        session = self.session(session_id)
        if principal.is_visitor:
            raise NotParticipant("Visitors cannot do this.")
        if session.agent_id != principal.user_id and not principal.has_role("leader", "admin"):
            raise NotParticipant("This session is not assigned to you.")
        if session.status != "active":
            raise SessionClosed("The session is not active.")
        return session

    def _check_writable(self, principal: Principal, session: SessionModel) -> None:
        if principal.is_visitor:
            if session.visitor_id != principal.user_id:
                raise NotParticipant("This is another visitor's conversation.")
            if session.status not in OPEN_FOR_VISITOR:
                raise SessionClosed("This conversation has ended; start a new one.")
            return
        if session.agent_id != principal.user_id:
            raise NotParticipant("This session is not assigned to you.")
        if session.status != "active":
            raise SessionClosed("This conversation is not active.")

    def _check_content(self, outgoing: Outgoing) -> None:
        if outgoing.kind not in KINDS:
            raise ValidationFailed(f"kind must be one of {', '.join(KINDS)}.", field="kind")
        if not outgoing.client_msg_id or len(outgoing.client_msg_id) > 64:
            raise ValidationFailed("client_msg_id is required (at most 64 characters).", field="client_msg_id")
        if outgoing.kind == "image":
            if not outgoing.image_key:
                raise ValidationFailed("An image message needs image_key.", field="image_key")
            return
        self._check_text(outgoing.kind, outgoing.text)

    def _check_text(self, kind: str, body: str) -> None:
        if not body.strip():
            raise ValidationFailed("The message is empty.", field="text")
        if len(body) > self._settings.max_message_chars:
            raise MessageTooLong(
                f"A message holds at most {self._settings.max_message_chars} characters.", length=len(body)
            )
        if kind == "emoji" and len(body) > MAX_EMOJI_CHARS:
            raise ValidationFailed("An emoji message holds emoji only.", field="text")

    def _message(
        self,
        session: SessionModel,
        seq: int,
        sender: Principal,
        kind: str,
        body: str,
        image_key: str | None,
        client_msg_id: str,
    ) -> MessageModel:
        role = "visitor" if sender.is_visitor else (sender.role if sender.role in ("system", "bot") else "agent")
        return MessageModel(
            session.pk,
            keys.message_sk(seq),
            session_id=session.session_id,
            seq=seq,
            sender_role=role,
            sender_id=sender.user_id,
            sender_name=sender.name or (session.agent_name if role == "agent" else ""),
            kind=kind,
            text=body if kind != "image" else "",
            image_key=image_key,
            client_msg_id=client_msg_id,
            created_at=iso(self._clock.now()),
        )

    def _participants(self, session: SessionModel) -> list[str]:
        people = [keys.principal_key("visitor", session.visitor_id)]
        if session.agent_id:
            people.append(keys.principal_key("agent", session.agent_id))
        return people
